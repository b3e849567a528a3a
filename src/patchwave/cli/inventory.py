"""``patchwave inventory import|list``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patchwave.cli.common import app, console, err_console, handle_errors

inventory_app = typer.Typer(help="Import and list tenants, sites and hosts.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")


@inventory_app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(help="Inventory file (.csv, .yaml or .yml).")],
    dry_run: Annotated[bool, typer.Option(help="Validate and report, change nothing.")] = False,
) -> None:
    """Import an inventory file: all of it or nothing. Importing it again changes nothing."""
    from patchwave.inventory import load_inventory
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import apply_inventory

    inv = load_inventory(file)
    for warning in inv.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if dry_run:
        console.print(f"{file}: valid: {len(inv.hosts)} host(s) in {len(inv.tenants)} tenant(s)")
        return
    store = open_store()
    with store.session() as session:
        summary = apply_inventory(session, inv)
    console.print(f"{file}: {summary}")


@inventory_app.command("list")
@handle_errors
def list_(
    tenant: Annotated[list[str] | None, typer.Option("--tenant", "-t", help="Tenant slug.")] = None,
    site: Annotated[list[str] | None, typer.Option("--site", "-s", help="Site name.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Hosts with this tag.")] = None,
    ring: Annotated[list[str] | None, typer.Option("--ring", "-r", help="Inventory ring.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List hosts (filters combine; a host must carry every --tag given)."""
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import list_hosts

    with open_store().session() as session:
        hosts = list_hosts(session, tenants=tenant, sites=site, tags=tag, rings=ring)
    if as_json:
        rows = []
        for h in hosts:
            d = asdict(h)
            d["tags"] = sorted(h.tags)
            rows.append(d)
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title=f"{len(hosts)} host(s)", show_lines=False)
    for col in (
        "tenant",
        "site",
        "host",
        "os",
        "connector",
        "address",
        "ring",
        "crit.",
        "exposure",
        "tags",
        "calendar",
    ):
        table.add_column(col, overflow="fold")
    for h in hosts:
        exposure = ", ".join(
            x for x, on in (("internet", h.internet_facing), ("rdp", h.rdp_exposed)) if on
        )
        os_text = f"{h.os_family} {h.os_version}".strip()
        if h.quarantined:
            os_text = f"[red]{os_text} (quarantined)[/]"
        table.add_row(
            h.tenant,
            h.site,
            h.name,
            os_text,
            h.connector,
            h.address or "",
            h.ring or "",
            h.criticality,
            exposure,
            " ".join(sorted(h.tags)),
            h.calendar or "",
        )
    console.print(table)
