"""Cancelling a run: the request (audited), the reason every step checks, and closing the
approvals nobody will decide now."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from patchwave.campaign.context import RunContext
from patchwave.campaign.runs import FINAL_RUN_STATES, get_run, iso
from patchwave.store import Store, open_store
from patchwave.store.audit import AuditEvent, append
from patchwave.store.tables import CampaignRunRow


def throttled(check: Callable[[], str | None], every: float = 2.0) -> Callable[[], str | None]:
    """Ask ``check`` at most every ``every`` real seconds (it reads the store)."""
    state: dict[str, Any] = {"at": 0.0, "value": None}

    def cached() -> str | None:
        now = time.monotonic()
        if state["value"] is None and now - state["at"] >= every:
            state["at"], state["value"] = now, check()
        return state["value"]  # type: ignore[no-any-return]

    return cached


def request_cancel(run_id: str, *, actor: str, reason: str, store: Store | None = None) -> str:
    """Ask a run to stop: hosts already being patched finish (a half-patched host is worse than
    either state), nothing new starts, the rest is skipped with the reason. Returns the status
    the run had."""
    store = store or open_store()
    with store.session() as session:
        run = get_run(session, run_id)
        if run.status in FINAL_RUN_STATES:
            return run.status
        summary = dict(run.summary or {})
        summary["cancel"] = {"by": actor, "reason": reason, "at": iso(datetime.now(UTC))}
        run.summary = summary
        append(session, [AuditEvent(actor=actor, action="run.cancel_requested", run_id=run_id,
                                    subject=run.campaign, details={"reason": reason})])  # fmt: skip
        return run.status


def close_approvals(ctx: RunContext) -> list[str]:
    """Cancel the run's undecided approval requests (so a late click cannot decide them)."""
    from patchwave.campaign.approvals import cancel_pending

    with ctx.store.session() as session:
        return cancel_pending(session, run_id=ctx.run_id, now=ctx.clock.now())


def cancel_reason(run_id: str, store: Store | None = None) -> str | None:
    """Why the run must stop, when someone asked it to (``None`` otherwise)."""
    store = store or open_store()
    with store.session() as session:
        run = session.get(CampaignRunRow, run_id)
        cancel = (run.summary or {}).get("cancel") if run else None
    if not cancel:
        return None
    return f"cancelled by {cancel['by']}: {cancel['reason']}"
