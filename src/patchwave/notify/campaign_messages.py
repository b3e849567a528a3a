"""What each campaign message says, read from the store (campaign-contract.md semantics).

Every builder takes an open session and plain ids and returns message dataclasses from
:mod:`patchwave.notify.messages` (or ``None`` when there is nothing to say). Nothing here sends;
:mod:`patchwave.notify.campaign` routes, delivers and records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from patchwave.domain.models import Tier
from patchwave.notify.messages import (
    ApprovalDecided,
    ApprovalRequest,
    CampaignCompleted,
    ClientNotice,
    FailureAlert,
    GateHalted,
    PatchLine,
    TenantSummary,
    WaveProgress,
)
from patchwave.store.tables import (
    AdvisoryRow,
    ApprovalDecisionRow,
    ApprovalRow,
    CampaignRunRow,
    FindingRow,
    HostJobRow,
    HostRow,
    TenantRow,
)

RUNNING_STATES = frozenset(
    {"queued", "prechecked", "snapshotted", "installing", "rebooting", "verifying", "rolling_back"}
)
FINAL_STATUSES = ("completed", "halted", "rejected", "expired", "failed")
VIA = {"slack": "slack", "ui": "prefect-ui", "cli": "cli", "auto": "auto"}
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


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a run's messages go and which ones it wants, from its spec's ``notify.slack``."""

    default_channel: str
    tenant_channels: dict[str, str] = field(default_factory=dict)
    failures: Literal["immediate", "summary"] = "immediate"
    progress: bool = False


