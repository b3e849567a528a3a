"""The authorisation rules shared by CLI, Prefect UI and Slack approvals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from patchwave.domain.approval import (
    ApprovalRequest,
    ApprovalStatus,
    Approver,
    Decision,
    Role,
    authorize,
    outcome,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
LEAD = Approver("alice", Role.MSP_LEAD, frozenset({"*"}))
ENGINEER = Approver("bob", Role.MSP_ENGINEER, frozenset({"*"}))
ACME_ADMIN = Approver("carol", Role.TENANT_ADMIN, frozenset({"acme"}))
REQUEST = ApprovalRequest(
    id="r1",
    run_id="run1",
    ring="pilot",
    plan_hash="h1",
    tenants=frozenset({"acme"}),
    approver_groups=("tenant-admins",),
    min_approvers=1,
    critical=False,
    requested_by="dave",
    expires_at=NOW + timedelta(hours=24),
)


def _decide(approver: Approver, request: ApprovalRequest = REQUEST, **kw: object) -> str:
    verdict = authorize(approver, request, decisions=kw.pop("decisions", ()), now=NOW, **kw)  # type: ignore[arg-type]
    return "ok" if verdict.allowed else verdict.reason


def test_tenant_admin_may_approve_own_non_critical_tenant() -> None:
    assert _decide(ACME_ADMIN) == "ok"


def test_tenant_admin_refused_for_another_tenant() -> None:
    other = replace(REQUEST, tenants=frozenset({"globex"}))
    assert "your own company only, not globex" in _decide(ACME_ADMIN, other)


def test_tenant_admin_refused_for_critical_changes() -> None:
    assert "need an MSP approver" in _decide(ACME_ADMIN, replace(REQUEST, critical=True))


def test_requester_cannot_approve() -> None:
    assert "someone else must approve" in _decide(replace(LEAD, name="dave"))


def test_expired_request_refused() -> None:
    late = replace(REQUEST, expires_at=NOW - timedelta(seconds=1))
    assert "expired" in _decide(LEAD, late)


def test_changed_plan_refused() -> None:
    assert "plan changed" in _decide(LEAD, plan_hash="other")
    assert _decide(LEAD, plan_hash="h1") == "ok"


def test_unknown_or_inactive_refused() -> None:
    assert "not a known, active approver" in authorize(None, REQUEST, decisions=(), now=NOW).reason
    assert "not a known" in _decide(replace(LEAD, active=False))


def test_role_not_listed_refused_but_lead_always_allowed() -> None:
    leads_only = replace(REQUEST, approver_groups=("msp-leads",))
    assert "may not decide" in _decide(ENGINEER, leads_only)
    assert "may not decide" in _decide(ACME_ADMIN, leads_only)
    assert _decide(LEAD, leads_only) == "ok"
    assert _decide(ENGINEER, replace(REQUEST, approver_groups=("user:bob",))) == "ok"


def test_second_click_by_same_person_refused() -> None:
    two = replace(REQUEST, min_approvers=2, approver_groups=("msp-engineers",))
    first = Decision("bob", True, "slack", NOW)
    assert "already decided" in _decide(ENGINEER, two, decisions=[first])
    assert _decide(LEAD, two, decisions=[first]) == "ok"


def test_decided_request_refused() -> None:
    assert "already approved" in _decide(LEAD, replace(REQUEST, status=ApprovalStatus.APPROVED))


@pytest.mark.parametrize(
    ("decisions", "minimum", "now", "expected"),
    [
        ([], 1, NOW, ApprovalStatus.PENDING),
        ([], 1, NOW + timedelta(days=2), ApprovalStatus.EXPIRED),
        ([Decision("a", True, "cli", NOW)], 1, NOW, ApprovalStatus.APPROVED),
        ([Decision("a", True, "cli", NOW)], 2, NOW, ApprovalStatus.PENDING),
        ([Decision("a", True, "cli", NOW)], 2, NOW + timedelta(days=2), ApprovalStatus.EXPIRED),
        (
            [Decision("a", True, "cli", NOW), Decision("b", True, "ui", NOW)],
            2,
            NOW,
            ApprovalStatus.APPROVED,
        ),
        ([Decision("a", False, "slack", NOW)], 1, NOW, ApprovalStatus.REJECTED),
    ],
)
def test_outcome(
    decisions: list[Decision], minimum: int, now: datetime, expected: ApprovalStatus
) -> None:
    assert outcome(replace(REQUEST, min_approvers=minimum), decisions, now=now) is expected
