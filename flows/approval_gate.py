"""The approval gate as the flow sees it: wait until every request of a ring is decided or expired.

Decisions live in our store (CLI, Slack and the Prefect UI all record them through
``campaign.approvals.decide``). Inside a flow run the wait is a Prefect pause with a form
(``pause_flow_run(wait_for_input=ApprovalForm)``), so people can approve from the UI; the CLI and
Slack resume the pause after recording, and a pause that times out just re-reads the store. Expiry
is checked against the campaign clock: nothing is ever approved by default.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from patchwave.campaign.approvals import (
    attach_flow_run,
    decide,
    expire_due,
    get_request,
    load_approver,
)
from patchwave.domain.approval import ApprovalStatus
from patchwave.store import Store


class ApprovalForm(RunInput):
    """What a person fills in to decide in the Prefect UI. There is deliberately no default
    decision. (Prefect's open-source UI does not authenticate users: the name typed here is
    checked against the approver list, but anyone who can reach the UI can type it.)"""

    approver: str
    decision: Literal["approve", "reject"]
    comment: str = ""
    request_id: str = ""


def _describe(views: Sequence[Any]) -> str:
    lines = ["## Approval needed", ""]
    for v in views:
        s = v.summary
        req = v.request
        lines.append(
            f"**Ring {req.ring}** ({', '.join(sorted(req.tenants))}): "
            f"{s.get('hosts', '?')} host(s), {s.get('patches', '?')} patch(es), "
            f"{s.get('kev', 0)} KEV; expires "
            f"{req.expires_at:%Y-%m-%d %H:%M} UTC; needs {req.min_approvers} approver(s) from "
            f"{', '.join(req.approver_groups)}. Request `{req.id}`, plan `{req.plan_hash[:12]}`."
        )
        for p in s.get("top_patches", [])[:8]:
            kev = " **KEV**" if p.get("kev") else ""
            lines.append(f"- {p['tier']} {p['id']}{kev}: {p['title']} ({p['hosts']} host(s))")
    lines += [
        "",
        "Type your approver name and choose approve or reject. Leave *request_id* empty "
        "to decide every pending request above that you may decide.",
    ]
    return "\n".join(lines)


def _set_running(flow_run_id: Any) -> None:
    # A pause that timed out leaves the run Paused on the server; take it back to Running so
    # the next pause (or task) is accepted.
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Running(), force=True)


def _apply_form(store: Store, form: ApprovalForm, pending: Sequence[Any], now: datetime) -> None:
    logger = get_run_logger()
    targets = [v for v in pending if not form.request_id or v.request.id == form.request_id]
    with store.session() as session:
        approver = load_approver(session, form.approver.strip())
        for v in targets:
            view = get_request(session, v.request.id)
            if any(d.approver == form.approver.strip() for d in view.decisions):
                continue  # recorded by the CLI or Slack, which then resumed us: a nudge
            result = decide(
                session,
                request_id=v.request.id,
                approver=approver,
                approver_label=form.approver.strip() or "(blank)",
                approve=form.decision == "approve",
                channel="ui",
                now=now,
                comment=form.comment,
            )
            if result.accepted:
                logger.info(
                    "%s %sd request %s (ring %s) in the Prefect UI",
                    result.approver,
                    form.decision,
                    v.request.id,
                    v.request.ring,
                )
            else:
                logger.warning(
                    "refused %s on request %s: %s", form.approver, v.request.id, result.reason
                )


def wait_for_approvals(
    store: Store,
    *,
    run_id: str,
    request_ids: Sequence[str],
    now: Callable[[], datetime],
    poll_seconds: float = 2.0,
    pause_chunk_seconds: int = 60,
    use_pause: bool = True,
    stop: Callable[[], str | None] | None = None,
) -> dict[str, ApprovalStatus]:
    """Block until each request is approved, rejected or expired (or ``stop`` gives a reason,
    e.g. the run was cancelled); return their statuses."""
    logger = get_run_logger()
    context = FlowRunContext.get()
    flow_run_id = context.flow_run.id if context and context.flow_run else None
    if flow_run_id is not None:
        with store.session() as session:
            attach_flow_run(session, request_ids, str(flow_run_id))
    rounds = 0
    while True:
        with store.session() as session:
            expire_due(session, run_id=run_id, now=now())
            views = [get_request(session, rid) for rid in request_ids]
        pending = [v for v in views if v.request.status is ApprovalStatus.PENDING]
        if not pending or (stop is not None and stop()):
            return {v.request.id: v.request.status for v in views}
        rounds += 1
        if not (use_pause and flow_run_id is not None):
            time.sleep(poll_seconds)
            continue
        until_expiry = min(v.request.expires_at for v in pending) - now()
        timeout = max(1, min(pause_chunk_seconds, int(until_expiry.total_seconds()) + 1))
        form_model = ApprovalForm.with_initial_data(description=_describe(pending), approver="")
        try:
            form = pause_flow_run(
                wait_for_input=form_model,
                timeout=timeout,
                poll_interval=max(1, int(poll_seconds)),
                key=f"approval-{run_id}-{pending[0].request.ring}-{rounds}",
            )
        except FlowPauseTimeout:
            _set_running(flow_run_id)
            continue
        if stop is not None and stop():
            continue  # woken because the run was cancelled: the form carries no decision
        if form is not None:
            _apply_form(store, form, pending, now())
        logger.debug("approval round %d done", rounds)
