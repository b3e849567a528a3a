"""``patchwave hosts trust``: fetch an SSH host key, show its fingerprint, pin it after a yes.

Keys go to the tenant's known_hosts file (``<known_hosts_dir>/<tenant>``), the only place the SSH
endpoint trusts. Nothing is pinned without an explicit confirmation, ``--yes`` or a matching
``--fingerprint``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

import typer

from patchwave.cli.common import app, console, handle_errors
from patchwave.errors import UserError

hosts_app = typer.Typer(help="SSH hosts: pin their host keys.", no_args_is_help=True)
app.add_typer(hosts_app, name="hosts")


@dataclass(frozen=True, slots=True)
class InventoryHost:
    tenant: str
    address: str
    port: int = 22


def _lookup_inventory_host(name: str) -> InventoryHost | None:
    """Resolve an inventory host name to its tenant and SSH address (``address`` may carry
    ``:port``); ``None`` when the inventory has no such host (then --address and --tenant are
    required)."""
    from patchwave.errors import NotFound
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import find_host

    try:
        with open_store().session() as session:
            host = find_host(session, name)
    except NotFound:
        return None
    return InventoryHost(tenant=host.tenant, address=host.address or host.name)


def _resolve(
    host: str | None, address: str | None, port: int | None, tenant: str | None
) -> tuple[str, str, int]:
    from patchwave.endpoints.ssh import split_address

    found = _lookup_inventory_host(host) if host else None
    if found is not None:
        tenant = tenant or found.tenant
        if address is None:
            address, default_port = split_address(found.address, found.port)
            port = port or default_port
    if address is None and host is not None and found is None and tenant is not None:
        address = host  # a bare name or address given on the command line
    if address is None or tenant is None:
        what = f"host {host!r} is not in the inventory; " if host else ""
        raise UserError(
            f"{what}give --address and --tenant (e.g. --address 10.0.0.5 --tenant acme)"
        )
    address, parsed_port = split_address(address, port or 22)
    return tenant, address, port or parsed_port


@hosts_app.command("trust")
@handle_errors
def trust(
    host: Annotated[str | None, typer.Argument(help="Inventory host name (or an address).")] = None,
    *,
    address: Annotated[str | None, typer.Option(help="Address to connect to.")] = None,
    port: Annotated[int | None, typer.Option(help="SSH port (default 22).")] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant whose known_hosts gets the key.")
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option(help="Expected SHA256:... fingerprint; pin only if the server's matches."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Pin without asking.")] = False,
) -> None:
    """Fetch HOST's SSH key, show its type and SHA256 fingerprint, and pin it for the tenant."""
    from patchwave.endpoints.known_hosts import (
        append_known_host,
        fetch_host_key,
        host_pattern,
        known_hosts_path,
        trusted_keys,
    )
    from patchwave.endpoints.known_hosts import fingerprint as fingerprint_of
    from patchwave.settings import get_settings

    tenant, addr, port_ = _resolve(host, address, port, tenant)
    path = known_hosts_path(get_settings(), tenant)
    key = asyncio.run(fetch_host_key(addr, port_))
    shown = fingerprint_of(key)
    pattern = host_pattern(addr, port_)
    console.print(f"{pattern} presents a [bold]{key.get_algorithm()}[/] key: [bold]{shown}[/]")
    pinned = trusted_keys(path, addr, port_)
    if any(fingerprint_of(k) == shown for k in pinned):
        console.print(f"Already trusted in {path}; nothing to do.")
        return
    if pinned:
        raise UserError(
            f"{path} pins a different key for {pattern} "
            f"({', '.join(fingerprint_of(k) for k in pinned)}); if the host was reinstalled, "
            "remove that line first, then run this command again"
        )
    if fingerprint is not None:
        if fingerprint.strip() != shown:
            raise UserError(
                f"--fingerprint {fingerprint.strip()} does not match the server's {shown}; "
                "nothing was pinned"
            )
    elif not yes and not typer.confirm(f"Trust this key for tenant {tenant!r}?", default=False):
        raise UserError("not confirmed; nothing was pinned")
    append_known_host(path, pattern, key)
    console.print(f"Pinned {shown} for {pattern} in {path}.")
