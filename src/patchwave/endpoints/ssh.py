"""Linux hosts over SSH (asyncssh): one connection per host for all of its steps.

Host keys are verified against the tenant's known_hosts file only (never auto-added, never the
user's ~/.ssh). Credentials come from the host's credential reference, resolved when the
connection opens. Commands are argument vectors joined with ``shlex.join``; ``sudo -n`` is added
for privileged commands when the login user is not root.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from patchwave.credentials import SshCredential, resolve_credential
from patchwave.domain.models import Host
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.drivers.endpoint import DriverEndpoint
from patchwave.endpoints.known_hosts import (
    fingerprint,
    host_pattern,
    known_hosts_path,
    load_known_hosts,
    trusted_keys,
)
from patchwave.endpoints.transport import (
    DEFAULT_MAX_OUTPUT,
    CommandResult,
    SiteLimits,
    Transport,
    decode_output,
    raise_for_sudo,
    read_capped,
    with_sudo,
)
from patchwave.errors import EndpointError, HostKeyError, HostUnreachable, TransientEndpointError
from patchwave.settings import Settings, get_settings

_HOST_PORT = re.compile(r"^\[(?P<v6>[^\]]+)\]:(?P<p6>\d+)$|^(?P<name>[^:\[\]]+):(?P<port>\d+)$")


class SshAuthError(EndpointError):
    """The server refused our credentials (not retried: fix the credential or the host)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class SshOptions:
    """Connection settings. ``host_key_alias`` pins keys under a name instead of the address
    (OpenSSH's HostKeyAlias), for hosts behind NAT or several names for one address."""

    port: int = 22
    username: str = "root"  # when the credential names no user
    connect_timeout: float = 15.0
    keepalive_interval: float = 30.0
    host_key_alias: str | None = None
    known_hosts_file: Path | None = None  # default: the tenant's file from settings


