"""``patchwave demo``: the embedded default end to end — SQLite, Prefect's ephemeral API, the
simulated fleet — from inventory to a client report."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from patchwave.cli.common import app, console, err_console, handle_errors
from patchwave.errors import UserError

DEMO_LEAD = "demo-lead"


def _approvers(tenants: list[str]) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = [
        {
            "name": DEMO_LEAD,
            "role": "msp-lead",
            "tenants": ["*"],
            "slack_user_id": "U0DEMOLEAD",
            "slack_team_id": "T0DEMO",
        },
        {"name": "demo-engineer", "role": "msp-engineer", "tenants": ["*"]},
    ]
    people += [{"name": f"{t}-admin", "role": "tenant-admin", "tenants": [t]} for t in tenants]
    return people


def _seed(store: Any, path: Path, hosts: int, tenants: int, seed: int) -> str:
    from sqlalchemy import select

    from patchwave.fleetgen import generate_fleet
    from patchwave.inventory import load_inventory
    from patchwave.store.inventory_repo import apply_inventory
    from patchwave.store.tables import ApproverRow

    fleet = generate_fleet(hosts=hosts, tenants=tenants, seed=seed)
    fleet.write_csv(path)
    with store.session() as session:
        summary = apply_inventory(session, load_inventory(path), actor="demo")
        known = set(session.scalars(select(ApproverRow.name)))
        for person in _approvers([t.slug for t in fleet.tenants]):
            if person["name"] not in known:
                session.add(ApproverRow(active=True, **person))
    return str(summary)


class _DemoApprover(threading.Thread):
    """Plays the MSP lead: approves each request through the CLI path (authorise, record, audit,
    resume the paused flow), after a short pause so the waiting shows. In --interactive mode it
    leaves the pilot ring to a person."""

    def __init__(self, store: Any, *, skip_rings: set[str], slack: Any = None) -> None:
        super().__init__(name="demo-approver", daemon=True)
        self.store = store
        self.skip_rings = skip_rings
        self.slack = slack  # with --slack, the broad ring is approved by a button press
        self.stop = threading.Event()
        self.told: set[str] = set()

    def run(self) -> None:
        from sqlalchemy import select

        from patchwave.campaign.approvals import (
            decide,
            decision_time,
            get_request,
            load_approver,
        )
        from patchwave.campaign.prefect_resume import resume_paused_run
        from patchwave.store.tables import ApprovalRow

        while not self.stop.wait(1.5):
            with self.store.session() as session:
                rows = list(
                    session.scalars(select(ApprovalRow).where(ApprovalRow.status == "pending"))
                )
                todo: list[tuple[Any, Any]] = []
                for row in rows:
                    if row.ring in self.skip_rings:
                        if row.id not in self.told:
                            self.told.add(row.id)
                            err_console.print(
                                f"[bold yellow]approval needed[/] for ring {row.ring} "
                                f"({', '.join(row.tenants)}): run [bold]patchwave approve "
                                f"{row.run_id} --as {DEMO_LEAD}[/] in another shell "
                                f"(or --reject), from this folder"
                            )
                        continue
                    if self.slack is not None and row.ring == "broad" and row.slack_ts:
                        todo.append((get_request(session, row.id), None))
                        continue
                    now = decision_time(session, row.id, datetime.now(UTC))
                    result = decide(
                        session,
                        request_id=row.id,
                        approver=load_approver(session, DEMO_LEAD),
                        approver_label=DEMO_LEAD,
                        approve=True,
                        channel="cli",
                        now=now,
                        comment="demo: approved by the demo MSP lead",
                    )
                    todo.append((get_request(session, row.id), result))
            for view, result in todo:
                if result is None:
                    self._press(view.request.id)
                    continue
                console.print(
                    f"  [green]{DEMO_LEAD} approved[/] ring {view.request.ring} "
                    f"({', '.join(sorted(view.request.tenants))}): {result.status.value}"
                )
                resume_paused_run(
                    view.flow_run_id,
                    approver=DEMO_LEAD,
                    approve=True,
                    comment="demo",
                    request_id=view.request.id,
                )

    def _press(self, request_id: str) -> None:
        """Approve in "Slack": a signed button press to the real approval app."""
        import json

        from patchwave.devtools.slack_clicks import approval_buttons

        for message in self.slack.approval_messages():
            if json.loads(approval_buttons(message)["approve"])["request_id"] == request_id:
                status = self.slack.press(message, user_id="U0DEMOLEAD", team_id="T0DEMO")
                console.print(
                    f"  [green]{DEMO_LEAD} pressed Approve in Slack[/] for request "
                    f"{request_id} (HTTP {status})"
                )
                return


@app.command("demo")
@handle_errors
def demo(
    *,
    hosts: Annotated[int, typer.Option(min=3, max=100_000, help="Simulated hosts.")] = 200,
    tenants: Annotated[int, typer.Option(min=1, max=500, help="Client companies.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the simulated fleet.")] = 42,
    interactive: Annotated[
        bool, typer.Option(help="Leave the pilot ring's approval to you (CLI or Prefect UI).")
    ] = False,
    clock: Annotated[
        str, typer.Option(help="simulated (seconds; realistic durations) or system (minutes).")
    ] = "simulated",
    verbose: Annotated[bool, typer.Option(help="Show Prefect's flow and task logs.")] = False,
    keep_fleet: Annotated[
        bool, typer.Option(help="Keep what earlier demos installed on the simulated hosts.")
    ] = False,
    slack: Annotated[
        bool, typer.Option(help="Send Slack messages to a local Slack-shaped server.")
    ] = False,
) -> None:
    """Run a whole patch campaign on a simulated multi-tenant fleet, then show the report."""
    from patchwave.settings import get_settings
    from patchwave.store import open_store

    if clock not in ("simulated", "system"):
        raise UserError(f"--clock {clock!r}: expected simulated or system")
    if not verbose:
        # Prefect reads this when first imported (just below): keep the demo's own output clear.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    settings = get_settings()
    demo_dir = settings.home / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    store = open_store()
    if not keep_fleet:
        # Each demo starts from unpatched simulated hosts (only the simulated fleet's ledger is
        # reset; earlier runs, reports and audit events stay in the store).
        for ledger in (settings.home / "sim").glob("simulated-fleet-seed*.jsonl"):
            ledger.unlink()
    console.rule("[bold]1. inventory")
    inventory = demo_dir / f"inventory-{hosts}-{tenants}-{seed}.csv"
    console.print(f"{inventory}: {_seed(store, inventory, hosts, tenants, seed)}")
    slack_ctx = _start_slack() if slack else None

    console.rule("[bold]2. campaign 'demo' as a Prefect flow (detect, plan, rings, approvals)")
    approver = _DemoApprover(store, skip_rings={"pilot"} if interactive else set(), slack=slack_ctx)
    approver.start()
    from flows.campaign import patch_campaign

    started = time.monotonic()
    clock_kind: Literal["system", "simulated"] = "system" if clock == "system" else "simulated"
    try:
        result = patch_campaign(campaign="demo", clock=clock_kind, requested_by="demo")
    finally:
        approver.stop.set()
        approver.join(timeout=10)
    elapsed = time.monotonic() - started

    console.rule("[bold]3. outcome")
    _print_outcome(store, result["run_id"], elapsed)
    if slack_ctx is not None:
        _print_slack(slack_ctx)


def _start_slack() -> Any:
    """A Slack-shaped server on loopback plus the real approval app (HTTP mode)."""
    from patchwave.slackapp.demo import start_demo_slack

    demo = start_demo_slack(with_app=True)
    demo.apply()
    console.print(f"Slack-shaped server at {demo.server.url} (approval app: {demo.app_server.url})")
    return demo


def _print_slack(ctx: Any) -> None:
    from patchwave.slackapp.demo import print_transcript

    console.rule("[bold]4. Slack messages the campaign sent (local Slack-shaped server)")
    try:
        print_transcript(ctx.server, console)
    finally:
        ctx.stop()


def _print_outcome(store: Any, run_id: str, elapsed: float) -> None:
    from patchwave.campaign.runs import get_run, load_jobs

    with store.session() as session:
        run = get_run(session, run_id)
        jobs = load_jobs(session, run_id)
        status, report, summary = run.status, run.report_path, dict(run.summary or {})
        span = (run.finished_at - run.started_at) if run.finished_at and run.started_at else None
    per_tenant: dict[str, Counter[str]] = {}
    for j in jobs:
        per_tenant.setdefault(j.host.tenant, Counter())[j.state.value] += 1
    table = Table(title=f"run {run_id}: {status} (campaign time {span}, {elapsed:.0f} s real)")
    for col in ("tenant", "hosts", "succeeded", "failed", "skipped", "rolled back"):
        table.add_column(col, justify="left" if col == "tenant" else "right")
    for tenant, c in sorted(per_tenant.items()):
        table.add_row(
            tenant,
            str(sum(c.values())),
            str(c["succeeded"]),
            str(c["failed"]),
            str(c["skipped"]),
            str(c["rolled_back"]),
        )
    console.print(table)
    rings = Table(title="rings")
    for col in ("ring", "hosts", "status", "success", "gate"):
        rings.add_column(col)
    for r in summary.get("rings", []):
        gate = r.get("gate") or {}
        rings.add_row(
            r["name"],
            str(r.get("hosts", 0)),
            r.get("status", ""),
            f"{100 * gate['success_rate']:.0f}%" if gate else "-",
            "; ".join(gate.get("reasons", [])) or ("promoted" if gate else ""),
        )
    console.print(rings)
    if report:
        console.print(f"[bold]report:[/] {Path(report).resolve()}")
    console.print(
        f"next: [bold]patchwave campaign show {run_id} --failures[/], "
        f"[bold]patchwave audit verify[/], [bold]patchwave findings --tier P1[/], "
        f"[bold]patchwave rollback {run_id} --ring broad[/]"
    )
