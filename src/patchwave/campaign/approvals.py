"""Approval requests and decisions in the store: the one path every channel (CLI, Prefect UI form,
Slack buttons) goes through, so the same rules apply everywhere and every decision — and every
refused attempt — is audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patchwave.domain.approval import (
    ApprovalRequest,
    ApprovalStatus,
    Approver,
    Decision,
    Role,
    authorize,
    outcome,
)
from patchwave.errors import NotFound
from patchwave.store.audit import AuditEvent, append
from patchwave.store.tables import ApprovalDecisionRow, ApprovalRow, ApproverRow

AUTO_APPROVER = "patchwave:auto-approval"


def _approver(row: ApproverRow) -> Approver:
    return Approver(
        name=row.name,
        role=Role(row.role),
        tenants=frozenset(row.tenants or ()),
        active=row.active,
        slack_user_id=row.slack_user_id,
        slack_team_id=row.slack_team_id,
    )


def load_approver(session: Session, name: str) -> Approver | None:
    row = session.scalar(select(ApproverRow).where(ApproverRow.name == name))
    return _approver(row) if row else None


def approver_by_slack(session: Session, *, user_id: str, team_id: str | None) -> Approver | None:
    """The approver behind a Slack user (and workspace, when the approver has one recorded)."""
    for row in session.scalars(select(ApproverRow).where(ApproverRow.slack_user_id == user_id)):
        if row.slack_team_id and team_id and row.slack_team_id != team_id:
            continue
        return _approver(row)
    return None


def _request(row: ApprovalRow) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        run_id=row.run_id,
        ring=row.ring,
        plan_hash=row.plan_hash,
        tenants=frozenset(row.tenants or ()),
        approver_groups=tuple(row.approver_roles or ()),
        min_approvers=row.min_approvers,
        critical=row.critical,
        requested_by=row.requested_by,
        expires_at=row.expires_at,
        status=ApprovalStatus(row.status),
    )


def _decisions(session: Session, request_id: str) -> list[Decision]:
    rows = session.scalars(
        select(ApprovalDecisionRow)
        .where(ApprovalDecisionRow.approval_id == request_id)
        .order_by(ApprovalDecisionRow.id)
    )
    return [
        Decision(r.approver, r.decision == "approve", r.channel, r.at, r.comment or "")
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class RequestView:
    request: ApprovalRequest
    decisions: tuple[Decision, ...]
    summary: dict[str, Any]
    flow_run_id: str | None
    slack_channel: str | None
    slack_ts: str | None


def get_request(session: Session, request_id: str) -> RequestView:
    row = session.get(ApprovalRow, request_id)
    if row is None:
        raise NotFound(f"no approval request {request_id!r}; see `patchwave approvals`")
    return RequestView(
        _request(row),
        tuple(_decisions(session, row.id)),
        dict(row.summary or {}),
        row.flow_run_id,
        row.slack_channel,
        row.slack_ts,
    )


def requests_for_run(
    session: Session, run_id: str, *, ring: str | None = None, status: str | None = None
) -> list[RequestView]:
    stmt = select(ApprovalRow.id).where(ApprovalRow.run_id == run_id)
    if ring is not None:
        stmt = stmt.where(ApprovalRow.ring == ring)
    if status is not None:
        stmt = stmt.where(ApprovalRow.status == status)
    return [get_request(session, rid) for rid in session.scalars(stmt.order_by(ApprovalRow.id))]


def create_request(
    session: Session,
    *,
    run_id: str,
    ring: str,
    plan_hash: str,
    tenants: Sequence[str],
    approver_groups: Sequence[str],
    min_approvers: int,
    critical: bool,
    requested_by: str,
    requested_at: datetime,
    expires_at: datetime,
    summary: dict[str, Any],
) -> ApprovalRequest:
    """Persist a pending request (audited). Never approves anything by itself."""
    row = ApprovalRow(
        id=uuid.uuid4().hex[:12],
        run_id=run_id,
        ring=ring,
        plan_hash=plan_hash,
        summary=summary,
        status=ApprovalStatus.PENDING.value,
        min_approvers=min_approvers,
        approver_roles=list(approver_groups),
        tenants=sorted(tenants),
        critical=critical,
        requested_by=requested_by,
        requested_at=requested_at,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=requested_by,
                action="approval.requested",
                run_id=run_id,
                subject=f"{ring}:{row.id}",
                at=requested_at,
                details={
                    "tenants": sorted(tenants),
                    "plan_hash": plan_hash,
                    "expires_at": expires_at.isoformat(),
                    "min_approvers": min_approvers,
                    "approvers": list(approver_groups),
                },
            )
        ],
    )
    return _request(row)


@dataclass(frozen=True, slots=True)
class DecisionResult:
    accepted: bool
    reason: str
    status: ApprovalStatus
    approver: str
    request: ApprovalRequest


def decide(
    session: Session,
    *,
    request_id: str,
    approver: Approver | None,
    approver_label: str,
    approve: bool,
    channel: str,
    now: datetime,
    comment: str = "",
    plan_hash: str | None = None,
) -> DecisionResult:
    """Record one person's decision if ``authorize`` allows it; audit it either way.

    ``approver_label`` names the person in the audit log even when they are unknown (a Slack
    user id, a name typed in a form). The caller's transaction commits the audit of a refusal.
    """
    # Lock the request before reading its decisions: FOR UPDATE on PostgreSQL; on SQLite (which
    # ignores FOR UPDATE) a no-op UPDATE takes the database write lock. Two people clicking at
    # once are then counted one after the other, never each alone.
    session.execute(
        update(ApprovalRow).where(ApprovalRow.id == request_id).values(status=ApprovalRow.status)
    )
    row = session.get(ApprovalRow, request_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"no approval request {request_id!r}")
    request = _request(row)
    decisions = _decisions(session, request_id)
    if request.status is ApprovalStatus.PENDING and now >= request.expires_at:
        _set_status(session, row, ApprovalStatus.EXPIRED, now)
        request = _request(row)
    verdict = authorize(approver, request, decisions=decisions, now=now, plan_hash=plan_hash)
    word = "approve" if approve else "reject"
    if not verdict.allowed:
        append(
            session,
            [
                AuditEvent(
                    actor=approver_label,
                    action="approval.refused",
                    run_id=request.run_id,
                    subject=f"{request.ring}:{request_id}",
                    at=now,
                    details={"channel": channel, "decision": word, "reason": verdict.reason},
                )
            ],
        )
        return DecisionResult(False, verdict.reason, request.status, approver_label, request)
    assert approver is not None
    session.add(
        ApprovalDecisionRow(
            approval_id=request_id,
            approver=approver.name,
            decision=word,
            channel=channel,
            comment=comment or None,
            at=now,
        )
    )
    decisions.append(Decision(approver.name, approve, channel, now, comment))
    status = outcome(request, decisions, now=now)
    append(
        session,
        [
            AuditEvent(
                actor=approver.name,
                action="approval.decision",
                run_id=request.run_id,
                subject=f"{request.ring}:{request_id}",
                at=now,
                details={
                    "decision": word,
                    "channel": channel,
                    "comment": comment,
                    "status": status.value,
                    "approvals": sum(d.approve for d in decisions),
                    "required": request.min_approvers,
                },
            )
        ],
    )
    if status is not ApprovalStatus.PENDING:
        _set_status(session, row, status, now)
    return DecisionResult(True, verdict.reason, status, approver.name, _request(row))


def auto_approve(session: Session, *, request_id: str, now: datetime, reason: str) -> None:
    """Approve by the campaign's own auto-approval rule (recorded as such, audited)."""
    row = session.get(ApprovalRow, request_id)
    if row is None or row.status != ApprovalStatus.PENDING.value:
        return
    session.add(
        ApprovalDecisionRow(
            approval_id=request_id,
            approver=AUTO_APPROVER,
            decision="approve",
            channel="auto",
            comment=reason,
            at=now,
        )
    )
    append(
        session,
        [
            AuditEvent(
                actor=AUTO_APPROVER,
                action="approval.decision",
                run_id=row.run_id,
                subject=f"{row.ring}:{request_id}",
                at=now,
                details={"decision": "approve", "channel": "auto", "comment": reason},
            )
        ],
    )
    _set_status(session, row, ApprovalStatus.APPROVED, now)


