"""The protocol every endpoint implements (simulated, ssh, local, windows) and its result types.

An endpoint acts on one host. Every method is async and may raise ``HostUnreachable`` (transient),
``HostKeyError``, ``PatchFailed`` or ``ParseError``; none of them retries by itself — the caller
owns retry policy. Methods never raise for a *finding* (a failed check is a result, not an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from patchwave.domain.models import Advisory, Host, OsFamily


@dataclass(frozen=True, slots=True)
class HostFacts:
    os_family: OsFamily
    os_name: str
    os_version: str
    kernel: str = ""
    boot_id: str = ""
    free_disk_mb: int | None = None
    reboot_pending: bool = False


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a host is missing, as its package manager (or Windows Update) reports it."""

    facts: HostFacts
    missing: tuple[Advisory, ...]
    scanned_at: datetime
    reboot_pending: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of pre- or post-checks: ``failures`` maps a check name to why it failed."""

    ok: bool
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InstallResult:
    installed: tuple[str, ...]  # advisory ids now applied
    reboot_required: bool
    log: str = ""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    still_missing: tuple[str, ...] = ()  # advisory ids that are not applied
    details: str = ""


@dataclass(frozen=True, slots=True)
class RollbackResult:
    ok: bool
    reverted: tuple[str, ...] = ()
    details: str = ""


@runtime_checkable
class Endpoint(Protocol):
    """One host's patch operations. Use as ``async with endpoint:`` to hold a connection."""

    host: Host

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def facts(self) -> HostFacts: ...

    async def scan(self) -> ScanResult: ...

    async def precheck(self, checks: Sequence[str]) -> CheckResult: ...

    async def snapshot(self, hook: str | None) -> str | None: ...

    async def install(self, patches: Sequence[Advisory]) -> InstallResult: ...

    async def reboot(self) -> None: ...

    async def wait_for_return(self, timeout: float) -> HostFacts: ...

    async def verify(self, patches: Sequence[Advisory]) -> VerifyResult: ...

    async def postcheck(self, checks: Sequence[str]) -> CheckResult: ...

    async def rollback(
        self, patches: Sequence[Advisory], snapshot_id: str | None
    ) -> RollbackResult: ...


# Check names a campaign spec may use; endpoints implement the ones that apply to them.
KNOWN_CHECKS = frozenset(
    {"free-disk-1g", "free-disk-2g", "free-disk-5g", "no-pending-reboot", "services-up", "ping"}
)
