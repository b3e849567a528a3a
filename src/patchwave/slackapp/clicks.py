"""An Approve / Reject click: parsed from Slack's ``block_actions`` payload and recorded through
the one approval path (``campaign.approvals.decide``), which applies ``authorize()`` and audits
refusals as well as decisions.

Who clicked is Slack's user id plus the user's own workspace (``user.team_id``; in a shared
channel the clicker may belong to another organisation), mapped to an approver by the
``slack_user_id`` / ``slack_team_id`` of the inventory's approvers. An unknown clicker is still
passed to ``decide`` (as ``approver=None``) so the refusal is audited under ``slack:TEAM/USER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patchwave.campaign.approvals import (
    approver_by_slack,
    attach_slack_message,
    decide,
    decision_time,
    get_request,
)
from patchwave.domain.approval import ApprovalStatus
from patchwave.errors import NotFound
from patchwave.notify.messages import APPROVE_ACTION_ID, REJECT_ACTION_ID, parse_approval_value
from patchwave.store import Store

APPROVAL_BLOCK_ID = "patchwave_approval"
ACTIONS = (APPROVE_ACTION_ID, REJECT_ACTION_ID)


@dataclass(frozen=True, slots=True)
class Click:
    """One button press, as Slack reported it."""

    user_id: str
    team_id: str | None
    user_name: str
    action_id: str
    value: str
    action_ts: str
    channel_id: str | None = None
    message_ts: str | None = None
    response_url: str | None = None

    @property
    def approve(self) -> bool:
        return self.action_id == APPROVE_ACTION_ID

    @property
    def label(self) -> str:
        """How an unknown clicker is named in the audit log."""
        return f"slack:{self.team_id or '?'}/{self.user_id}"

    @property
    def replay_key(self) -> tuple[str, ...]:
        """The same press delivered twice (a replay, a Socket Mode redelivery) has the same key."""
        return (
            "click",
            self.team_id or "",
            self.user_id,
            self.action_id,
            self.value,
            self.action_ts,
        )


def parse_click(body: dict[str, Any]) -> Click:
    """The click in a ``block_actions`` payload; ValueError when it is not one of ours."""
    if body.get("type") != "block_actions":
        raise ValueError(f"not a block_actions payload: {body.get('type')!r}")
    actions = body.get("actions") or []
    action = next(
        (a for a in actions if isinstance(a, dict) and a.get("action_id") in ACTIONS), None
    )
    user = body.get("user") or {}
    if action is None or not user.get("id"):
        raise ValueError("the payload has no patchwave Approve/Reject action or no user")
    team = user.get("team_id") or (body.get("team") or {}).get("id")
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return Click(
        user_id=str(user["id"]),
        team_id=str(team) if team else None,
        user_name=str(user.get("username") or user.get("name") or user["id"]),
        action_id=str(action["action_id"]),
        value=str(action.get("value") or ""),
        action_ts=str(action.get("action_ts") or body.get("trigger_id") or ""),
        channel_id=str(channel) if channel else None,
        message_ts=str(message_ts) if message_ts else None,
        response_url=body.get("response_url"),
    )


@dataclass(frozen=True, slots=True)
class ClickOutcome:
    """What became of a click. ``explanation`` is shown to the clicker only."""

    accepted: bool
    explanation: str
    approver: str
    request_id: str | None = None
    status: ApprovalStatus | None = None
    flow_run_id: str | None = None
    approvals: int = 0
    required: int = 1

    @property
    def final(self) -> bool:
        return self.status is not None and self.status is not ApprovalStatus.PENDING


def record_click(store: Store, click: Click, *, now: datetime) -> ClickOutcome:
    """Record the click as a decision if ``authorize()`` allows it (audited either way)."""
    try:
        request_id, plan_hash = parse_approval_value(click.value)
    except ValueError:
        return ClickOutcome(False, "This button is not a patchwave approval.", click.label)
    with store.session() as session:
        approver = approver_by_slack(session, user_id=click.user_id, team_id=click.team_id)
        label = approver.name if approver else click.label
        try:
            result = decide(
                session,
                request_id=request_id,
                approver=approver,
                approver_label=label,
                approve=click.approve,
                channel="slack",
                now=decision_time(session, request_id, now),
                plan_hash=plan_hash,
            )
        except NotFound:
            return ClickOutcome(False, "This approval request no longer exists.", label, request_id)
        view = get_request(session, request_id)
        if view.slack_ts is None and click.channel_id and click.message_ts:
            # The post's reference was not stored (Slack answered late?): the click tells us.
            attach_slack_message(session, request_id, channel=click.channel_id, ts=click.message_ts)
    request = result.request
    approvals = sum(d.approve for d in view.decisions)
    if not result.accepted:
        return ClickOutcome(
            False,
            f"Not recorded: {result.reason}.",
            label,
            request_id,
            result.status,
            view.flow_run_id,
            approvals,
            request.min_approvers,
        )
    word = "approved" if click.approve else "rejected"
    where = f"ring *{request.ring}* of run `{request.run_id}`"
    if result.status is ApprovalStatus.PENDING:
        text = (
            f"Recorded: you {word} {where} ({approvals} of {request.min_approvers} approvals; "
            "waiting for another approver)."
        )
    elif result.status is ApprovalStatus.APPROVED:
        text = f"Recorded: you {word} {where}. The campaign continues."
    else:
        text = f"Recorded: you {word} {where}. The ring will not be deployed."
    return ClickOutcome(
        True,
        text,
        label,
        request_id,
        result.status,
        view.flow_run_id,
        approvals,
        request.min_approvers,
    )
