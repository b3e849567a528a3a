"""What each campaign message says, read from the store (campaign-contract.md semantics):
routing, the approval messages and client notices here, with the readers that
:mod:`patchwave.notify.run_messages` (progress, failures, gates, summary) shares.

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
    ClientNotice,
    PatchLine,
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

VIA = {"slack": "slack", "ui": "prefect-ui", "cli": "cli", "auto": "auto"}


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


def sole(values: Iterable[str]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


@dataclass(frozen=True, slots=True)
class RunJob:
    row: HostJobRow
    host: str
    tenant: str


def run_jobs(
    session: Session,
    run_id: str,
    *,
    ring: str | None = None,
    wave: int | None = None,
    tenants: Sequence[str] = (),
    ids: Sequence[int] = (),
) -> list[RunJob]:
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
    return [RunJob(r, h, t) for r, h, t in session.execute(stmt.order_by(HostJobRow.id))]


def _patch_lines(session: Session, jobs: Sequence[RunJob]) -> tuple[PatchLine, ...]:
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


def _window(jobs: Sequence[RunJob], zone: tzinfo, fallback: datetime) -> tuple[datetime, datetime]:
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
    jobs = run_jobs(session, row.run_id, ring=row.ring, tenants=tenants)
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
    run = session.get(CampaignRunRow, row.run_id)
    if row.status in ("expired", "cancelled"):
        # Nobody (or not enough people) decided in time: the buttons must go all the same.
        tenants = sorted(str(t) for t in row.tenants or ())
        return ApprovalDecided(
            request_id=row.id,
            campaign=run.campaign if run else row.run_id,
            run_id=row.run_id,
            ring=row.ring,
            decision="expired" if row.status == "expired" else "cancelled",
            decided_by="nobody in time" if row.status == "expired" else "the run was cancelled",
            decided_at=row.decided_at or row.expires_at,
            via="auto",
            plan_hash=row.plan_hash,
            approvals=sum(d.decision == "approve" for d in decisions),
            required_approvals=row.min_approvers,
            tenant=tenants[0] if len(tenants) == 1 else None,
        )
    if not decisions:
        return None
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


def client_notices(session: Session, run_id: str, ring: str) -> list[tuple[ClientNotice, str]]:
    """One notice per tenant with hosts in the ring, in the tenant's own time zone."""
    run = session.get(CampaignRunRow, run_id)
    if run is None:
        return []
    by_tenant: dict[str, list[RunJob]] = defaultdict(list)
    for job in run_jobs(session, run_id, ring=ring):
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
