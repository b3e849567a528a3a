"""The host-job engine: drive one wave of host jobs with bounded async I/O.

Each job waits for its maintenance window (a job starts only where its estimated duration fits
before the window closes), takes a slot (site, then tenant, then campaign), and walks the state
machine, writing each state before the side effect it announces:

    queued -> prechecked -> [snapshotted] -> installing -> [rebooting] -> verifying -> succeeded

Transient errors are retried per step; a failure is recorded with its step and reason (data, not
an exception); the wave aborts the jobs it has not started once its failures exceed
``max_fail_percentage``. A job found in flight (after a crash) is re-verified by a scan first, so
no host is patched twice and none is skipped. Never a reboot before an install succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from patchwave.campaign.crash import crashpoint
from patchwave.campaign.ledger import JobLedger
from patchwave.campaign.runs import JobRecord
from patchwave.clock import Clock
from patchwave.credentials import CredentialError
from patchwave.domain.gates import wave_should_abort
from patchwave.domain.models import Advisory, Host, JobState
from patchwave.domain.windows import Calendar, can_start, is_open, next_start
from patchwave.endpoints.base import Endpoint
from patchwave.errors import EndpointError, HostUnreachable, is_transient
from patchwave.spec import CampaignSpec
from patchwave.spec.models import RebootPolicy

T = TypeVar("T")
EndpointFactory = Callable[[Host], Endpoint]


class _JobFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True, slots=True)
class Policy:
    per_campaign: int
    per_tenant: int | None
    per_site: int
    max_fail_percentage: float
    host_timeout: timedelta
    retries: int
    retry_delay: timedelta
    reboot: RebootPolicy
    reboot_timeout: timedelta
    prechecks: tuple[str, ...]
    snapshot: str | None
    postchecks: tuple[str, ...]

    @classmethod
    def from_spec(cls, spec: CampaignSpec) -> Policy:
        d = spec.deployment
        return cls(
            per_campaign=d.concurrency.per_campaign,
            per_tenant=d.concurrency.per_tenant,
            per_site=d.concurrency.per_site,
            max_fail_percentage=d.max_fail_percentage,
            host_timeout=d.host_timeout,
            retries=d.retries.count,
            retry_delay=d.retries.delay,
            reboot=d.reboot,
            reboot_timeout=d.reboot_timeout,
            prechecks=tuple(d.prechecks),
            snapshot=d.snapshot,
            postchecks=tuple(d.postchecks),
        )


@dataclass(slots=True)
class WaveResult:
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    aborted: bool = False
    abort_reason: str | None = None
    failed_jobs: list[int] = field(default_factory=list)


class Slots:
    """Concurrency limits shared by every wave of a campaign run in one event loop."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.campaign = asyncio.Semaphore(policy.per_campaign)
        self._tenants: dict[str, asyncio.Semaphore] = {}
        self._sites: dict[tuple[str, str], asyncio.Semaphore] = {}

    def tenant(self, tenant: str) -> asyncio.Semaphore | None:
        if self.policy.per_tenant is None:
            return None
        return self._tenants.setdefault(tenant, asyncio.Semaphore(self.policy.per_tenant))

    def site(self, tenant: str, site: str) -> asyncio.Semaphore:
        return self._sites.setdefault((tenant, site), asyncio.Semaphore(self.policy.per_site))


