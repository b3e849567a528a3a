"""``patchwave campaign plan|run|resume|runs|show``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from patchwave.cli.campaign import campaign_app
from patchwave.cli.common import console, err_console, handle_errors
from patchwave.errors import UserError

STATE_STYLE = {"succeeded": "green", "failed": "red", "skipped": "yellow", "rolled_back": "magenta"}


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"--start {value!r}: expected an ISO date or time, e.g. 2026-12-11T22:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@campaign_app.command("plan")
@handle_errors
def plan(
    campaign: Annotated[str, typer.Argument(help="Campaign file or name in campaigns/.")],
    *,
    start: Annotated[str | None, typer.Option(help="Plan from this time (default now).")] = None,
    hosts: Annotated[bool, typer.Option("--hosts", help="List every host.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Forecast rings, waves and windows from the stored findings, without touching any host."""
    from patchwave.campaign.forecast import forecast

    spec, the_plan = forecast(campaign, start=_parse_time(start))
    if as_json:
        typer.echo(json.dumps(_plan_json(the_plan), indent=2, default=str))
        return
    console.print(
        f"[bold]{spec.name}[/]: {the_plan.scope_hosts} host(s) in scope, "
        f"{len(the_plan.jobs)} to patch, {len(the_plan.compliant)} already compliant, "
        f"{len(the_plan.unassigned)} in no ring"
    )
    if the_plan.scope_hosts and not the_plan.jobs and not the_plan.compliant:
        console.print("no findings stored yet: run `patchwave scan` first")
    table = Table(title="rings")
    for col in (
        "ring",
        "hosts",
        "waves",
        "tenants",
        "first start (UTC)",
        "done by (UTC)",
        "approval",
    ):
        table.add_column(col)
    for ring, spec_ring in zip(the_plan.rings, spec.rings, strict=True):
        starts = [j.planned_start for j in ring.jobs if j.planned_start]
        ends = [j.planned_end for j in ring.jobs if j.planned_end]
        table.add_row(
            ring.name,
            str(len(ring.jobs)),
            str(ring.waves),
            str(len(ring.tenants)),
            f"{min(starts):%Y-%m-%d %H:%M}" if starts else "-",
            f"{max(ends):%Y-%m-%d %H:%M}" if ends else "-",
            spec_ring.approval.describe(),
        )
    console.print(table)
    if the_plan.unschedulable:
        err_console.print(
            f"[yellow]{len(the_plan.unschedulable)} host(s) fit no window within a "
            f"year:[/] {', '.join(the_plan.unschedulable[:10])}"
        )
    if hosts:
        t = Table(title="hosts")
        for col in (
            "ring",
            "wave",
            "host",
            "window",
            "local start",
            "done by (local)",
            "patches",
            "top",
        ):
            t.add_column(col)
        for j in the_plan.jobs:
            tz = j.calendar.timezone if j.calendar else "UTC"
            from zoneinfo import ZoneInfo

            loc = ZoneInfo(tz)
            t.add_row(
                j.ring,
                str(j.wave + 1),
                j.host.key,
                j.calendar.name if j.calendar else "none",
                f"{j.planned_start.astimezone(loc):%a %Y-%m-%d %H:%M}" if j.planned_start else "-",
                f"{j.planned_end.astimezone(loc):%H:%M %Z}" if j.planned_end else "-",
                str(len(j.patches)),
                f"{j.top_tier.value}{' KEV' if j.kev else ''}",
            )
        console.print(t)


def _plan_json(the_plan: Any) -> dict[str, Any]:
    return {
        "campaign": the_plan.campaign,
        "scope_hosts": the_plan.scope_hosts,
        "compliant": [h.key for h in the_plan.compliant],
        "unassigned": [[h.key, why] for h, why in the_plan.unassigned],
        "rings": [
            {
                "name": r.name,
                "waves": r.waves,
                "plan_hash": r.plan_hash,
                "jobs": [
                    {
                        "host": j.host.key,
                        "wave": j.wave,
                        "patches": list(j.patches),
                        "tier": j.top_tier.value,
                        "kev": j.kev,
                        "calendar": j.calendar.name if j.calendar else None,
                        "timezone": j.calendar.timezone if j.calendar else None,
                        "planned_start": j.planned_start,
                        "planned_end": j.planned_end,
                    }
                    for j in r.jobs
                ],
            }
            for r in the_plan.rings
        ],
    }


def _run_flow(**params: Any) -> dict[str, Any]:
    from flows.campaign import patch_campaign

    result: dict[str, Any] = patch_campaign(**params)
    return result


def print_run(run_id: str) -> None:
    """One run: status, rings and job counts per state."""
    from patchwave.campaign.runs import get_run, job_counts
    from patchwave.store import open_store

    with open_store().session() as session:
        run = get_run(session, run_id)
        counts = job_counts(session, run_id)
        summary = dict(run.summary or {})
        status, campaign, report = run.status, run.campaign, run.report_path
    colour = (
        "green" if status == "completed" else "red" if status in ("failed", "halted") else "yellow"
    )
    console.print(f"run [bold]{run_id}[/] ({campaign}): [{colour}]{status}[/]")
    table = Table()
    for col in ("ring", "hosts", "status", "success", "gate"):
        table.add_column(col)
    for r in summary.get("rings", []):
        gate = r.get("gate") or {}
        table.add_row(
            r["name"],
            str(r.get("hosts", 0)),
            r.get("status", ""),
            f"{100 * gate['success_rate']:.1f}%" if gate else "-",
            "; ".join(gate.get("reasons", [])) if gate else "",
        )
    console.print(table)
    parts = [f"[{STATE_STYLE.get(s, 'white')}]{n} {s}[/]" for s, n in sorted(counts.items())]
    console.print("host jobs: " + ", ".join(parts))
    if report:
        console.print(f"report: {report}")