def expire_due(session: Session, *, run_id: str, now: datetime) -> list[str]:
    """Mark pending requests past their expiry as expired (audited); returns their ids."""
    expired = []
    for row in session.scalars(
        select(ApprovalRow).where(ApprovalRow.run_id == run_id, ApprovalRow.status == "pending")
    ):
        if now >= row.expires_at:
            _set_status(session, row, ApprovalStatus.EXPIRED, now)
            expired.append(row.id)
    return expired


def _set_status(session: Session, row: ApprovalRow, status: ApprovalStatus, now: datetime) -> None:
    row.status = status.value
    row.decided_at = now
    append(
        session,
        [
            AuditEvent(
                actor="patchwave",
                action=f"approval.{status.value}",
                run_id=row.run_id,
                subject=f"{row.ring}:{row.id}",
                at=now,
                details={"tenants": list(row.tenants or ())},
            )
        ],
    )


def attach_flow_run(session: Session, request_ids: Sequence[str], flow_run_id: str | None) -> None:
    for rid in request_ids:
        row = session.get(ApprovalRow, rid)
        if row is not None:
            row.flow_run_id = flow_run_id


def attach_slack_message(session: Session, request_id: str, *, channel: str, ts: str) -> None:
    row = session.get(ApprovalRow, request_id)
    if row is not None:
        row.slack_channel, row.slack_ts = channel, ts


