"""Wake a campaign flow paused for approval (best effort: the store already has the decision)."""

from __future__ import annotations

from typing import Literal

ResumeOutcome = Literal["resumed", "not-paused", "unavailable"]


def resume_paused_run(
    flow_run_id: str | None, *, approver: str, approve: bool, comment: str, request_id: str
) -> tuple[ResumeOutcome, str]:
    """Resume ``flow_run_id`` with the decision as run input.

    The decision is already recorded; this only spares the paused flow its next poll. A flow that
    is not paused (already resumed by someone else, or polling without Prefect) is fine.
    """
    if not flow_run_id:
        return "unavailable", "no paused flow run recorded; the campaign polls the store"
    from uuid import UUID

    from prefect.exceptions import FlowPauseTimeout, NotPausedError
    from prefect.flow_runs import resume_flow_run

    payload = {
        "approver": approver,
        "decision": "approve" if approve else "reject",
        "comment": comment,
        "request_id": request_id,
    }
    try:
        resume_flow_run(UUID(flow_run_id), run_input=payload)
    except NotPausedError:
        return "not-paused", "the flow run is not paused (it will read the decision from the store)"
    except FlowPauseTimeout:
        return "not-paused", "the pause expired; the campaign reads the decision from the store"
    except Exception as exc:  # noqa: BLE001 - any API trouble: the store still holds the decision
        return "unavailable", f"{type(exc).__name__}: {exc}"
    return "resumed", "flow run resumed"
