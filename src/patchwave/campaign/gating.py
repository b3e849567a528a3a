"""Approval gating of a ring, Prefect-free: approval requests (one per client when client
admins approve), applying decisions to host jobs, and skipping — always with a reason — what
will not run."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update

from patchwave.campaign.approvals import auto_approve, create_request, requests_for_run
from patchwave.campaign.context import RunContext
from patchwave.campaign.crash import crashpoint
from patchwave.campaign.plan import plan_hash
from patchwave.campaign.runs import (
    JobRecord,
    get_run,
    iso,
    load_advisories,
    load_jobs,
    update_ring,
)
from patchwave.domain.approval import ApprovalStatus
from patchwave.domain.models import JobState, Risk, Tier
from patchwave.store.audit import AuditEvent, append
from patchwave.store.tables import AdvisoryRow, FindingRow, HostJobRow

_UNKNOWN_RISK = Risk(Tier.P4, 0, (), date.max)


def _job_risks(session: Any, jobs: list[JobRecord]) -> dict[tuple[int | None, str], Risk]:
    """The stored risk of each (host, patch) of these jobs, in a few narrow queries."""
    wanted = {(j.host.id, p) for j in jobs for p in j.patches}
    host_ids = sorted({j.host.id for j in jobs if j.host.id is not None})
    out: dict[tuple[int | None, str], Risk] = {}
    for start in range(0, len(host_ids), 5000):
        stmt = select(
            FindingRow.host_id,
            FindingRow.advisory_id,
            FindingRow.tier,
            FindingRow.score,
            FindingRow.deadline,
        ).where(FindingRow.host_id.in_(host_ids[start : start + 5000]))
        for host_id, adv_id, tier, score, deadline in session.execute(stmt):
            if (host_id, adv_id) in wanted:
                out[(host_id, adv_id)] = Risk(Tier(tier), score, (), deadline)
    return out


def _kev_ids(session: Any, advisories: dict[str, Any]) -> set[str]:
    ids = sorted(advisories)
    return set(
        session.scalars(
            select(AdvisoryRow.id).where(AdvisoryRow.id.in_(ids), AdvisoryRow.kev.is_(True))
        )
    )


def ring_requests(ctx: RunContext, ring_name: str) -> list[str]:
    """Create (once) the ring's approval requests, auto-approving where the spec allows.
    Returns the ids of every request of the ring."""
    spec = ctx.spec
    ring = spec.ring_named(ring_name)
    now = ctx.clock.now()
    with ctx.store.session() as session:
        existing = requests_for_run(session, ctx.run_id, ring=ring_name)
        if existing:
            return [v.request.id for v in existing]
        jobs = [
            j for j in load_jobs(session, ctx.run_id, ring=ring_name) if j.state is JobState.PENDING
        ]
        if not jobs:
            return []
        advisories = load_advisories(session, [p for j in jobs for p in j.patches])
        risks = _job_risks(session, jobs)
        kev_ids = _kev_ids(session, advisories)
        run = get_run(session, ctx.run_id)
        per_tenant = "tenant-admins" in ring.approval.approvers and not ring.approval.is_auto
        groups: dict[tuple[str, ...], list[JobRecord]] = defaultdict(list)
        for job in jobs:
            groups[(job.host.tenant,) if per_tenant else ()].append(job)
        ids = []
        for key, group in sorted(groups.items()):
            tenants = key or tuple(sorted({j.host.tenant for j in group}))
            items = [
                (advisories[p], risks.get((j.host.id, p), _UNKNOWN_RISK), p in kev_ids)
                for j in group
                for p in j.patches
                if p in advisories
            ]
            critical = (
                spec.kind.value == "emergency"
                or any(k for _, _, k in items)
                or any(r.tier is Tier.P1 for _, r, _ in items)
            )
            top: dict[str, dict[str, Any]] = {}
            for adv, risk, kev in items:
                entry = top.setdefault(
                    adv.id,
                    {
                        "id": adv.id,
                        "title": adv.title,
                        "tier": risk.tier.value,
                        "kev": kev,
                        "hosts": 0,
                        "reboot": adv.reboot_required,
                    },
                )
                entry["hosts"] += 1
                if risk.tier.rank < Tier(entry["tier"]).rank:
                    entry["tier"] = risk.tier.value
            ordered = sorted(top.values(), key=lambda p: (not p["kev"], p["tier"], -p["hosts"]))
            first = min((j.not_before for j in group if j.not_before), default=None)
            summary = {
                "hosts": len(group),
                "patches": len(top),
                "kev": sum(p["kev"] for p in ordered),
                "top_patches": ordered[:20],
                "campaign": spec.name,
                "window_start": iso(first),
                "reboot": any(p["reboot"] for p in ordered),
                "tiers": {t.value: sum(1 for p in ordered if p["tier"] == t.value) for t in Tier},
            }
            request_hash = plan_hash(
                [spec.name, ring_name, tenants, sorted((j.host.key, j.patches) for j in group)]
            )
            request = create_request(
                session,
                run_id=ctx.run_id,
                ring=ring_name,
                plan_hash=request_hash,
                tenants=tenants,
                approver_groups=ring.approval.approvers,
                min_approvers=ring.approval.min_approvers,
                critical=critical,
                requested_by=run.requested_by,
                requested_at=now,
                expires_at=now + ring.approval.expires,
                summary=summary,
            )
            ids.append(request.id)
            rule = ring.approval.auto_approve_if
            if ring.approval.is_auto:
                auto_approve(
                    session, request_id=request.id, now=now, reason="approval: auto in the campaign"
                )
            elif rule is not None and rule.allows(
                (advisories.get(a.id, a), r.tier) for a, r, _ in items
            ):
                auto_approve(
                    session,
                    request_id=request.id,
                    now=now,
                    reason="the campaign's auto_approve_if rule matched",
                )
        update_ring(session, ctx.run_id, ring_name, status="awaiting_approval")
    crashpoint("after-approval-request")
    return ids


def apply_approvals(ctx: RunContext, ring_name: str, request_ids: list[str]) -> dict[str, Any]:
    """Move the ring's jobs on according to its decided requests: approved tenants' jobs become
    ``approved``; rejected or expired tenants' jobs are skipped here and in every later ring."""
    now = ctx.clock.now()
    with ctx.store.session() as session:
        views = [
            v
            for v in requests_for_run(session, ctx.run_id, ring=ring_name)
            if v.request.id in request_ids
        ]
        approved_tenants: set[str] = set()
        refused: dict[str, str] = {}
        for v in views:
            req = v.request
            if req.status is ApprovalStatus.APPROVED:
                approved_tenants |= set(req.tenants)
            else:
                who = ", ".join(d.approver for d in v.decisions if not d.approve)
                reason = (
                    f"approval rejected by {who}"
                    if req.status is ApprovalStatus.REJECTED
                    else f"approval {req.status.value}"
                )
                for t in req.tenants:
                    refused[t] = f"{reason} (ring {ring_name}, request {req.id})"
        ring_index = ctx.spec.rings.index(ctx.spec.ring_named(ring_name))
        # Refusals reach into later rings; approvals only concern this one.
        jobs = load_jobs(session, ctx.run_id, ring=None if refused else ring_name)
        approve_ids, skip_rows = [], []
        for job in jobs:
            if job.state is not JobState.PENDING:
                continue
            if job.ring == ring_name and job.host.tenant in approved_tenants:
                approve_ids.append(job.id)
            elif job.host.tenant in refused and job.ring_index >= ring_index:
                skip_rows.append((job, refused[job.host.tenant]))
        table = HostJobRow.__table__
        assert isinstance(table, Table)
        if approve_ids:
            for start in range(0, len(approve_ids), 5000):
                session.execute(
                    update(table)
                    .where(table.c.id.in_(approve_ids[start : start + 5000]))
                    .values(state=JobState.APPROVED.value, updated_at=now)
                )
        _skip_jobs(session, ctx.run_id, skip_rows, now)
        approved_set = set(approve_ids)
        events = [
            AuditEvent(
                actor="patchwave",
                action="job.approved",
                run_id=ctx.run_id,
                host=j.host.key,
                subject=ring_name,
                at=now,
                details={"from": "pending", "to": "approved"},
            )
            for j in jobs
            if j.id in approved_set
        ]
        append(session, events)
        statuses = {v.request.status for v in views}
        ring_status = (
            "approved"
            if approved_tenants
            else ("rejected" if ApprovalStatus.REJECTED in statuses else "expired")
        )
        update_ring(session, ctx.run_id, ring_name, status=ring_status)
    crashpoint("after-approvals-applied")
    return {"approved": len(approve_ids), "skipped": len(skip_rows), "status": ring_status}