def lookup(data: Any, *path: str, default: Any = None) -> Any:
    """``data[path[0]][path[1]]...`` in JSON data (a stored spec or summary), else ``default``."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return default if data is None else data


def routing(session: Session, run: CampaignRunRow | None, default_channel: str) -> Routing:
    """A tenant's own channel (tenants.slack_channel) first, else the spec's channel, else the
    default; a spec that names a channel without ``channel_per_tenant`` keeps everything there."""
    slack = lookup(run.spec if run else None, "notify", "slack", default={})
    spec_channel = slack.get("channel")
    per_tenant = bool(slack.get("channel_per_tenant")) or not spec_channel
    tenants: dict[str, str] = {}
    if per_tenant:
        rows = session.execute(select(TenantRow.slug, TenantRow.slack_channel))
        tenants = {slug: channel for slug, channel in rows if channel}
    return Routing(
        default_channel=spec_channel or default_channel,
        tenant_channels=tenants,
        failures="summary" if slack.get("failures") == "summary" else "immediate",
        progress=bool(slack.get("progress")),
    )


def _zone(session: Session, tenant: str | None) -> tzinfo:
    if tenant is None:
        return UTC
    name = session.scalar(select(TenantRow.timezone).where(TenantRow.slug == tenant))
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _sole(values: Iterable[str]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


@dataclass(frozen=True, slots=True)
class _Job:
    row: HostJobRow
    host: str
    tenant: str


def _jobs(
    session: Session,
    run_id: str,
    *,
    ring: str | None = None,
    wave: int | None = None,
    tenants: Sequence[str] = (),
    ids: Sequence[int] = (),
) -> list[_Job]:
    stmt = (
        select(HostJobRow, HostRow.name, TenantRow.slug)
        .join(HostRow, HostRow.id == HostJobRow.host_id)
        .join(TenantRow, TenantRow.id == HostRow.tenant_id)
        .where(HostJobRow.run_id == run_id)
    )
    if ring is not None:
        stmt = stmt.where(HostJobRow.ring == ring)
    if wave is not None:
        stmt = stmt.where(HostJobRow.wave == wave)
    if tenants:
        stmt = stmt.where(TenantRow.slug.in_(list(tenants)))
    if ids:
        stmt = stmt.where(HostJobRow.id.in_(list(ids)))
    return [_Job(r, h, t) for r, h, t in session.execute(stmt.order_by(HostJobRow.id))]


def _patch_lines(session: Session, jobs: Sequence[_Job]) -> tuple[PatchLine, ...]:
    """Each advisory the jobs install: hosts missing it, its most urgent tier, KEV, reboot."""
    hosts: dict[str, set[int]] = defaultdict(set)
    for job in jobs:
        for advisory in job.row.patches or ():
            hosts[str(advisory)].add(job.row.host_id)
    if not hosts:
        return ()
    advisories = {
        a.id: a for a in session.scalars(select(AdvisoryRow).where(AdvisoryRow.id.in_(hosts)))
    }
    tiers: dict[str, Tier] = {}
    host_ids = {j.row.host_id for j in jobs}
    found = session.execute(
        select(FindingRow.advisory_id, FindingRow.tier, FindingRow.host_id).where(
            FindingRow.advisory_id.in_(hosts)
        )
    )
    for advisory_id, tier, host_id in found:
        if host_id in host_ids and tier in Tier.__members__:
            current = tiers.get(advisory_id)
            if current is None or Tier(tier).rank < current.rank:
                tiers[advisory_id] = Tier(tier)
    lines = []
    for advisory_id, on in hosts.items():
        row = advisories.get(advisory_id)
        lines.append(
            PatchLine(
                advisory_id=advisory_id,
                title=row.title if row else advisory_id,
                tier=tiers.get(advisory_id, Tier.P4),
                kev=bool(row and row.kev),
                hosts=len(on),
                reboot=bool(row and row.reboot_required),
            )
        )
    return tuple(lines)


def _window(jobs: Sequence[_Job], zone: tzinfo, fallback: datetime) -> tuple[datetime, datetime]:
    """The forecast span of the jobs' windows; without a forecast (windows ignored): from
    ``fallback`` for the longest estimated install."""
    starts = [j.row.planned_start or j.row.not_before for j in jobs]
    ends = [j.row.planned_end for j in jobs]
    start = min((s for s in starts if s), default=None)
    end = max((e for e in ends if e), default=None)
    if start is None:
        start = fallback
    if end is None or end < start:
        longest = max((j.row.est_seconds for j in jobs), default=0)
        end = start + timedelta(seconds=max(longest, 60))
    return start.astimezone(zone), end.astimezone(zone)


def approval_request(session: Session, request_id: str) -> ApprovalRequest | None:
    row = session.get(ApprovalRow, request_id)
    if row is None:
        return None
    run = session.get(CampaignRunRow, row.run_id)
    tenants = tuple(sorted(str(t) for t in row.tenants or ()))
    jobs = _jobs(session, row.run_id, ring=row.ring, tenants=tenants)
    tenant = tenants[0] if len(tenants) == 1 else None
    start, end = _window(jobs, _zone(session, tenant), row.requested_at)
    return ApprovalRequest(
        request_id=row.id,
        campaign=run.campaign if run else row.run_id,
        run_id=row.run_id,
        ring=row.ring,
        host_count=len(jobs) or int(lookup(row.summary, "hosts", default=0)),
        patches=_patch_lines(session, jobs),
        window_start=start,
        window_end=end,
        expires_at=row.expires_at,
        plan_hash=row.plan_hash,
        requested_by=row.requested_by,
        tenants=tenants,
        approvers=", ".join(str(g) for g in row.approver_roles or ()),
        required_approvals=row.min_approvers,
        tenant=tenant,
    )


def approval_decided(session: Session, request_id: str) -> ApprovalDecided | None:
    """The request's decision so far: final (approved by enough people, or rejected) or "k of
    n"; ``None`` while nobody has decided (or when it expired undecided)."""
    row = session.get(ApprovalRow, request_id)
    if row is None:
        return None
    decisions = list(
        session.scalars(
            select(ApprovalDecisionRow)
            .where(ApprovalDecisionRow.approval_id == request_id)
            .order_by(ApprovalDecisionRow.id)
        )
    )
    if not decisions:
        return None
    run = session.get(CampaignRunRow, row.run_id)
    rejection = next((d for d in decisions if d.decision != "approve"), None)
    approvals = [d for d in decisions if d.decision == "approve"]
    last = rejection or decisions[-1]
    if rejection is None and row.status == "approved" and len(approvals) > 1:
        decided_by = " and ".join(d.approver for d in approvals)
    else:
        decided_by = last.approver
    tenants = sorted(str(t) for t in row.tenants or ())
    return ApprovalDecided(
        request_id=row.id,
        campaign=run.campaign if run else row.run_id,
        run_id=row.run_id,
        ring=row.ring,
        decision="rejected" if rejection else "approved",
        decided_by=decided_by,
        decided_at=last.at,
        via=VIA.get(last.channel, "cli"),  # type: ignore[arg-type]
        plan_hash=row.plan_hash,
        comment=last.comment or "",
        approvals=len(approvals),
        required_approvals=row.min_approvers,
        tenant=tenants[0] if len(tenants) == 1 else None,
    )