class WaveRunner:
    def __init__(
        self,
        *,
        jobs: Sequence[JobRecord],
        advisories: Mapping[str, Advisory],
        calendars: Mapping[str, Calendar],
        endpoint: EndpointFactory,
        policy: Policy,
        clock: Clock,
        ledger: JobLedger,
        slots: Slots | None = None,
        on_change: Callable[[JobRecord], None] | None = None,
        stop: Callable[[], str | None] | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.advisories = advisories
        self.calendars = calendars
        self.endpoint = endpoint
        self.policy = policy
        self.clock = clock
        self.ledger = ledger
        self.slots = slots or Slots(policy)
        self.on_change = on_change
        self.stop = stop  # returns why the run must stop (cancelled), or None
        self.result = WaveResult()
        self._size = len(self.jobs)
        self._aborted = asyncio.Event()

    async def run(self) -> WaveResult:
        # A pending job has no approval: the engine never touches it.
        await asyncio.gather(*(self._job(j) for j in self.jobs if j.state is not JobState.PENDING))
        return self.result

    # -- scheduling ---------------------------------------------------------------------------

    def _calendar(self, job: JobRecord) -> Calendar | None:
        return self.calendars.get(job.calendar) if job.calendar else None

    async def _sleep_until(self, when: datetime) -> None:
        """Wait for a window; an aborted wave wakes its waiting jobs at once (to skip them)."""
        delay = (when - self.clock.now()).total_seconds()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._aborted.wait(), timeout=delay)

    def _halted(self) -> str | None:
        """Why this wave starts nothing more: its own abort, or the run being cancelled."""
        if self.result.aborted:
            return self.result.abort_reason or "wave aborted"
        reason = self.stop() if self.stop is not None else None
        if reason:
            self._aborted.set()  # wake jobs waiting for a window so they skip now
        return reason

    async def _job(self, job: JobRecord) -> None:
        if job.state.terminal:
            self._count(job)
            return
        # A job found in flight (after a crash) is finished, never skipped; it still waits for
        # its window before anything that changes the host, except a read-only verification.
        resume = job.state.in_flight
        if resume and job.state is JobState.VERIFYING:
            await self._slotted(job, resume=True)
            return
        est = timedelta(seconds=max(1, job.est_seconds))
        cal = self._calendar(job)
        while True:
            halted = None if resume else self._halted()
            if halted:
                await self._skip(job, halted)
                return
            now = self.clock.now()
            if cal is not None and not can_start(cal, now, est):
                start = next_start(cal, now, est)
                if start is None:
                    await self._skip(
                        job,
                        f"no maintenance window of {cal.name} within a year "
                        f"is long enough for an estimated {est}",
                    )
                    return
                deferred = is_open(cal, now)  # open now, but too little of it left
                await self.ledger.save(
                    job, not_before=start, deferrals=job.deferrals + int(deferred)
                )
                await self._sleep_until(start)
                continue
            if await self._slotted(job, resume=resume):
                return

    async def _slotted(self, job: JobRecord, *, resume: bool) -> bool:
        """Take the job's slots and run it; False when its window closed while it waited."""
        host = job.host
        tenant_sem = self.slots.tenant(host.tenant)
        async with self.slots.site(host.tenant, host.site):
            if tenant_sem is not None:
                await tenant_sem.acquire()
            try:
                async with self.slots.campaign:
                    halted = None if resume else self._halted()
                    if halted:
                        await self._skip(job, halted)
                        return True
                    cal = self._calendar(job)
                    est = timedelta(seconds=max(1, job.est_seconds))
                    verifying = job.state is JobState.VERIFYING
                    if (
                        cal is not None
                        and not verifying
                        and not can_start(cal, self.clock.now(), est)
                    ):
                        return False  # waited too long for a slot: back to the window wait
                    await self._work(job, resume=resume)
                    return True
            finally:
                if tenant_sem is not None:
                    tenant_sem.release()

    # -- the state machine ---------------------------------------------------------------------

    async def _work(self, job: JobRecord, *, resume: bool) -> None:
        timeout = self.policy.host_timeout.total_seconds()
        try:
            async with asyncio.timeout(timeout):
                await self._with_endpoint(job, resume=resume)
        except TimeoutError:
            await self._fail(job, "timeout", f"did not finish within {self.policy.host_timeout}")
        except _JobFailed as exc:
            await self._fail(job, exc.step, str(exc))

    async def _with_endpoint(self, job: JobRecord, *, resume: bool) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.endpoint(job.host) as ep:
                    if resume or job.state.in_flight:
                        await self._recover(job, ep)
                    else:
                        await self._pipeline(job, ep)
                    return
            except HostUnreachable as exc:
                # Unreachable before or between steps: reconnect and continue from the stored
                # state (an in-flight state is re-verified first).
                if attempt > self.policy.retries:
                    raise _JobFailed("connect", f"unreachable: {exc}") from exc
                await asyncio.sleep(self.policy.retry_delay.total_seconds())
            except (EndpointError, CredentialError) as exc:
                # Steps turn their own errors into _JobFailed, so this is the connection being
                # refused for good (a changed SSH host key, a rejected or missing credential):
                # this host's outcome, never an exception that kills the whole wave.
                raise _JobFailed("connect", str(exc)) from exc

    async def _step(self, step: str, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except HostUnreachable:
                raise
            except EndpointError as exc:
                if is_transient(exc) and attempt <= self.policy.retries:
                    await asyncio.sleep(self.policy.retry_delay.total_seconds())
                    continue
                raise _JobFailed(step, str(exc)) from exc

    def _patches(self, ids: Sequence[str]) -> list[Advisory]:
        return [self.advisories[i] for i in ids if i in self.advisories]

    async def _pipeline(self, job: JobRecord, ep: Endpoint) -> None:
        now = self.clock.now()
        await self.ledger.transition(job, JobState.QUEUED, started_at=job.started_at or now)
        await self.ledger.transition(job, JobState.PRECHECKED)
        if self.policy.prechecks:
            checks = await self._step("precheck", lambda: ep.precheck(self.policy.prechecks))
            if not checks.ok:
                raise _JobFailed(
                    "precheck", "; ".join(f"{k}: {v}" for k, v in checks.failures.items())
                )
        if self.policy.snapshot:
            await self.ledger.transition(job, JobState.SNAPSHOTTED)
            snap = await self._step("snapshot", lambda: ep.snapshot(self.policy.snapshot))
            job.snapshot_id = snap
            crashpoint("after-snapshot")
        await self._install(job, ep, list(job.patches))

    async def _install(self, job: JobRecord, ep: Endpoint, ids: list[str]) -> None:
        await self.ledger.transition(job, JobState.INSTALLING, attempts=job.attempts + 1)
        patches = self._patches(ids)
        result = await self._step("install", lambda: ep.install(patches))
        crashpoint("after-install")
        job.installed = sorted(set(job.installed) | set(result.installed) | set(ids))
        job.reboot_required = job.reboot_required or result.reboot_required
        await self._after_install(job, ep)

    async def _after_install(self, job: JobRecord, ep: Endpoint) -> None:
        policy = self.policy.reboot
        wants = policy is RebootPolicy.ALWAYS or (
            policy is RebootPolicy.IF_REQUIRED and job.reboot_required
        )
        if wants:
            await self.ledger.transition(job, JobState.REBOOTING)
            await self._step("reboot", ep.reboot)
            crashpoint("after-reboot")
            await self._wait_back(job, ep)
        await self._verify(job, ep)

    async def _wait_back(self, job: JobRecord, ep: Endpoint) -> None:
        timeout = self.policy.reboot_timeout
        try:
            await ep.wait_for_return(timeout.total_seconds())
        except HostUnreachable as exc:
            raise _JobFailed("reboot", f"did not come back within {timeout}: {exc}") from exc
        job.rebooted = True

    async def _verify(self, job: JobRecord, ep: Endpoint) -> None:
        await self.ledger.transition(job, JobState.VERIFYING)
        patches = self._patches(job.patches)
        verdict = await self._step("verify", lambda: ep.verify(patches))
        if not verdict.ok:
            raise _JobFailed(
                "verify", "still missing after install: " + ", ".join(verdict.still_missing)
            )
        if self.policy.postchecks:
            post = await self._step("postcheck", lambda: ep.postcheck(self.policy.postchecks))
            if not post.ok:
                raise _JobFailed(
                    "postcheck", "; ".join(f"{k}: {v}" for k, v in post.failures.items())
                )
        await self.ledger.transition(
            job, JobState.SUCCEEDED, finished_at=self.clock.now(), error=None, failed_step=None
        )
        self._count(job)

    async def _recover(self, job: JobRecord, ep: Endpoint) -> None:
        """Continue a job found in flight: scan first, never reinstall blindly."""
        if job.state in (JobState.PRECHECKED, JobState.QUEUED):
            await self._pipeline(job, ep)
            return
        scan = await self._step("verify", ep.scan)
        missing = [p for p in job.patches if p in {a.id for a in scan.missing}]
        if job.state in (JobState.SNAPSHOTTED, JobState.INSTALLING):
            if missing:
                # Not (or not fully) installed: install exactly what is still missing.
                job.installed = [p for p in job.patches if p not in missing]
                await self._install(job, ep, missing)
                return
            job.installed = list(job.patches)
            job.reboot_required = (
                job.reboot_required
                or scan.reboot_pending
                or any(a.reboot_required for a in self._patches(job.patches))
            )
            await self._after_install(job, ep)
            return
        if job.state is JobState.REBOOTING:
            if scan.reboot_pending or scan.facts.reboot_pending:
                await self._step("reboot", ep.reboot)  # the install had succeeded: allowed
                crashpoint("after-reboot")
            await self._wait_back(job, ep)
            await self._verify(job, ep)
            return
        await self._verify(job, ep)  # VERIFYING

    # -- outcomes ------------------------------------------------------------------------------

    async def _fail(self, job: JobRecord, step: str, message: str) -> None:
        await self.ledger.transition(
            job,
            JobState.FAILED,
            failed_step=step,
            error=message[:2000],
            finished_at=self.clock.now(),
        )
        self._count(job)
        if not self.result.aborted and wave_should_abort(
            self.result.failed, self._size, self.policy.max_fail_percentage
        ):
            self.result.aborted = True
            self._aborted.set()
            self.result.abort_reason = (
                f"wave aborted: {self.result.failed} of {self._size} hosts failed "
                f"(more than {self.policy.max_fail_percentage:g}%)"
            )

    async def _skip(self, job: JobRecord, reason: str) -> None:
        await self.ledger.transition(
            job, JobState.SKIPPED, error=reason, finished_at=self.clock.now()
        )
        self._count(job)

    def _count(self, job: JobRecord) -> None:
        r = self.result
        if job.state is JobState.SUCCEEDED:
            r.succeeded += 1
        elif job.state is JobState.FAILED:
            r.failed += 1
            r.failed_jobs.append(job.id)
        elif job.state is JobState.SKIPPED:
            r.skipped += 1
        if job.deferrals:
            r.deferred += 1
        if self.on_change is not None:
            self.on_change(job)
