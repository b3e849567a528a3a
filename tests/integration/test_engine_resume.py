"""The engine on its own (no Prefect): a job found in flight after a crash is re-verified by a
scan and finished — but only inside its maintenance window when the host must change — and a
wave that aborts wakes the jobs waiting for a window to skip them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from patchwave.calendars import to_calendar
from patchwave.campaign import gating, service
from patchwave.campaign.context import RunContext
from patchwave.campaign.runs import load_jobs
from patchwave.domain.windows import window_at
from patchwave.endpoints.factory import EndpointFactory
from patchwave.spec import load_campaign
from patchwave.store import open_store
from patchwave.store.tables import AuditEventRow, HostJobRow
from tests.flows.campaign_env import LEAD, fleet_rows, seed, write_campaign

MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SPEC = """
name: saturday
owner: ops
scope: {tenants: all}
calendars:
  sat-night: {rrule: "FREQ=WEEKLY;BYDAY=SA", start: "01:00", duration: 3h, timezone: UTC}
windows: {default: sat-night, host_override: false}
rings:
  - {name: all, select: {rest: true}, approval: auto}
deployment:
  concurrency: {per_campaign: 2, per_site: 2}
  estimated_duration: {debian: 15m}
"""


def _approved_run(spec: Path, *, start_at: datetime = MONDAY) -> str:
    """A run of ``spec`` detected, planned and approved (its ring "all"), ready to deploy."""
    run_id = service.start_run(
        campaign=str(spec),
        run_id=None,
        requested_by=None,
        dry_run=False,
        clock_kind="simulated",
        start_at=start_at,
        params={},
        flow_run_id=None,
    )
    service.detect(RunContext.load(run_id))
    service.plan(RunContext.load(run_id))
    ids = gating.ring_requests(RunContext.load(run_id), "all")
    gating.apply_approvals(RunContext.load(run_id), "all", ids)
    return run_id


def _prepared_run(tmp_path: Path) -> tuple[str, Path]:
    store = open_store()
    seed(store, tmp_path, fleet_rows({"acme": 3}, lab=0, pilot=0), [LEAD])
    spec = write_campaign(tmp_path, SPEC)
    run_id = _approved_run(spec, start_at=MONDAY)
    return run_id, spec


def test_in_flight_job_is_finished_only_inside_its_window(tmp_path: Path) -> None:
    run_id, spec = _prepared_run(tmp_path)
    store = open_store()
    # A crash left one job "installing" on Monday (outside any window): nothing was installed.
    with store.session() as s:
        victim = load_jobs(s, run_id)[0]
        s.execute(
            update(HostJobRow)
            .where(HostJobRow.id == victim.id)
            .values(state="installing", started_at=MONDAY)
        )
    result = service.deploy_wave(RunContext.load(run_id), "all", 0)
    assert result.succeeded == 3
    cal = to_calendar(load_campaign(spec).calendars["sat-night"], name="sat-night")
    with store.session() as s:
        installs = list(
            s.scalars(
                select(AuditEventRow).where(
                    AuditEventRow.run_id == run_id,
                    AuditEventRow.action == "job.installing",
                    AuditEventRow.host == victim.host.key,
                )
            )
        )
    assert installs, "the in-flight job was never installed"
    for event in installs:
        assert window_at(cal, event.at) is not None, f"installed outside a window at {event.at}"
    fleet = EndpointFactory().fleet
    assert all(fleet.install_count(victim.host.key, p) == 1 for p in victim.patches)


TWO_NIGHTS = """
name: two-nights
owner: ops
scope: {tenants: all}
calendars:
  sat-night: {rrule: "FREQ=WEEKLY;BYDAY=SA", start: "01:00", duration: 3h, timezone: UTC}
  sun-night: {rrule: "FREQ=WEEKLY;BYDAY=SU", start: "01:00", duration: 3h, timezone: UTC}
windows: {default: sat-night, host_override: true}
rings:
  - {name: all, select: {rest: true}, approval: auto}
