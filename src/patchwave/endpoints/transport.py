"""How a driver runs one command on a host: the ``Transport`` protocol and its local implementation.

Drivers build argument vectors (never shell strings); a transport runs them with a timeout, caps
the output it keeps, decodes bytes with ``errors="replace"`` (package managers print file names
and descriptions in any encoding) and adds ``sudo -n`` when asked and the user is not root.
The SSH transport lives in ``ssh.py``; both share the helpers here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from patchwave.errors import PatchFailed, TransientEndpointError

DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class CommandResult:
    """One finished command. ``stdout``/``stderr`` are decoded text, cut at the output cap."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def check(self, what: str, *, accept: Sequence[int] = (0,)) -> CommandResult:
        """Self when the exit code is accepted, else ``PatchFailed`` naming ``what``."""
        if self.exit_code in accept:
            return self
        raise PatchFailed(f"{what} failed (exit {self.exit_code}): {self.error_tail()}")

    def error_tail(self, limit: int = 400) -> str:
        """The last lines of stderr (or stdout) worth showing in an error message."""
        text = (self.stderr.strip() or self.stdout.strip()).replace("\n", " | ")
        return text[-limit:] if text else "no output"


class Transport(Protocol):
    """Runs commands on one host."""

    @property
    def is_root(self) -> bool: ...

    async def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        sudo: bool = False,
        input: bytes | None = None,
    ) -> CommandResult: ...


def decode_output(data: bytes) -> str:
    """Decode command output; invalid UTF-8 becomes U+FFFD instead of an exception."""
    return data.decode("utf-8", errors="replace")


def with_sudo(argv: Sequence[str], *, sudo: bool, is_root: bool) -> list[str]:
    """Prefix ``sudo -n --`` (never prompts) when privileges are needed and we are not root."""
    if sudo and not is_root:
        return ["sudo", "-n", "--", *argv]
    return list(argv)


def raise_for_sudo(result: CommandResult, *, sudo_used: bool, where: str) -> None:
    """A sudo that wants a password is a configuration problem, not a package failure."""
    if sudo_used and result.exit_code == 1 and "sudo:" in result.stderr:
        raise PatchFailed(
            f"sudo -n refused on {where}: {result.error_tail(200)}; allow the login user to run "
            "the package manager without a password (NOPASSWD in sudoers) or log in as root"
        )


class Readable(Protocol):
    async def read(self, n: int = -1, /) -> bytes: ...


async def read_capped(stream: Readable, limit: int) -> tuple[bytes, bool]:
    """Read a stream to its end, keeping at most ``limit`` bytes (the rest is drained, not kept,
    so a chatty process never blocks on a full pipe)."""
    kept = bytearray()
    truncated = False
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            break
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return bytes(kept), truncated


class LocalTransport:
    """Runs commands on this machine with asyncio subprocesses (no shell)."""

    def __init__(self, *, name: str = "localhost") -> None:
        self.name = name

    @property
    def is_root(self) -> bool:
        return os.geteuid() == 0

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
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *full,
                stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # own process group, so a timeout kills its children too
            )
        except FileNotFoundError:
            # Same shape as a shell's "command not found" so drivers handle both transports alike.
            return CommandResult(tuple(full), 127, "", f"{full[0]}: command not found")
        try:
            async with asyncio.timeout(timeout):
                if input is not None:
                    assert proc.stdin is not None
                    proc.stdin.write(input)
                    await proc.stdin.drain()
                    proc.stdin.close()
                assert proc.stdout is not None and proc.stderr is not None
                (out, out_cut), (err, err_cut) = await asyncio.gather(
                    read_capped(proc.stdout, max_output), read_capped(proc.stderr, max_output)
                )
                code = await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise TransientEndpointError(
                f"{self.name}: command timed out after {timeout:g}s: {shlex.join(full)[:200]}"
            ) from None
        result = CommandResult(
            tuple(full),
            code,
            decode_output(out),
            decode_output(err),
            out_cut,
            err_cut,
            time.monotonic() - started,
        )
        raise_for_sudo(result, sudo_used=len(full) != len(argv), where=self.name)
        return result


class SiteLimits:
    """Semaphores keyed by (tenant, site): at most ``limit_for(tenant, site)`` hosts of one site are
    worked on at once, across every endpoint sharing this registry.

    Semaphores belong to an event loop, so the registry keeps one set per running loop (a Prefect
    task may run each wave in its own loop).
    """

    def __init__(self, default: int = 20, overrides: dict[tuple[str, str], int] | None = None):
        if default < 1:
            raise ValueError("a site concurrency limit must be at least 1")
        self.default = default
        self.overrides = dict(overrides or {})
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[str, str], asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    def limit_for(self, tenant: str, site: str) -> int:
        return self.overrides.get((tenant, site), self.default)

    def semaphore(self, tenant: str, site: str) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        table = self._by_loop.setdefault(loop, {})
        key = (tenant, site)
        if key not in table:
            table[key] = asyncio.Semaphore(self.limit_for(tenant, site))
        return table[key]