def decide_pending(
    session: Session,
    *,
    run_id: str,
    approver_name: str,
    approve: bool,
    channel: str,
    now: datetime,
    comment: str = "",
    request_id: str | None = None,
) -> list[tuple[RequestView, DecisionResult]]:
    """Decide every pending request of a run (or one) as ``approver_name``; each through
    ``decide`` (authorised and audited one by one), at ``decision_time`` of ``now``."""
    pending = [
        v
        for v in requests_for_run(session, run_id, status="pending")
        if request_id is None or v.request.id == request_id
    ]
    approver = load_approver(session, approver_name)
    return [
        (
            view,
            decide(
                session,
                request_id=view.request.id,
                approver=approver,
                approver_label=approver_name,
                approve=approve,
                channel=channel,
                now=decision_time(session, view.request.id, now),
                comment=comment,
            ),
        )
        for view in pending
    ]


def decision_time(session: Session, request_id: str, wall: datetime) -> datetime:
    """When a decision counts: wall-clock time, except for a run on the simulated clock, whose
    own clock decides (so a decision never lands hours before the request in the audit log)."""
    from patchwave.store.tables import CampaignRunRow

    row = session.get(ApprovalRow, request_id)
    run = session.get(CampaignRunRow, row.run_id) if row else None
    if run is not None and run.clock_kind == "simulated" and run.clock is not None:
        return max(run.clock, row.requested_at) if row else run.clock
    return wall


def cancel_pending(session: Session, *, run_id: str, now: datetime) -> list[str]:
    """A cancelled run's undecided requests can no longer be decided (audited)."""
    cancelled = []
    for row in session.scalars(
        select(ApprovalRow).where(ApprovalRow.run_id == run_id, ApprovalRow.status == "pending")
    ):
        _set_status(session, row, ApprovalStatus.CANCELLED, now)
        cancelled.append(row.id)
    return cancelled
