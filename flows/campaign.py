"""The patch campaign: detect, prioritise, plan, then per ring: approval, windows, deploy waves,
verify, soak, health checks, gate (promote, or halt and roll back); finally report and notify.

The store is the ledger: a run interrupted anywhere (process killed, machine rebooted) is resumed
with ``patchwave campaign resume RUN``, which runs this flow again with ``run_id``; every step
checks the store first and picks up where the run stood.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext

from flows.approval_gate import wait_for_approvals
from patchwave.campaign import cancel, forecast, service
from patchwave.campaign.context import RunContext
from patchwave.campaign.runs import get_run, ring_state, ring_waves
from patchwave.clock import SimulatedClock
from patchwave.domain.approval import ApprovalStatus
from patchwave.spec.models import GateFailure
from tasks.campaign import (
    apply_approvals_task,
    deploy_wave_task,
    detect_task,
    gate_task,
    health_checks_task,
    plan_task,
    request_approval_task,
    rollback_task,
    skip_remaining_task,
    verify_ring_task,
)
from tasks.notify import (
    announce_approval_decision,
    announce_approval_requests,
    announce_completion,
    announce_gate_halted,
    send_client_notices,
)
from tasks.report import publish_run_artifacts, render_run_report


def _run_name() -> str:
    from prefect.runtime import flow_run

    params = flow_run.parameters
    name = str(params.get("campaign", "campaign")).rsplit("/", 1)[-1].removesuffix(".yaml")
    if params.get("run_id"):
        return f"{name}-resume-{params['run_id']}"
    return f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


def _human_clock(ctx: RunContext) -> Callable[[], datetime]:
    """Time while people decide. Machines' waits cost nothing on the simulated clock, but a
    person takes real time: there the simulated clock runs at real speed, so approval expiry
    means the same thing on both clocks."""
    if not isinstance(ctx.clock, SimulatedClock):
        return ctx.clock.now
    base, started = ctx.clock.now(), time.monotonic()
    return lambda: base + timedelta(seconds=time.monotonic() - started)


def _notify_clients_before_window(run_id: str, ring: str) -> None:
    ctx = RunContext.load(run_id)
    first_start = forecast.refresh_forecast(ctx, ring)
    lead = ctx.spec.notify.client_notice
    if lead is not None and first_start is not None:
        wait = (first_start - lead - ctx.clock.now()).total_seconds()
        if wait > 0:
            get_run_logger().info(
                "ring %s: first window at %s; telling clients %s before", ring, first_start, lead
            )
            service.set_status(ctx, "waiting_window")
            ctx.clock.sleep(wait)
            ctx.save_clock()
            service.set_status(ctx, "running")
    sent = send_client_notices(run_id, ring)
    if lead is not None and first_start is not None:
        service.record_event(
            ctx,
            "notify.client_notice",
            subject=ring,
            details={
                "window": first_start.isoformat(),
                "lead": str(lead),
                "sent": sent.get("sent", 0),
            },
        )


def _flow_run_id() -> str | None:
    ctx = FlowRunContext.get()
    return str(ctx.flow_run.id) if ctx and ctx.flow_run else None


def _finish(run_id: str, status: str, *, error: str | None = None) -> dict[str, Any]:
    ctx = RunContext.load(run_id)
    service.set_status(ctx, status, error=error)
    report = _report(run_id)
    final, summary, dry_run = service.run_status(run_id)
    if not dry_run:
        announce_completion(run_id, report)
    return {"run_id": run_id, "status": final, "report": report, "summary": summary}


def _cancel(run_id: str, ring_index: int, reason: str) -> dict[str, Any]:
    get_run_logger().warning("run %s: %s", run_id, reason)
    for request_id in cancel.close_approvals(RunContext.load(run_id)):
        announce_approval_decision(request_id)  # its Slack buttons go
    skip_remaining_task(run_id, ring_index, reason)
    return _finish(run_id, "cancelled")


def _report(run_id: str) -> str | None:
    """Render the run's report files and publish its Prefect artifacts."""
    path = render_run_report(run_id)
    publish_run_artifacts(run_id)
    return str(path) if path else None


@flow(name="patch-campaign", flow_run_name=_run_name, log_prints=False)
def patch_campaign(
    campaign: str = "demo",
    *,
    dry_run: bool = False,
    run_id: str | None = None,
    requested_by: str | None = None,
    clock: Literal["system", "simulated"] = "system",
    start_at: datetime | None = None,
    approval_poll_seconds: int = 2,
    sim_profile: Literal["default", "reliable"] = "default",
    latency_scale: float | None = None,
) -> dict[str, Any]:
    """Run a patch campaign from detection to report.

    Args:
        campaign: Campaign file path, or a name in campaigns/ (demo, monthly-security...).
        dry_run: Detect and plan only: no approval, no host is touched.
        run_id: Resume this run instead of starting a new one.
        requested_by: Who starts the campaign (defaults to the campaign's owner); they cannot
            approve it.
        clock: "system" for real time; "simulated" runs windows and durations on virtual time
            (simulated hosts only).
        start_at: Start of the simulated clock.
        approval_poll_seconds: How often a waiting approval re-reads the store.
        sim_profile: Failure profile of simulated hosts ("reliable" = no failures).
        latency_scale: Simulated host seconds per real second (0 = instant).
    """
    logger = get_run_logger()
    params = {
        "sim_profile": sim_profile,
        "latency_scale": latency_scale,
        "approval_poll_seconds": approval_poll_seconds,
    }
    run_id = service.start_run(
        campaign=campaign,
        run_id=run_id,
        requested_by=requested_by,
        dry_run=dry_run,
        clock_kind=clock,
        start_at=start_at,
        params=params,
        flow_run_id=_flow_run_id(),
    )
    status, summary, is_dry = service.run_status(run_id)
    if status not in ("running",):
        logger.info("run %s is already %s", run_id, status)
        return {"run_id": run_id, "status": status, "summary": summary}
    logger.info("campaign run %s", run_id)
    try:
        return _run(run_id, summary, is_dry)
    except Exception as exc:
        # Record why; the run can be resumed once the cause is fixed.
        service.set_status(RunContext.load(run_id), "failed", error=f"{type(exc).__name__}: {exc}")
        raise