def wave_progress(
    session: Session, run_id: str, ring: str, wave: int, *, now: datetime
) -> WaveProgress | None:
    jobs = _jobs(session, run_id, ring=ring, wave=wave)
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
        wave=wave,
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
        tenant=_sole(j.tenant for j in jobs),
    )


def failure_alerts(
    session: Session, run_id: str, job_ids: Sequence[int], *, now: datetime
) -> list[tuple[FailureAlert, str]]:
    """One alert per failed job, with its de-duplication subject (job and attempt)."""
    run = session.get(CampaignRunRow, run_id)
    alerts = []
    for job in _jobs(session, run_id, ids=job_ids):
        row = job.row
        if row.state not in ("failed", "rolled_back") and not row.failed_step:
            continue
        missing = [str(p) for p in row.patches or () if p not in (row.installed or ())]
        remedy = REMEDIES.get(row.failed_step or "", DEFAULT_REMEDY)
        alert = FailureAlert(
            run_id=run_id,
            campaign=run.campaign if run else run_id,
            ring=row.ring,
            wave=row.wave,
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
    jobs = _jobs(session, run_id, ring=ring)
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
        tenant=_sole(j.tenant for j in jobs),
    )


def campaign_completed(
    session: Session, run_id: str, *, report_url: str | None, now: datetime
) -> CampaignCompleted | None:
    run = session.get(CampaignRunRow, run_id)
    if run is None:
        return None
    jobs = _jobs(session, run_id)
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


def client_notices(session: Session, run_id: str, ring: str) -> list[tuple[ClientNotice, str]]:
    """One notice per tenant with hosts in the ring, in the tenant's own time zone."""
    run = session.get(CampaignRunRow, run_id)
    if run is None:
        return []
    by_tenant: dict[str, list[_Job]] = defaultdict(list)
    for job in _jobs(session, run_id, ring=ring):
        if job.row.state not in ("skipped",):
            by_tenant[job.tenant].append(job)
    names = {slug: name for slug, name in session.execute(select(TenantRow.slug, TenantRow.name))}
    notices = []
    for tenant, jobs in sorted(by_tenant.items()):
        start, end = _window(jobs, _zone(session, tenant), run.started_at or run.created_at)
        patches = _patch_lines(session, jobs)
        notice = ClientNotice(
            tenant=tenant,
            tenant_name=names.get(tenant) or tenant,
            campaign=run.campaign,
            window_start=start,
            window_end=end,
            host_count=len(jobs),
            patches=patches,
            reboot_expected=any(j.row.reboot_required for j in jobs)
            or any(p.reboot for p in patches),
            hosts=tuple(j.host for j in jobs),
            contact=str(lookup(run.spec, "owner", default="")),
        )
        notices.append((notice, f"notice:{run_id}:{ring}:{tenant}"))
    return notices
