"""Messages about how a run went, read from the store: wave progress, failure alerts, a halted
gate and the final summary (see campaign_messages.py for the shared readers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from patchwave.notify.campaign_messages import lookup, run_jobs, sole
from patchwave.notify.messages import (
    CampaignCompleted,
    FailureAlert,
    GateHalted,
    TenantSummary,
    WaveProgress,
)
from patchwave.store.tables import CampaignRunRow

FINAL_STATUSES = ("completed", "halted", "rejected", "expired", "failed", "cancelled")
RUNNING_STATES = frozenset(
    {"queued", "prechecked", "snapshotted", "installing", "rebooting", "verifying", "rolling_back"}
)
REMEDIES = {
    "precheck": "Free disk space or finish the pending reboot on {host}, then resume the run "
    "(`patchwave campaign resume {run}`).",
    "snapshot": "Check the snapshot hook (hypervisor credentials, datastore space), then resume "
    "the run.",
    "install": "Read the package manager's error on {host} (apt/dnf/zypper or the Windows Update "
    "log) and fix it, then resume the run: the host is re-verified by a scan before any retry.",
    "reboot": "{host} did not come back after its reboot: check its console; once it is up, "
    "resume the run (a scan verifies it first).",
    "verify": "The patch is not confirmed on {host}: rescan it (`patchwave scan`) and check the "
    "package manager's log.",
    "postcheck": "A post-check failed on {host}: check its services, or roll it back with "
    "`patchwave rollback {run} --host {host}`.",
    "connect": "{host} was unreachable: check the network path and its credential, then resume "
    "the run.",
    "timeout": "{host} ran out of time: check it is not stuck in an install or a reboot, then "
    "resume the run.",
    "rollback": "The rollback failed: {host} needs a person (restore its snapshot or remove the "
    "patch by hand).",
}
DEFAULT_REMEDY = (
    "Check {host} and the run's log, then resume the run (`patchwave campaign resume {run}`)."
)


def wave_progress(
    session: Session, run_id: str, ring: str, wave: int, *, now: datetime
) -> WaveProgress | None:
    jobs = run_jobs(session, run_id, ring=ring, wave=wave)
    if not jobs:
        return None
    run = session.get(CampaignRunRow, run_id)
    counts: dict[str, int] = defaultdict(int)
    deferred = 0
    for job in jobs:
        if job.row.state in ("pending", "approved") and job.row.deferrals:
            deferred += 1
        counts["running" if job.row.state in RUNNING_STATES else job.row.state] += 1
    aborted = any(
        j.row.state == "skipped" and (j.row.error or "").startswith("wave aborted") for j in jobs
    )
    terminal = counts["succeeded"] + counts["failed"] + counts["skipped"] + counts["rolled_back"]
    state: Literal["running", "finished", "aborted"] = (
        "aborted" if aborted else "finished" if terminal == len(jobs) else "running"
    )
    started = min((j.row.started_at for j in jobs if j.row.started_at), default=None)
    updated = max(j.row.updated_at for j in jobs)
    started = started or (run.started_at if run and run.started_at else updated)
    return WaveProgress(
        run_id=run_id,
        campaign=run.campaign if run else run_id,
        ring=ring,
        wave=wave + 1,  # people count waves from 1; the store from 0
        total=len(jobs),
        started_at=started,
        updated_at=max(updated, started),
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        running=counts["running"],
        skipped=counts["skipped"],
        deferred=deferred,
        rolled_back=counts["rolled_back"],
        state=state,
        tenant=sole(j.tenant for j in jobs),
    )


def failure_alerts(
    session: Session, run_id: str, job_ids: Sequence[int], *, now: datetime
) -> list[tuple[FailureAlert, str]]:
    """One alert per failed job, with its de-duplication subject (job and attempt)."""
    run = session.get(CampaignRunRow, run_id)
    alerts = []
    for job in run_jobs(session, run_id, ids=job_ids):
        row = job.row
        if row.state not in ("failed", "rolled_back") and not row.failed_step:
            continue
        missing = [str(p) for p in row.patches or () if p not in (row.installed or ())]
        remedy = REMEDIES.get(row.failed_step or "", DEFAULT_REMEDY)
        alert = FailureAlert(
            run_id=run_id,
            campaign=run.campaign if run else run_id,
            ring=row.ring,
            wave=row.wave + 1,
            host=job.host,
            patch=", ".join(missing or [str(p) for p in row.patches or ()]) or "(no patch)",
            step=row.failed_step or row.state,
            error=row.error or "no error text recorded",
            remedy=remedy.format(host=job.host, run=run_id),
            occurred_at=row.finished_at or row.updated_at or now,
            attempts=max(row.attempts, 1),
            tenant=job.tenant,
        )
        alerts.append((alert, f"failure:{row.id}:{row.attempts}"))
    return alerts


def _ring_index(run: CampaignRunRow, ring: str) -> int | None:
    for i, r in enumerate(lookup(run.spec, "rings", default=[])):
        if isinstance(r, dict) and r.get("name") == ring:
            return i
    return None


def gate_halted(session: Session, run_id: str, ring: str) -> GateHalted | None:
    run = session.get(CampaignRunRow, run_id)
    if run is None:
        return None
    index = _ring_index(run, ring)
    spec_ring = lookup(run.spec, "rings", default=[])[index] if index is not None else {}
    rings: list[dict[str, Any]] = lookup(run.summary, "rings", default=[])
    state = next((r for r in rings if r.get("name") == ring), {})
    gate = state.get("gate") or {}
    jobs = run_jobs(session, run_id, ring=ring)
    succeeded = int(gate.get("succeeded", sum(j.row.state == "succeeded" for j in jobs)))
    failed = int(gate.get("failed", sum(j.row.state == "failed" for j in jobs)))
    hosts = int(state.get("hosts") or len(jobs))
    rate = float(gate.get("success_rate", succeeded / hosts if hosts else 0.0))
    reasons = [str(r) for r in gate.get("reasons", [])]
    reasons += [f"health check: {h}" for h in gate.get("health_failures", [])]
    rolling_back = lookup(run.spec, "deployment", "on_gate_failure") == "halt-and-rollback"
    if rolling_back:
        next_step = (
            f"Ring {ring} is rolled back automatically; read the failures in the wave threads, "
            f"fix the cause, then start a new run."
        )
    else:
        next_step = (
            f"Read the failures in the wave threads. Once fixed, `patchwave campaign resume "
            f"{run_id}`; to undo the ring, `patchwave rollback {run_id} --ring {ring}`."
        )
    max_failures = lookup(spec_ring, "gate", "max_failures")
    return GateHalted(
        run_id=run_id,
        campaign=run.campaign,
        ring=ring,
        reasons=tuple(reasons),
        hosts=hosts,
        succeeded=succeeded,
        failures=failed,
        success_rate=rate,
        min_success_rate=float(lookup(spec_ring, "gate", "min_success_rate", default=0.95)),
        next_step=next_step,
        max_failures=int(max_failures) if max_failures is not None else None,
        rolling_back=bool(rolling_back),
        tenant=sole(j.tenant for j in jobs),
    )


def campaign_completed(
    session: Session, run_id: str, *, report_url: str | None, now: datetime
) -> CampaignCompleted | None:
    run = session.get(CampaignRunRow, run_id)
    if run is None:
        return None
    jobs = run_jobs(session, run_id)
    per_tenant: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for job in jobs:
        state = job.row.state
        if state in ("pending", "approved") and job.row.deferrals:
            state = "deferred"
        totals[state] += 1
        per_tenant[job.tenant][state] += 1
    summary = run.summary or {}
    compliance_before = compliance_after = None
    scope = int(summary.get("scope_hosts") or 0)
    if scope and "hosts_compliant_at_start" in summary:
        # A host whose job succeeded has every selected patch installed and verified.
        compliant = int(summary["hosts_compliant_at_start"])
        compliance_before = compliant / scope
        compliance_after = min(compliant + totals["succeeded"], scope) / scope
    status = run.status if run.status in FINAL_STATUSES else "failed"
    finished = run.finished_at or now
    return CampaignCompleted(
        run_id=run_id,
        campaign=run.campaign,
        status=status,  # type: ignore[arg-type]
        started_at=run.started_at or run.created_at,
        finished_at=max(finished, run.started_at or run.created_at),
        hosts=len(jobs),
        succeeded=totals["succeeded"],
        failed=totals["failed"],
        skipped=totals["skipped"],
        deferred=totals["deferred"],
        rolled_back=totals["rolled_back"],
        tenants=tuple(
            TenantSummary(t, c["succeeded"], c["failed"], c["deferred"])
            for t, c in sorted(per_tenant.items())
        ),
        report_url=report_url,
        compliance_before=compliance_before,
        compliance_after=compliance_after,
    )