deployment:
  wave_size: 2
  max_fail_percentage: 10
  retries: {count: 0, delay: 1m}
"""


def test_abort_wakes_jobs_waiting_for_a_later_window(tmp_path: Path) -> None:
    store = open_store()
    inv = tmp_path / "inv.csv"
    inv.write_text(
        "tenant,site,name,os_family,os_version,tags,calendar\n"
        "acme,hq,sat1,debian,12,sim:install-fails,sat-night\n"
        "acme,hq,sun1,debian,12,sim:clean,sun-night\n"
    )
    from patchwave.inventory import load_inventory
    from patchwave.store.inventory_repo import apply_inventory

    with store.session() as s:
        apply_inventory(s, load_inventory(inv))
    spec = write_campaign(tmp_path, TWO_NIGHTS)
    run_id = _approved_run(spec, start_at=MONDAY)
    result = service.deploy_wave(RunContext.load(run_id), "all", 0)
    assert result.aborted and (result.failed, result.skipped) == (1, 1)
    with store.session() as s:
        jobs = {j.host.name: j for j in load_jobs(s, run_id)}
    assert jobs["sat1"].state.value == "failed" and jobs["sun1"].state.value == "skipped"
    # Skipped when Saturday's failure aborted the wave, not when its Sunday window came.
    assert jobs["sun1"].finished_at == jobs["sat1"].finished_at
    assert jobs["sun1"].finished_at is not None and jobs["sun1"].finished_at.weekday() == 5


def test_a_cancelled_run_starts_no_new_host_and_finishes_the_running_ones(tmp_path: Path) -> None:
    from patchwave.campaign.engine import Policy, WaveRunner
    from patchwave.campaign.ledger import JobLedger
    from patchwave.campaign.runs import load_advisories
    from patchwave.clock import run_async

    store = open_store()
    seed(store, tmp_path, fleet_rows({"acme": 8}, lab=0, pilot=0), [LEAD])
    spec = write_campaign(
        tmp_path,
        SPEC.replace("per_campaign: 2, per_site: 2", "per_campaign: 2, per_site: 8").replace(
            "saturday", "cancelled"
        ),
    )
    run_id = _approved_run(spec, start_at=datetime(2026, 11, 7, 1, 0, tzinfo=UTC))
    ctx = RunContext.load(run_id)
    with store.session() as s:
        jobs = load_jobs(s, run_id)
        advisories = load_advisories(s, [p for j in jobs for p in j.patches])
    resolver = ctx.calendars()
    reason: list[str | None] = [None]
    finished: list[str] = []

    def on_change(job: object) -> None:
        finished.append(job.host.key)  # type: ignore[attr-defined]
        if len(finished) == 2:
            reason[0] = "cancelled by lead: change freeze"

    async def run() -> object:
        runner = WaveRunner(
            jobs=jobs,
            advisories=advisories,
            calendars={j.calendar: resolver.by_key(j.calendar) for j in jobs if j.calendar},
            endpoint=ctx.endpoints(),
            policy=Policy.from_spec(ctx.spec),
            clock=ctx.clock,
            ledger=JobLedger(store, run_id, now=ctx.clock.now),
            on_change=on_change,
            stop=lambda: reason[0],
        )
        return await runner.run()

    run_async(ctx.clock, run())
    with store.session() as s:
        states = {j.host.key: (j.state.value, j.error) for j in load_jobs(s, run_id)}
    done = [k for k, (state, _) in states.items() if state == "succeeded"]
    skipped = [
        k
        for k, (state, err) in states.items()
        if state == "skipped" and err == "cancelled by lead: change freeze"
    ]
    # Two at a time: the first to finish freed a slot for a third; the cancel came when the
    # second finished. The third (running) finishes, the other five never start.
    assert len(done) == 3 and len(skipped) == 5
    fleet = EndpointFactory().fleet
    assert all(not fleet.installed(k) for k in skipped)
