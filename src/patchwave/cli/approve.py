"""``patchwave approve RUN --as NAME`` and ``patchwave approvals``: the CLI approval channel.

The same authorisation as Slack and the Prefect UI (``campaign.approvals.decide``); the decision is
recorded first, then the paused flow run is woken.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from patchwave.cli.common import app, console, err_console, handle_errors
from patchwave.errors import ApprovalError, NotFound


@app.command("approve")
@handle_errors
def approve(
    run_id: Annotated[str, typer.Argument(help="Campaign run id.")],
    *,
    as_: Annotated[str, typer.Option("--as", help="Your approver name (from the inventory).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    comment: Annotated[str, typer.Option(help="Why (recorded in the audit log).")] = "",
    request: Annotated[
        str | None,
        typer.Option(help="Only this request (default: every pending one you may decide)."),
    ] = None,
) -> None:
    """Approve (or --reject) a run's pending approval requests as NAME."""
    from patchwave.campaign.approvals import decide_pending
    from patchwave.campaign.prefect_resume import resume_paused_run
    from patchwave.campaign.runs import get_run
    from patchwave.notify.campaign import notify_approval_decided
    from patchwave.store import open_store

    store = open_store()
    with store.session() as session:
        get_run(session, run_id)
        results = decide_pending(
            session,
            run_id=run_id,
            approver_name=as_,
            approve=not reject,
            channel="cli",
            now=datetime.now(UTC),
            comment=comment,
            request_id=request,
        )
    if not results:
        raise NotFound(
            f"run {run_id} has no pending approval request" + (f" {request!r}" if request else "")
        )
    accepted = 0
    for view, result in results:
        req = view.request
        where = f"request {req.id} (ring {req.ring}, {', '.join(sorted(req.tenants))})"
        if not result.accepted:
            err_console.print(f"[red]refused[/] {where}: {result.reason}", highlight=False)
            continue
        accepted += 1
        console.print(
            f"[green]{'rejected' if reject else 'approved'}[/] {where}: request is now "
            f"{result.status.value}"
        )
        notify_approval_decided(store, req.id)  # the Slack message shows who decided, if any
        outcome, detail = resume_paused_run(
            view.flow_run_id, approver=as_, approve=not reject, comment=comment, request_id=req.id
        )
        if outcome != "resumed":
            console.print(f"  [dim]{detail}[/]")
    if not accepted:
        raise ApprovalError("no request was decided; see the reasons above")


@app.command("approvals")
@handle_errors
def approvals(
    run_id: Annotated[str | None, typer.Argument(help="Campaign run id (default: all).")] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only pending ones.")] = False,
) -> None:
    """Approval requests with their decisions."""
    from sqlalchemy import select

    from patchwave.campaign.approvals import get_request
    from patchwave.store import open_store
    from patchwave.store.tables import ApprovalRow

    table = Table(title="approval requests")
    for col in ("request", "run", "ring", "tenants", "status", "decisions", "expires (UTC)"):
        table.add_column(col, overflow="fold")
    with open_store().session() as session:
        stmt = select(ApprovalRow.id).order_by(ApprovalRow.requested_at.desc()).limit(200)
        if run_id:
            stmt = stmt.where(ApprovalRow.run_id == run_id)
        if pending:
            stmt = stmt.where(ApprovalRow.status == "pending")
        for rid in session.scalars(stmt):
            v = get_request(session, rid)
            r = v.request
            decisions = ", ".join(
                f"{d.approver} {'✓' if d.approve else '✗'} ({d.channel})" for d in v.decisions
            )
            table.add_row(
                r.id,
                r.run_id,
                r.ring,
                ", ".join(sorted(r.tenants)),
                r.status.value,
                decisions,
                f"{r.expires_at:%Y-%m-%d %H:%M}",
            )
    console.print(table)