def split_address(address: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` -> (host, port)."""
    match = _HOST_PORT.match(address)
    if match is None:
        return address, default_port
    if match.group("v6"):
        return match.group("v6"), int(match.group("p6"))
    return match.group("name"), int(match.group("port"))


class SshTransport:
    """Runs argument vectors over one asyncssh connection."""

    def __init__(self, conn: asyncssh.SSHClientConnection, *, name: str, username: str) -> None:
        self.conn = conn
        self.name = name
        self.username = username

    @property
    def is_root(self) -> bool:
        return self.username == "root"

    async def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        sudo: bool = False,
        input: bytes | None = None,
    ) -> CommandResult:
        full = with_sudo(argv, sudo=sudo, is_root=self.is_root)
        command = shlex.join(full)
        started = time.monotonic()
        proc: asyncssh.SSHClientProcess[bytes] | None = None
        try:
            async with asyncio.timeout(timeout):
                proc = await self.conn.create_process(command, encoding=None)
                if input is not None:
                    proc.stdin.write(input)
                proc.stdin.write_eof()
                (out, out_cut), (err, err_cut) = await asyncio.gather(
                    read_capped(proc.stdout, max_output), read_capped(proc.stderr, max_output)
                )
                await proc.wait_closed()
        except TimeoutError:
            if proc is not None:
                with contextlib.suppress(Exception):
                    proc.send_signal("KILL")
                proc.close()
            raise TransientEndpointError(
                f"{self.name}: command timed out after {timeout:g}s: {command[:200]}"
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise HostUnreachable(f"{self.name}: connection lost during {full[0]}: {exc}") from exc
        code = proc.returncode
        result = CommandResult(
            tuple(full),
            code if code is not None else -1,
            decode_output(out),
            decode_output(err),
            out_cut,
            err_cut,
            time.monotonic() - started,
        )
        raise_for_sudo(result, sudo_used=len(full) != len(argv), where=self.name)
        return result


class SshEndpoint(DriverEndpoint):
    """A Linux host over SSH. Build it from a domain ``Host`` (``address`` may carry ``:port``)::

    async with SshEndpoint(host, settings=settings, limits=limits) as ep:
        result = await ep.scan()
    """

    def __init__(
        self,
        host: Host,
        *,
        settings: Settings | None = None,
        options: DriverOptions | None = None,
        ssh: SshOptions | None = None,
        credential: SshCredential | None = None,
        limits: SiteLimits | None = None,
        run_tag: str = "adhoc",
        poll_interval: float = 5.0,
    ) -> None:
        super().__init__(
            host, options=options, limits=limits, run_tag=run_tag, poll_interval=poll_interval
        )
        self.settings = settings or get_settings()
        self.ssh = ssh or SshOptions()
        self.address, self.port = split_address(host.address or host.name, self.ssh.port)
        self.known_hosts_file = self.ssh.known_hosts_file or known_hosts_path(
            self.settings, host.tenant
        )
        self._credential = credential
        self._conn: asyncssh.SSHClientConnection | None = None

    async def _login(self) -> tuple[SshCredential, str]:
        if self._credential is None:
            self._credential = await resolve_credential(self.host.credential_ref)
        return self._credential, self._credential.username or self.ssh.username

    async def _open(self) -> Transport:
        cred, username = await self._login()
        kwargs: dict[str, object] = {}
        if cred.private_key:
            try:
                kwargs["client_keys"] = [
                    asyncssh.import_private_key(cred.private_key, cred.passphrase)
                ]
            except (asyncssh.KeyImportError, ValueError) as exc:
                raise SshAuthError(
                    f"the private key of credential {cred.reference!r} cannot be read: {exc}"
                ) from None
        elif cred.private_key_path:
            kwargs["client_keys"] = [cred.private_key_path]
            kwargs["passphrase"] = cred.passphrase
        if not cred.use_agent:
            kwargs["agent_path"] = None
        try:
            self._conn = await asyncssh.connect(
                self.address,
                self.port,
                username=username,
                known_hosts=load_known_hosts(self.known_hosts_file),
                host_key_alias=self.ssh.host_key_alias,
                config=None,  # never the worker's ~/.ssh/config: settings come from patchwave
                preferred_auth="publickey",
                connect_timeout=self.ssh.connect_timeout,
                keepalive_interval=self.ssh.keepalive_interval,
                **kwargs,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise await self._host_key_error() from None
        except asyncssh.PermissionDenied as exc:
            raise SshAuthError(
                f"{self.host.key}: {username}@{self.address}:{self.port} refused the credential "
                f"{cred.reference or '(ssh-agent)'}: {exc.reason}"
            ) from None
        except (OSError, TimeoutError, asyncssh.Error) as exc:
            raise HostUnreachable(
                f"{self.host.key}: cannot connect to {self.address}:{self.port}: {exc}"
            ) from exc
        return SshTransport(self._conn, name=self.host.key, username=username)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await conn.wait_closed()

    async def _host_key_error(self) -> HostKeyError:
        """Explain a refused key: what the server shows, what is pinned, and what to run."""
        name = self.ssh.host_key_alias or self.address
        pinned = trusted_keys(self.known_hosts_file, name, self.port)
        algs = sorted({k.get_algorithm() for k in pinned}) or ()
        try:
            async with asyncio.timeout(self.ssh.connect_timeout):
                key = await asyncssh.get_server_host_key(
                    self.address, self.port, server_host_key_algs=algs or ()
                )
            shown = f"{key.get_algorithm()} {fingerprint(key)}" if key else "no key"
        except (OSError, TimeoutError, asyncssh.Error) as exc:
            shown = f"(could not fetch it again: {exc})"
        trust = (
            f"patchwave hosts trust {self.host.name} --tenant {self.host.tenant} "
            f"--address {self.address} --port {self.port}"
        )
        where = host_pattern(name, self.port)
        if pinned:
            known = ", ".join(fingerprint(k) for k in pinned)
            return HostKeyError(
                f"SSH host key of {self.host.key} ({where}) has CHANGED: the server presents "
                f"{shown}, but {self.known_hosts_file} pins {known}. This may be an attack; if "
                f"the host was really reinstalled, remove its line from {self.known_hosts_file} "
                f"and run `{trust}`"
            )
        return HostKeyError(
            f"SSH host key of {self.host.key} ({where}) is unknown: the server presents {shown}, "
            f"which is not in {self.known_hosts_file}. Check the fingerprint with the host's "
            f"owner, then run `{trust}`"
        )
