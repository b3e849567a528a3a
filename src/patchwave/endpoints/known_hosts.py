"""Per-tenant ``known_hosts`` files: the only source of SSH host keys patchwave trusts.

Each tenant has one OpenSSH-format file, ``<known_hosts_dir>/<tenant>``. Nothing is ever added
automatically: ``patchwave hosts trust`` fetches a key, shows its fingerprint and appends it after
confirmation.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import asyncssh

from patchwave.errors import HostUnreachable, UserError
from patchwave.settings import Settings

_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_cache: dict[Path, tuple[tuple[int, int], asyncssh.SSHKnownHosts]] = {}


def known_hosts_path(settings: Settings, tenant: str) -> Path:
    """The tenant's known_hosts file (a tenant slug never escapes the folder)."""
    if not _TENANT.fullmatch(tenant):
        raise UserError(f"tenant {tenant!r} is not a valid slug for a known_hosts file name")
    return settings.effective_known_hosts_dir / tenant


def host_pattern(address: str, port: int) -> str:
    """How OpenSSH names a host in known_hosts: ``addr`` on port 22, else ``[addr]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:...``, as ``ssh-keygen -l`` prints it."""
    return str(key.get_fingerprint("sha256"))


def load_known_hosts(path: Path) -> asyncssh.SSHKnownHosts:
    """The parsed file, cached until it changes; a missing file trusts nothing."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return asyncssh.SSHKnownHosts()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        parsed = asyncssh.import_known_hosts(path.read_text(encoding="utf-8"))
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise UserError(f"{path}: not a valid known_hosts file ({exc}); fix or remove it") from exc
    _cache[path] = (stamp, parsed)
    return parsed


def trusted_keys(path: Path, name: str, port: int) -> list[asyncssh.SSHKey]:
    """Keys pinned for ``name`` (an address, a host name or a host key alias) on ``port``."""
    keys, *_ = asyncssh.match_known_hosts(
        load_known_hosts(path), name, "", port if port != 22 else None
    )
    return list(keys)


def append_known_host(path: Path, pattern: str, key: asyncssh.SSHKey) -> str:
    """Append ``pattern key`` to the file (created 0600, folder 0700); returns the line."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = f"{pattern} {key.export_public_key('openssh').decode().strip()}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line)
    _cache.pop(path, None)
    return line


async def fetch_host_key(address: str, port: int, *, timeout: float = 15.0) -> asyncssh.SSHKey:
    """The key the server presents, fetched without authenticating (for ``hosts trust``)."""
    try:
        async with asyncio.timeout(timeout):
            key = await asyncssh.get_server_host_key(address, port)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise HostUnreachable(f"cannot fetch the SSH host key of {address}:{port}: {exc}") from exc
    if key is None:
        raise HostUnreachable(f"{address}:{port} presented no host key")
    return key