def _skip_jobs(session: Any, run_id: str, rows: list[tuple[JobRecord, str]], now: datetime) -> None:
    if not rows:
        return
    table = HostJobRow.__table__
    assert isinstance(table, Table)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            state=JobState.SKIPPED.value,
            error=bindparam("b_error"),
            finished_at=now,
            updated_at=now,
        ),
        [{"b_id": j.id, "b_error": reason} for j, reason in rows],
    )
    append(
        session,
        [
            AuditEvent(
                actor="patchwave",
                action="job.skipped",
                run_id=run_id,
                host=j.host.key,
                subject=j.ring,
                at=now,
                details={"from": j.state.value, "to": "skipped", "error": reason},
            )
            for j, reason in rows
        ],
    )


def skip_remaining(
    ctx: RunContext,
    *,
    from_ring_index: int,
    reason: str,
    ring: str | None = None,
    wave_after: int | None = None,
) -> int:
    """Skip, with a reason, every job not yet started in rings from ``from_ring_index`` on (or
    in one ring's later waves). Nothing is ever dropped silently."""
    with ctx.store.session() as session:
        rows = []
        for job in load_jobs(session, ctx.run_id):
            if job.state not in (JobState.PENDING, JobState.APPROVED):
                continue
            if ring is not None:
                if job.ring != ring or (wave_after is not None and job.wave <= wave_after):
                    continue
            elif job.ring_index < from_ring_index:
                continue
            rows.append((job, reason))
        _skip_jobs(session, ctx.run_id, rows, ctx.clock.now())
    return len(rows)
