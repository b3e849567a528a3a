"""Campaign steps as Prefect tasks: plain ids in, plain data out; the work is in
``patchwave.campaign``. Tasks run in the flow's thread (called, not submitted), one at a time."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from patchwave.campaign import gating, service
from patchwave.campaign.context import RunContext
from patchwave.campaign.rollback import rollback
from patchwave.campaign.runs import JobRecord
from patchwave.domain.models import JobState
from patchwave.notify.campaign import notify_host_failures, notify_wave_progress
from patchwave.store import open_store
from tasks.common import retry_transient

_log = logging.getLogger(__name__)
_TASK: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "retry_condition_fn": retry_transient,
    "retries": 2,
    "retry_delay_seconds": 10,
}


@task(name="detect", timeout_seconds=4 * 3600, **_TASK)
def detect_task(run_id: str) -> dict[str, Any]:
    """Scan every host in the campaign's scope and store ranked findings.

    Args:
        run_id: The campaign run.
    """
    result = service.detect(RunContext.load(run_id))
    for host, error in result["failed"]:
        get_run_logger().warning("scan of %s failed: %s (the host stays in the plan)", host, error)
    return result


@task(name="plan", timeout_seconds=3600, **_TASK)
def plan_task(run_id: str) -> dict[str, Any]:
    """Plan rings, waves and windows; persist one host job per host.

    Args:
        run_id: The campaign run.
    """
    result = service.plan(RunContext.load(run_id))
    get_run_logger().info("plan: %s", result)
    return result


@task(name="request-approval", timeout_seconds=600, **_TASK)
def request_approval_task(run_id: str, ring: str) -> list[str]:
    """Create the ring's approval requests (auto-approving where the campaign allows).

    Args:
        run_id: The campaign run.
        ring: The ring about to be deployed.
    """
    return gating.ring_requests(RunContext.load(run_id), ring)


@task(name="apply-approvals", timeout_seconds=600, **_TASK)
def apply_approvals_task(run_id: str, ring: str, request_ids: list[str]) -> dict[str, Any]:
    """Approve or skip the ring's jobs according to the decided requests.

    Args:
        run_id: The campaign run.
        ring: The ring.
        request_ids: Its approval requests.
    """
    return gating.apply_approvals(RunContext.load(run_id), ring, request_ids)


class _WaveObserver:
    """Tells people about a wave while it runs: a Prefect progress artifact (at most once a
    second), an immediate Slack alert for each failed host, and the wave's Slack progress message
    (every 15 s and at the end).

    Job changes arrive inside the wave's event loop, where Prefect's client would turn async and a
    slow Slack call would hold up every host; a small thread does the calls instead.
    """

    def __init__(self, run_id: str, ring: str, wave: int, total: int) -> None:
        self.run_id, self.ring, self.wave = run_id, ring, wave
        self.total = max(1, total)
        self.done = 0
        self._sent = -1
        self._failed: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_slack = 0.0
        self._store = open_store()
        artifact = create_progress_artifact(
            progress=0.0,
            key=f"campaign-{run_id}-{ring}-progress".lower(),
            description=f"Ring {ring}, wave {wave + 1}: hosts finished",
        )
        assert isinstance(artifact, UUID)  # sync context: never a coroutine here
        self.artifact_id = artifact
        self._thread = threading.Thread(target=self._loop, name="wave-observer", daemon=True)
        self._thread.start()

    def __call__(self, job: JobRecord) -> None:
        if job.state.terminal:
            self.done += 1
        if job.state is JobState.FAILED:
            with self._lock:
                self._failed.append(job.id)
        self._wake.set()

    def _push(self, *, final: bool = False) -> None:
        if self.done != self._sent:
            self._sent = self.done
            update_progress_artifact(self.artifact_id, progress=100.0 * self.done / self.total)
        with self._lock:
            failed, self._failed = self._failed, []
        if failed:
            notify_host_failures(self._store, self.run_id, failed)
        if final or time.monotonic() - self._last_slack >= 15.0:
            self._last_slack = time.monotonic()
            notify_wave_progress(self._store, self.run_id, self.ring, self.wave)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self._push()
            except Exception:  # noqa: BLE001 - telling people must never break a wave
                _log.warning("wave progress/alert update failed", exc_info=True)
            self._stop.wait(1.0)  # at most one round a second; wakes at once on close()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
        try:
            self._push(final=True)
        except Exception:  # noqa: BLE001
            _log.warning("final wave progress/alert update failed", exc_info=True)


@task(name="deploy-wave", **_TASK)
def deploy_wave_task(run_id: str, ring: str, wave: int, hosts: int) -> dict[str, Any]:
    """Deploy one wave: windows, slots, pre-checks, snapshot, install, reboot, verify.

    Per-host timeouts and retries are enforced inside (``deployment.host_timeout``).

    Args:
        run_id: The campaign run.
        ring: The ring.
        wave: The wave number (0-based).
        hosts: How many host jobs the wave holds (for the progress artifact).
    """
    progress = _WaveObserver(run_id, ring, wave, hosts)
    try:
        result = service.deploy_wave(RunContext.load(run_id), ring, wave, on_change=progress)
    finally:
        progress.close()
    log = get_run_logger()
    log.info(
        "ring %s wave %d: %d succeeded, %d failed, %d skipped, %d deferred%s",
        ring,
        wave + 1,
        result.succeeded,
        result.failed,
        result.skipped,
        result.deferred,
        f"; {result.abort_reason}" if result.aborted else "",
    )
    return {
        "succeeded": result.succeeded,
        "failed": result.failed,
        "skipped": result.skipped,
        "deferred": result.deferred,
        "aborted": result.aborted,
        "abort_reason": result.abort_reason,
        "failed_jobs": result.failed_jobs,
    }


@task(name="verify-ring", timeout_seconds=4 * 3600, **_TASK)
def verify_ring_task(run_id: str, ring: str) -> dict[str, Any]:
    """Re-scan the ring's hosts so findings show what is really installed.

    Args:
        run_id: The campaign run.
        ring: The ring.
    """
    return service.verify_ring(RunContext.load(run_id), ring)


@task(name="health-checks", timeout_seconds=3600, **_TASK)
def health_checks_task(run_id: str, ring: str) -> list[str]:
    """Run the ring gate's health checks on its patched hosts.

    Args:
        run_id: The campaign run.
        ring: The ring.
    """
    return service.health_checks(RunContext.load(run_id), ring)


@task(name="evaluate-gate", timeout_seconds=600, **_TASK)
def gate_task(
    run_id: str, ring: str, health_failures: list[str], wave_aborted: bool
) -> dict[str, Any]:
    """Decide promote or halt for a ring from its outcomes and health checks.

    Args:
        run_id: The campaign run.
        ring: The ring.
        health_failures: Failed health checks ("host: check: why").
        wave_aborted: Whether a wave of the ring was aborted.
    """
    d = service.gate(
        RunContext.load(run_id), ring, health_failures=health_failures, wave_aborted=wave_aborted
    )
    return {"promote": d.promote, "reasons": list(d.reasons), "success_rate": d.success_rate}


@task(name="rollback", timeout_seconds=4 * 3600, **_TASK)
def rollback_task(
    run_id: str, ring: str | None, hosts: list[str] | None, actor: str, reason: str
) -> dict[str, Any]:
    """Roll back what the run installed on a ring or on named hosts.

    Args:
        run_id: The campaign run.
        ring: Only this ring (all rings when empty).
        hosts: Only these hosts.
        actor: Who asked.
        reason: Why (recorded in the audit log).
    """
    return rollback(RunContext.load(run_id), ring=ring, hosts=hosts, actor=actor, reason=reason)


@task(name="skip-remaining", timeout_seconds=600, **_TASK)
def skip_remaining_task(
    run_id: str,
    from_ring_index: int,
    reason: str,
    ring: str | None = None,
    wave_after: int | None = None,
) -> int:
    """Skip, with a reason, jobs that will not run (never silently).

    Args:
        run_id: The campaign run.
        from_ring_index: First ring whose unstarted jobs are skipped.
        reason: Recorded on each job.
        ring: Restrict to one ring.
        wave_after: With ring: only waves after this one.
    """
    return gating.skip_remaining(
        RunContext.load(run_id),
        from_ring_index=from_ring_index,
        reason=reason,
        ring=ring,
        wave_after=wave_after,
    )
