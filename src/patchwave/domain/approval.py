"""Who may approve what: the one authorisation function behind the CLI, the Prefect UI form and
Slack buttons, and the rule that turns decisions into an outcome.

Rules (documented in the README):

- An approval request covers one ring of one campaign run, for one tenant when its approvers are
  tenant admins, else for every tenant in the ring. It is bound to a hash of the plan: a decision
  made against another plan hash is refused.
- Nothing is ever approved by default. A request that reaches its expiry is ``expired``.
- The requester cannot approve their own request; each person counts once.
- ``msp-lead`` may decide any request. ``msp-engineer`` may decide when the request names
  ``msp-engineers``. ``tenant-admin`` may decide only requests for their own tenant(s), only when
  the request names ``tenant-admins``, and never a critical one (KEV, P1 or emergency).
  ``user:NAME`` in a request's approvers admits that one person.
- `min_approvers` distinct approvals approve the request; one authorised rejection rejects it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    MSP_LEAD = "msp-lead"
    MSP_ENGINEER = "msp-engineer"
    TENANT_ADMIN = "tenant-admin"


ROLE_GROUPS = {
    "msp-leads": Role.MSP_LEAD,
    "msp-engineers": Role.MSP_ENGINEER,
    "tenant-admins": Role.TENANT_ADMIN,
}


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the run was cancelled before anyone decided


@dataclass(frozen=True, slots=True)
class Approver:
    name: str
    role: Role
    tenants: frozenset[str]  # {"*"} = every tenant
    active: bool = True
    slack_user_id: str | None = None
    slack_team_id: str | None = None

    def covers(self, tenant: str) -> bool:
        return "*" in self.tenants or tenant in self.tenants


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: str
    run_id: str
    ring: str
    plan_hash: str
    tenants: frozenset[str]
    approver_groups: tuple[str, ...]  # "msp-leads", "tenant-admins", "user:alice", ...
    min_approvers: int
    critical: bool
    requested_by: str
    expires_at: datetime
    status: ApprovalStatus = ApprovalStatus.PENDING


@dataclass(frozen=True, slots=True)
class Decision:
    approver: str
    approve: bool
    channel: str  # cli | ui | slack
    at: datetime
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str


def _refuse(reason: str) -> Verdict:
    return Verdict(False, reason)


def authorize(
    approver: Approver | None,
    request: ApprovalRequest,
    *,
    decisions: Sequence[Decision],
    now: datetime,
    plan_hash: str | None = None,
) -> Verdict:
    """May ``approver`` decide ``request`` now? The reason explains a refusal to the person."""
    if approver is None or not approver.active:
        return _refuse("you are not a known, active approver; ask an MSP lead to add you")
    if request.status is not ApprovalStatus.PENDING:
        return _refuse(f"this request is already {request.status.value}")
    if now >= request.expires_at:
        return _refuse(f"this request expired at {request.expires_at:%Y-%m-%d %H:%M} UTC")
    if plan_hash is not None and plan_hash != request.plan_hash:
        return _refuse("the plan changed since this request was made; approve the new request")
    if approver.name == request.requested_by:
        return _refuse("you requested this change; someone else must approve it")
    if any(d.approver == approver.name for d in decisions):
        return _refuse("you already decided this request; a different approver is needed")
    if approver.role is Role.MSP_LEAD:
        return Verdict(True, "msp-lead")
    if f"user:{approver.name}" in request.approver_groups:
        return Verdict(True, "named approver")
    group = next((g for g, r in ROLE_GROUPS.items() if r is approver.role), None)
    if group not in request.approver_groups:
        allowed = ", ".join(request.approver_groups) or "msp-leads"
        return _refuse(f"your role {approver.role.value} may not decide this request ({allowed})")
    if approver.role is Role.TENANT_ADMIN:
        outside = sorted(t for t in request.tenants if not approver.covers(t))
        if outside:
            return _refuse(f"you may approve for your own company only, not {', '.join(outside)}")
        if request.critical:
            return _refuse("critical changes (KEV, P1 or emergency) need an MSP approver")
    return Verdict(True, approver.role.value)


def outcome(
    request: ApprovalRequest, decisions: Sequence[Decision], *, now: datetime
) -> ApprovalStatus:
    """The status that recorded (already authorised) decisions give the request at ``now``."""
    if request.status is not ApprovalStatus.PENDING:
        return request.status
    if any(not d.approve for d in decisions):
        return ApprovalStatus.REJECTED
    if len({d.approver for d in decisions if d.approve}) >= request.min_approvers:
        return ApprovalStatus.APPROVED
    if now >= request.expires_at:
        return ApprovalStatus.EXPIRED
    return ApprovalStatus.PENDING