@campaign_app.command("run")
@handle_errors
def run(
    campaign: Annotated[str, typer.Argument(help="Campaign file or name in campaigns/.")],
    *,
    dry_run: Annotated[bool, typer.Option(help="Detect and plan only; touch no host.")] = False,
    as_: Annotated[str | None, typer.Option("--as", help="Who starts it (cannot approve).")] = None,
    clock: Annotated[
        str, typer.Option(help="system, or simulated (simulated hosts only).")
    ] = "system",
    start: Annotated[str | None, typer.Option(help="Simulated clock start (ISO).")] = None,
    sim_profile: Annotated[
        str, typer.Option(help="Simulated hosts' failures: default or reliable.")
    ] = "default",
) -> None:
    """Run a campaign as a Prefect flow; approvals wait for the UI, Slack or `patchwave approve`."""
    if clock not in ("system", "simulated"):
        raise UserError(f"--clock {clock!r}: expected system or simulated")
    if sim_profile not in ("default", "reliable"):
        raise UserError(f"--sim-profile {sim_profile!r}: expected default or reliable")
    # Check the campaign file before starting Prefect (seconds) and leaving a failed flow run.
    from patchwave.campaign.context import resolve_campaign_path
    from patchwave.spec import load_campaign

    load_campaign(resolve_campaign_path(campaign))
    result = _run_flow(
        sim_profile=sim_profile,
        campaign=campaign,
        dry_run=dry_run,
        requested_by=as_,
        clock=clock,
        start_at=_parse_time(start),
    )
    print_run(result["run_id"])


@campaign_app.command("resume")
@handle_errors
def resume(run_id: Annotated[str, typer.Argument(help="The run to continue.")]) -> None:
    """Continue a run whose process died: jobs found in flight are re-verified by a scan first."""
    from patchwave.campaign.runs import get_run
    from patchwave.store import open_store

    with open_store().session() as session:
        run_row = get_run(session, run_id)
        campaign, clock_kind = run_row.campaign, run_row.clock_kind
        params = dict(run_row.params or {})
    result = _run_flow(
        campaign=campaign,
        run_id=run_id,
        clock=clock_kind,
        sim_profile=params.get("sim_profile", "default"),
        latency_scale=params.get("latency_scale"),
    )
    print_run(result["run_id"])


@campaign_app.command("runs")
@handle_errors
def runs(limit: Annotated[int, typer.Option(help="How many.")] = 20) -> None:
    """Recent campaign runs."""
    from patchwave.campaign.service import current_runs

    table = Table(title="campaign runs")
    for col in ("run", "campaign", "status", "requested by", "started", "finished"):
        table.add_column(col)
    for r in current_runs(limit=limit):
        table.add_row(
            r.id,
            r.campaign,
            r.status,
            r.requested_by,
            f"{r.started_at:%Y-%m-%d %H:%M}" if r.started_at else "-",
            f"{r.finished_at:%Y-%m-%d %H:%M}" if r.finished_at else "-",
        )
    console.print(table)


@campaign_app.command("show")
@handle_errors
def show(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    failures: Annotated[
        bool, typer.Option("--failures", help="List failed and skipped hosts.")
    ] = False,
) -> None:
    """A run's status, rings, gates and job counts."""
    print_run(run_id)
    if failures:
        from patchwave.campaign.runs import load_jobs
        from patchwave.store import open_store

        with open_store().session() as session:
            jobs = load_jobs(session, run_id)
        t = Table(title="hosts not patched")
        for col in ("host", "ring", "state", "step", "why"):
            t.add_column(col, overflow="fold")
        for j in jobs:
            if j.state.value in ("failed", "skipped", "rolled_back"):
                t.add_row(j.host.key, j.ring, j.state.value, j.failed_step or "", j.error or "")
        console.print(t)


@campaign_app.command("cancel")
@handle_errors
def cancel(
    run_id: Annotated[str, typer.Argument(help="The run to stop.")],
    *,
    as_: Annotated[str, typer.Option("--as", help="Who cancels (audited).")],
    reason: Annotated[str, typer.Option(help="Why (audited, shown on every skipped host).")],
) -> None:
    """Stop a run: hosts being patched finish, nothing new starts, the rest is skipped."""
    from patchwave.campaign.approvals import requests_for_run
    from patchwave.campaign.cancel import request_cancel
    from patchwave.campaign.prefect_resume import resume_paused_run
    from patchwave.store import open_store

    store = open_store()
    status = request_cancel(run_id, actor=as_, reason=reason, store=store)
    if status in ("completed", "halted", "rejected", "expired", "failed", "cancelled"):
        raise UserError(f"run {run_id} is already {status}: nothing to cancel")
    # A run paused for approval would only notice at its next poll: wake it now.
    with store.session() as session:
        paused = {v.flow_run_id for v in requests_for_run(session, run_id, status="pending")}
    for flow_run_id in paused - {None}:
        resume_paused_run(
            flow_run_id, approver="patchwave:cancel", approve=False, comment=reason, request_id=""
        )
    console.print(
        f"run {run_id}: cancel requested by {as_} ({reason}); it stops at the next "
        "host start (hosts being patched finish first)"
    )
