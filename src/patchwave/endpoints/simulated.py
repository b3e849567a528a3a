"""The simulated fleet: the embedded default that ``make demo``, flow tests and benches run on.

Every host is simulated from a seed and its key, never from Python's randomised ``hash()``:
what it misses (a seeded subset of its applicable catalogue, about 20 advisories), how it
misbehaves (install failures, unreachable, flaky scans, never returning from a reboot...) and
how long things take. The same seed gives the same fleet in any process and in any order.

What was done to hosts lives in an append-only ledger under ``state_dir`` (see ``_simledger``),
written before each method returns, so a campaign process killed with SIGKILL and resumed in a
new process sees exactly what the hosts went through.

Durations and timeouts are in host seconds. They are awaited as
``asyncio.sleep(seconds * latency_scale)`` (campaigns run on a virtual-time loop, so a 30-minute
install costs nothing) and skipped entirely when ``latency_scale`` is 0.

Host tags force behaviours for tests: ``sim:install-fails``, ``sim:install-fails-once``,
``sim:unreachable``, ``sim:flaky-scan``, ``sim:no-return``, ``sim:verify-fails``,
``sim:low-disk``, ``sim:pending-reboot``, ``sim:postcheck-fails``, ``sim:slow``; ``sim:clean``
means none. A host with any ``sim:`` tag shows exactly the tagged behaviours, no random ones.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from patchwave.domain.models import Advisory, Host, OsFamily
from patchwave.endpoints import catalogue
from patchwave.endpoints._simhost import (
    BEHAVIOURS,
    SimProfile,
    Traits,
    digest,
    draw_missing,
    draw_traits,
    failure_message,
    install_minutes,
    lock_message,
    service_name,
)
from patchwave.endpoints._simledger import HostLedger, Ledger, LedgerError
from patchwave.endpoints.base import (
    KNOWN_CHECKS,
    CheckResult,
    HostFacts,
    InstallResult,
    RollbackResult,
    ScanResult,
    VerifyResult,
)
from patchwave.errors import HostUnreachable, PatchFailed, TransientEndpointError

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_PROFILE",
    "LedgerError",
    "SimProfile",
    "SimulatedEndpoint",
    "SimulatedFleet",
    "utcnow",
]

DEFAULT_PROFILE = SimProfile()


def utcnow() -> datetime:
    return datetime.now(UTC)


class SimulatedFleet:
    """Deterministic simulated hosts sharing one ledger. ``endpoint(host)`` gives a host's
    ``Endpoint``; the other public methods serve tests, demos and benches."""

    def __init__(
        self,
        seed: int,
        state_dir: Path,
        *,
        latency_scale: float = 1.0,
        profile: SimProfile = DEFAULT_PROFILE,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        if latency_scale < 0:
            raise ValueError("latency_scale must be >= 0")
        self.seed = seed
        self.state_dir = Path(state_dir)
        self.latency_scale = latency_scale
        self.profile = profile
        self.now = now
        self._ledger = Ledger(self.state_dir / f"simulated-fleet-seed{seed}.jsonl")
        # Loaded once, on first use: another fleet object (or process) writing to the same
        # state_dir afterwards is not seen; share one fleet per process.
        self._hosts: dict[str, HostLedger] | None = None
        self._lock = threading.Lock()
        # Keyed by host key (string hashes are cached; Host hashes are not) and checked
        # against the Host so an edited inventory entry is simulated afresh.
        self._traits: dict[str, tuple[Host, Traits]] = {}
        self._baselines: dict[str, tuple[Host, tuple[Advisory, ...]]] = {}
        self._facts_cache: dict[str, tuple[Host, int, HostFacts]] = {}
        self._satisfied: dict[str, tuple[int, frozenset[str]]] = {}
        # Per-process memory of first attempts (flaky scans, one-off install failures).
        self._scans: set[str] = set()
        self._install_attempts: set[str] = set()
        self._reboot_left: dict[str, float] = {}

    @property
    def ledger_path(self) -> Path:
        return self._ledger.path

    def endpoint(self, host: Host) -> SimulatedEndpoint:
        return SimulatedEndpoint(self, host)

    def close(self) -> None:
        self._ledger.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def behaviours(self, host: Host) -> frozenset[str]:
        """The behaviours this host shows ("install-fails", "slow"...), from tags or seed."""
        return self._traits_of(host).behaviours

    def baseline(self, host: Host) -> tuple[Advisory, ...]:
        """What the host missed before anything was done to it (the seeded subset)."""
        cached = self._baselines.get(host.key)
        if cached is not None and (cached[0] is host or cached[0] == host):
            return cached[1]
        missing = draw_missing(self.seed, host, self.profile)
        self._baselines[host.key] = (host, missing)
        return missing

    def current_missing(self, host: Host) -> tuple[Advisory, ...]:
        """What a scan reports now, without latency or failures."""
        base = self.baseline(host)
        state = self._state().get(host.key)
        if state is None or not base:
            return base
        done = self._satisfied_ids(host.key, state)
        return tuple(a for a in base if a.id not in done)

    def install_count(self, host_key: str, advisory_id: str) -> int:
        """Completed install calls that named this advisory on this host, including no-op
        re-installs of an advisory already applied: a campaign that patches twice shows 2."""
        state = self._state().get(host_key)
        return state.requests.get(advisory_id, 0) if state else 0

    def installed(self, host_key: str) -> set[str]:
        """Advisory ids installed on the host and in effect (not rolled back)."""
        state = self._state().get(host_key)
        return state.applied - state.ineffective if state else set()

    def reboot_count(self, host_key: str) -> int:
        state = self._state().get(host_key)
        return state.reboots if state else 0

    def install_seconds(self, host: Host, patches: Sequence[Advisory]) -> float:
        """How long installing ``patches`` takes on this host, in host seconds."""
        if self.profile.fixed_install_seconds is not None:
            return self.profile.fixed_install_seconds
        traits = self._traits_of(host)
        return 60.0 * install_minutes(host, list(patches), traits, self.profile)

    def reboot_seconds(self, host: Host) -> float:
        if self.profile.fixed_reboot_seconds is not None:
            return self.profile.fixed_reboot_seconds
        return self._traits_of(host).reboot_seconds

    def _state(self) -> dict[str, HostLedger]:
        if self._hosts is None:
            with self._lock:  # tasks in a thread pool may share one fleet
                if self._hosts is None:
                    self._hosts = self._ledger.load()
        return self._hosts

    def _host_state(self, host: Host) -> HostLedger:
        return self._state().get(host.key) or HostLedger()

    def _record(self, host: Host, op: str, ids: Sequence[str] = (), **extra: Any) -> None:
        rec = {"host": host.key, "op": op, "ids": list(ids), "at": self.now().isoformat(), **extra}
        state = self._state()
        with self._lock:
            self._ledger.append(rec)  # durable before the state changes and the method returns
            state.setdefault(host.key, HostLedger()).apply(rec)

    def _traits_of(self, host: Host) -> Traits:
        cached = self._traits.get(host.key)
        if cached is not None and (cached[0] is host or cached[0] == host):
            return cached[1]
        traits = draw_traits(self.seed, host, self.profile)
        self._traits[host.key] = (host, traits)
        return traits

    def _satisfied_ids(self, host_key: str, state: HostLedger) -> frozenset[str]:
        cached = self._satisfied.get(host_key)
        if cached is not None and cached[0] == state.revision:
            return cached[1]
        done = set(state.applied)
        for advisory_id in state.applied:
            if advisory_id in catalogue.ENTRIES:
                done |= catalogue.supersedes_closure(advisory_id)
        result = frozenset(done - state.ineffective)
        self._satisfied[host_key] = (state.revision, result)
        return result

    def _check_reachable(self, host: Host) -> Traits:
        traits = self._traits_of(host)
        if "unreachable" in traits.behaviours:
            raise HostUnreachable(
                f"{host.key}: connection to {host.address or host.name} timed out (simulated)"
            )
        if "no-return" in traits.behaviours and self.reboot_count(host.key) > 0:
            raise HostUnreachable(f"{host.key}: no answer since its last reboot (simulated)")
        return traits

    def _facts(self, host: Host, traits: Traits) -> HostFacts:
        state = self._state().get(host.key)
        revision = state.revision if state else 0
        cached = self._facts_cache.get(host.key)
        if (
            cached is not None
            and cached[1] == revision
            and (cached[0] is host or cached[0] == host)
        ):
            return cached[2]
        reboots = state.reboots if state else 0
        pending = bool(state and state.reboot_pending) or (
            "pending-reboot" in traits.behaviours and reboots == 0
        )
        key = catalogue.platform_key(host.os_family, host.os_version)
        info = catalogue.PLATFORMS[key] if key else None
        os_name = info.os_name if info else f"{host.os_family.value} {host.os_version}".strip()
        if "distro:rocky" in host.tags:
            os_name = os_name.replace("Red Hat Enterprise Linux", "Rocky Linux")
        facts = HostFacts(
            os_family=host.os_family,
            os_name=os_name,
            os_version=host.os_version,
            kernel=info.kernel if info else "",
            boot_id=str(uuid.UUID(bytes=digest(self.seed, host.key, f"boot{reboots}")[:16])),
            free_disk_mb=traits.free_disk_mb,
            reboot_pending=pending,
        )
        self._facts_cache[host.key] = (host, revision, facts)
        return facts

    def _checks(self, host: Host, checks: Sequence[str], *, after_install: bool) -> CheckResult:
        traits = self._traits_of(host)
        facts = self._facts(host, traits)
        failures: dict[str, str] = {}
        root = "C:" if host.os_family is OsFamily.WINDOWS else "/"
        for name in checks:
            if name.startswith("free-disk-") and name.endswith("g") and name[10:-1].isdigit():
                need = int(name[10:-1])
                free = facts.free_disk_mb or 0
                if free < need * 1024:
                    failures[name] = f"{free / 1024:.1f} GiB free on {root}, {need} GiB needed"
            elif name == "no-pending-reboot":
                if facts.reboot_pending:
                    failures[name] = "a reboot is pending from an earlier update"
            elif name == "services-up":
                touched = bool(self._host_state(host).applied)
                if after_install and touched and "postcheck-fails" in traits.behaviours:
                    failures[name] = f"service {service_name(host)} is stopped after patching"
            elif name != "ping":
                failures[name] = f"unknown check; known: {', '.join(sorted(KNOWN_CHECKS))}"
        return CheckResult(ok=not failures, failures=failures)

    async def _sleep(self, seconds: float) -> None:
        if self.latency_scale and seconds > 0:
            await asyncio.sleep(seconds * self.latency_scale)


class SimulatedEndpoint:
    """One simulated host behind the ``Endpoint`` protocol (see ``endpoints/base.py``)."""

    __slots__ = ("_fleet", "host")

    def __init__(self, fleet: SimulatedFleet, host: Host) -> None:
        self._fleet = fleet
        self.host = host

    async def __aenter__(self) -> Self:
        self._fleet._check_reachable(self.host)  # connecting fails like a real connector
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def facts(self) -> HostFacts:
        traits = self._fleet._check_reachable(self.host)
        return self._fleet._facts(self.host, traits)

    async def scan(self) -> ScanResult:
        fleet, host = self._fleet, self.host
        traits = fleet._check_reachable(host)
        if "flaky-scan" in traits.behaviours and host.key not in fleet._scans:
            fleet._scans.add(host.key)
            await fleet._sleep(traits.scan_seconds / 2)
            raise HostUnreachable(f"{host.key}: connection reset during scan (simulated flake)")
        await fleet._sleep(traits.scan_seconds)
        facts = fleet._facts(host, traits)
        return ScanResult(facts, fleet.current_missing(host), fleet.now(), facts.reboot_pending)

    async def precheck(self, checks: Sequence[str]) -> CheckResult:
        self._fleet._check_reachable(self.host)
        await self._fleet._sleep(10.0)
        return self._fleet._checks(self.host, checks, after_install=False)

    async def snapshot(self, hook: str | None) -> str | None:
        fleet, host = self._fleet, self.host
        fleet._check_reachable(host)
        if hook is None:
            return None
        await fleet._sleep(60.0)
        snapshot_id = f"{hook}:{host.key}:{len(fleet._host_state(host).snapshots) + 1}"
        fleet._record(host, "snapshot", snapshot=snapshot_id)
        return snapshot_id

    async def install(self, patches: Sequence[Advisory]) -> InstallResult:
        fleet, host = self._fleet, self.host
        traits = fleet._check_reachable(host)
        unknown = [p.id for p in patches if p.id not in catalogue.ENTRIES]
        if unknown:
            raise PatchFailed(
                f"{host.key}: no update {', '.join(unknown)} is offered to this host (unknown "
                "to the simulated catalogue)"
            )
        if not patches:
            return InstallResult(installed=(), reboot_required=False, log="nothing to install")
        missing = {a.id: a for a in fleet.current_missing(host)}
        requested = list(dict.fromkeys(p.id for p in patches))
        to_apply = [missing[i] for i in requested if i in missing]
        noop = [i for i in requested if i not in missing]
        seconds = fleet.install_seconds(host, to_apply) if to_apply else 60.0
        if to_apply and "install-fails" in traits.behaviours:
            await fleet._sleep(seconds / 2)
            raise PatchFailed(f"{host.key}: {failure_message(host, to_apply[0])}")
        first_try = host.key not in fleet._install_attempts
        if to_apply and "install-fails-once" in traits.behaviours and first_try:
            fleet._install_attempts.add(host.key)
            await fleet._sleep(seconds / 4)
            raise TransientEndpointError(f"{host.key}: {lock_message(host)}")
        await fleet._sleep(seconds)
        state = fleet._host_state(host)
        ineffective = [
            a.id
            for a in to_apply[:1]
            if "verify-fails" in traits.behaviours and a.id not in state.ever_applied
        ]
        reboot = any(a.reboot_required for a in to_apply)
        ids = [a.id for a in to_apply]
        fleet._record(
            host, "install", ids, noop=noop, ineffective=ineffective, reboot_required=reboot
        )
        log = [f"Installed {a.id}: {a.title}" for a in to_apply]
        log += [f"Skipped {i}: already installed or not applicable" for i in noop]
        return InstallResult(installed=tuple(ids), reboot_required=reboot, log="\n".join(log))

    async def reboot(self) -> None:
        fleet, host = self._fleet, self.host
        fleet._check_reachable(host)
        fleet._record(host, "reboot")
        fleet._reboot_left[host.key] = fleet.reboot_seconds(host)

    async def wait_for_return(self, timeout: float) -> HostFacts:
        fleet, host = self._fleet, self.host
        traits = fleet._traits_of(host)
        left = fleet._reboot_left.get(host.key, 0.0)
        if "no-return" in traits.behaviours and fleet.reboot_count(host.key) > 0:
            await fleet._sleep(timeout)
            raise HostUnreachable(f"{host.key}: did not come back within {timeout:.0f}s of reboot")
        if left > timeout:
            await fleet._sleep(timeout)
            fleet._reboot_left[host.key] = left - timeout
            raise HostUnreachable(f"{host.key}: still booting after {timeout:.0f}s")
        await fleet._sleep(left)
        fleet._reboot_left.pop(host.key, None)
        return fleet._facts(host, fleet._check_reachable(host))

    async def verify(self, patches: Sequence[Advisory]) -> VerifyResult:
        fleet, host = self._fleet, self.host
        traits = fleet._check_reachable(host)
        await fleet._sleep(traits.scan_seconds / 2)
        missing = {a.id for a in fleet.current_missing(host)}
        still = tuple(dict.fromkeys(p.id for p in patches if p.id in missing))
        details = f"still missing: {', '.join(still)}" if still else "all applied"
        return VerifyResult(ok=not still, still_missing=still, details=details)

    async def postcheck(self, checks: Sequence[str]) -> CheckResult:
        self._fleet._check_reachable(self.host)
        await self._fleet._sleep(30.0)
        return self._fleet._checks(self.host, checks, after_install=True)

    async def rollback(
        self, patches: Sequence[Advisory], snapshot_id: str | None
    ) -> RollbackResult:
        fleet, host = self._fleet, self.host
        fleet._check_reachable(host)
        state = fleet._host_state(host)
        if snapshot_id is not None and snapshot_id not in state.snapshots:
            return RollbackResult(
                ok=False, details=f"snapshot {snapshot_id} does not exist on {host.key}"
            )
        reverted = [a for a in dict.fromkeys(patches) if a.id in state.applied]
        if snapshot_id is not None:
            await fleet._sleep(300.0)
        else:
            await fleet._sleep(fleet.install_seconds(host, reverted) / 2 if reverted else 30.0)
        ids = [a.id for a in reverted]
        if ids:
            fleet._record(host, "rollback", ids, snapshot=snapshot_id)
        how = f"reverted to snapshot {snapshot_id}" if snapshot_id else "uninstalled"
        return RollbackResult(ok=True, reverted=tuple(ids), details=f"{how}: {len(ids)} update(s)")