def _run(run_id: str, summary: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    logger = get_run_logger()
    if not summary.get("detected_at"):
        detect_task(run_id)
    plan_task(run_id)
    if dry_run:
        return _finish(run_id, "planned")
    ctx = RunContext.load(run_id)
    spec = ctx.spec
    for index, ring in enumerate(spec.rings):
        if cancelled := cancel.cancel_reason(run_id):
            return _cancel(run_id, index, cancelled)
        with ctx.store.session() as session:
            state = ring_state(get_run(session, run_id), ring.name)
        if state.get("status") in ("promoted",):
            continue
        if state.get("hosts", 0) == 0:
            logger.info("ring %s has no host to patch", ring.name)
            service.set_ring(ctx, ring.name, status="promoted")
            continue
        # 1. approval
        if state.get("status") in (None, "pending", "awaiting_approval"):
            request_ids = request_approval_task(run_id, ring.name)
            announce_approval_requests(run_id, request_ids)
            ctx = RunContext.load(run_id)
            service.set_status(ctx, "waiting_approval")
            now = _human_clock(ctx)
            statuses = wait_for_approvals(
                ctx.store,
                run_id=run_id,
                request_ids=request_ids,
                now=now,
                poll_seconds=float(ctx.params.get("approval_poll_seconds", 2)),
                stop=lambda: cancel.cancel_reason(run_id),
            )
            if isinstance(ctx.clock, SimulatedClock):
                ctx.clock.advance_to(now())
                ctx.save_clock()
            service.set_status(ctx, "running")
            if cancelled := cancel.cancel_reason(run_id):
                return _cancel(run_id, index, cancelled)
            for request_id in request_ids:
                announce_approval_decision(request_id)
            outcome = apply_approvals_task(run_id, ring.name, request_ids)
            if outcome["status"] != "approved":
                final = "rejected" if ApprovalStatus.REJECTED in statuses.values() else "expired"
                logger.warning("ring %s: approval %s; stopping the campaign", ring.name, final)
                skip_remaining_task(run_id, index, f"campaign stopped: ring {ring.name} {final}")
                return _finish(run_id, final)
        # 2. deploy, wave by wave; clients hear of their window `client_notice` before it opens
        _notify_clients_before_window(run_id, ring.name)
        aborted = False
        with ctx.store.session() as session:
            waves = ring_waves(session, run_id, ring.name)
        for wave in waves:
            if cancel.cancel_reason(run_id):
                break  # the rest of the ring is skipped below with the reason
            timeout = forecast.wave_timeout_seconds(ctx, ring.name, wave)
            result = deploy_wave_task.with_options(timeout_seconds=timeout)(
                run_id, ring.name, wave, service.wave_size(ctx, ring.name, wave)
            )
            if result["aborted"]:
                aborted = True
                skip_remaining_task(
                    run_id,
                    index,
                    f"ring {ring.name} halted: {result['abort_reason']}",
                    ring=ring.name,
                    wave_after=wave,
                )
                break
        # 3. verify (always: hosts touched before a cancel are re-scanned), soak, health, gate
        verify_ring_task(run_id, ring.name)
        if cancelled := cancel.cancel_reason(run_id):
            return _cancel(run_id, index, cancelled)
        ctx = RunContext.load(run_id)
        soak = ring.gate.soak.total_seconds()
        if soak > 0 and not aborted:
            service.set_ring(ctx, ring.name, status="soaking")
            logger.info("ring %s: soaking for %s", ring.name, ring.gate.soak)
            ctx.clock.sleep(soak)
            ctx.save_clock()
        health = health_checks_task(run_id, ring.name) if not aborted else []
        decision = gate_task(run_id, ring.name, health, aborted)
        if decision["promote"]:
            logger.info(
                "ring %s promoted (success %.1f%%)", ring.name, 100 * decision["success_rate"]
            )
            continue
        logger.warning("ring %s halted: %s", ring.name, "; ".join(decision["reasons"]))
        announce_gate_halted(run_id, ring.name)
        if spec.deployment.on_gate_failure is GateFailure.HALT_AND_ROLLBACK:
            rollback_task(
                run_id,
                ring.name,
                None,
                "patchwave",
                f"gate failed: {'; '.join(decision['reasons'])}",
            )
        skip_remaining_task(run_id, index + 1, f"campaign halted at ring {ring.name}")
        return _finish(run_id, "halted")
    return _finish(run_id, "completed")
