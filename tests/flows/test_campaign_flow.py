"""The patch-campaign flow on the simulated fleet, under a real Prefect API (test harness),
asserting on the store: job counts add up, rings run in order, no job starts outside its window,
waves abort, failing gates halt and roll back. Time is simulated (virtual clock); hosts are the
simulated fleet (a real Windows or Linux host is not needed for these rules)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.campaign import patch_campaign
from patchwave.campaign.runs import get_run, job_counts, load_jobs
from patchwave.domain.windows import window_at
from patchwave.endpoints.factory import EndpointFactory
from patchwave.store import Store, open_store
from patchwave.store.audit import verify
from patchwave.store.tables import AuditEventRow, CampaignRunRow, HostJobRow
from tests.flows.campaign_env import LEAD, fleet_rows, seed, write_campaign

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

THREE_RINGS = """
name: three-rings
owner: ops
scope: {tenants: all}
windows: {default: always, host_override: false}
rings:
  - {name: lab, select: {tags: [lab]}, approval: auto, gate: {min_success_rate: 1.0}}
  - {name: pilot, select: {tags: [pilot]}, approval: auto, gate: {min_success_rate: 1.0}}
  - {name: broad, select: {rest: true}, approval: auto, gate: {min_success_rate: 0.9}}
deployment:
  concurrency: {per_campaign: 4, per_site: 4}
  wave_size: 5
  retries: {count: 1, delay: 1m}
"""


@pytest.fixture
def store(prefect_api: None, tmp_path: Path) -> Iterator[Store]:
    st = open_store()
    yield st
    st.dispose()


def test_campaign_counts_add_up_and_rings_run_in_order(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, fleet_rows({"acme": 8, "globex": 6}), [LEAD])
    spec = write_campaign(tmp_path, THREE_RINGS)
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    assert result["status"] == "completed"
    run_id = result["run_id"]
    with store.session() as s:
        run = get_run(s, run_id)
        counts = job_counts(s, run_id)
        jobs = load_jobs(s, run_id)
        assert verify(s).ok
        ring_starts = [
            e.subject
            for e in s.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.run_id == run_id, AuditEventRow.action == "ring.started")
                .order_by(AuditEventRow.seq)
            )
        ]
    summary = run.summary or {}
    # Every host in scope with something to patch has exactly one job, in a final state.
    assert sum(counts.values()) == summary["hosts_with_patches"] + summary["unassigned"]
    assert sum(counts.values()) + summary["hosts_compliant_at_start"] == 14
    assert counts == {"succeeded": len(jobs)}
    assert ring_starts == ["lab", "pilot", "broad"]
    assert [r["status"] for r in summary["rings"]] == ["promoted"] * 3
    by_ring = {r: [j for j in jobs if j.ring == r] for r in ("lab", "pilot", "broad")}
    assert {j.host.name for j in by_ring["lab"]} <= {
        "acme-h00",
        "acme-h01",
        "globex-h00",
        "globex-h01",
    }
    # A ring starts only after the previous ring's last host finished.
    for earlier, later in (("lab", "pilot"), ("pilot", "broad")):
        last_done = max(j.finished_at for j in by_ring[earlier] if j.finished_at)
        first_start = min(j.started_at for j in by_ring[later] if j.started_at)
        assert first_start >= last_done
    # Waves of at most 5 hosts, at most 4 hosts at once.
    assert max(j.wave for j in by_ring["broad"]) == (len(by_ring["broad"]) - 1) // 5
    events = sorted((j.started_at, 1) for j in jobs if j.started_at)
    events += sorted((j.finished_at, -1) for j in jobs if j.finished_at)
    running = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    assert peak <= 4
    # What the store says was installed is really on the hosts.
    fleet = EndpointFactory().fleet
    for job in jobs:
        assert set(job.patches) <= fleet.installed(job.host.key)
        assert all(fleet.install_count(job.host.key, p) == 1 for p in job.patches)


WEEKLY = """
name: saturday-nights
owner: ops
scope: {tenants: all}
calendars:
  sat-night: {rrule: "FREQ=WEEKLY;BYDAY=SA", start: "01:00", duration: 40m, timezone: UTC}
windows: {default: sat-night, host_override: false}
rings:
  - {name: all, select: {rest: true}, approval: auto, gate: {min_success_rate: 0.5}}
deployment:
  concurrency: {per_campaign: 1, per_site: 1}
  estimated_duration: {debian: 15m}
  prechecks: []
  postchecks: []
"""


def test_no_job_starts_outside_its_window_and_short_windows_defer(
    store: Store, tmp_path: Path
) -> None:
    seed(store, tmp_path, fleet_rows({"acme": 7}, lab=0, pilot=0), [LEAD])
    spec = write_campaign(tmp_path, WEEKLY)
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    run_id = result["run_id"]
    from patchwave.calendars import resolve_calendar, to_calendar
    from patchwave.spec import load_campaign

    cal = to_calendar(load_campaign(spec).calendars["sat-night"], name="sat-night")
    assert resolve_calendar("sat-night", extra=load_campaign(spec).calendars).name == "sat-night"
    with store.session() as s:
        jobs = load_jobs(s, run_id)
    started = [j for j in jobs if j.started_at]
    assert len(started) == len(jobs) > 0
    windows = set()
    for job in started:
        assert job.started_at is not None
        window = window_at(cal, job.started_at)
        assert window is not None, f"{job.host.key} started outside a window at {job.started_at}"
        # It started only because its estimate fitted before the window closed.
        assert job.started_at + timedelta(seconds=job.est_seconds) <= window.end
        windows.add(window.start)
    assert len(windows) >= 2  # 40-minute windows cannot hold 7 sequential jobs
    assert any(j.deferrals > 0 for j in jobs)
    assert min(j.started_at for j in started) >= datetime(2026, 11, 7, 1, 0, tzinfo=UTC)


ABORT = """
name: abort-wave
owner: ops
scope: {tenants: all}
windows: {default: always, host_override: false}
rings:
  - {name: all, select: {rest: true}, approval: auto}
deployment:
  concurrency: {per_campaign: 1, per_site: 1}
  wave_size: 10
  max_fail_percentage: 10
  retries: {count: 0, delay: 1m}
"""


def test_wave_aborts_once_failures_exceed_threshold(store: Store, tmp_path: Path) -> None:
    failing = {f"acme-h{i:02d}": "sim:install-fails" for i in range(10)}
    seed(store, tmp_path, fleet_rows({"acme": 10}, lab=0, pilot=0, tags=failing), [LEAD])
    spec = write_campaign(tmp_path, ABORT)
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    assert result["status"] == "halted"
    with store.session() as s:
        counts = job_counts(s, result["run_id"])
        skipped = [j for j in load_jobs(s, result["run_id"]) if j.state.value == "skipped"]
    # 10% of 10 hosts: the first failure is allowed, the second exceeds it and aborts the rest.
    assert counts["failed"] == 2
    assert counts["skipped"] == 8
    assert all("wave aborted: 2 of 10 hosts failed" in (j.error or "") for j in skipped)
    fleet = EndpointFactory().fleet
    assert all(not fleet.installed(j.host.key) for j in skipped)  # never touched


GATE = """
name: gate-rollback
owner: ops
scope: {tenants: all}
windows: {default: always, host_override: false}
rings:
  - {name: lab, select: {tags: [lab]}, approval: auto, gate: {min_success_rate: 1.0}}
  - {name: broad, select: {rest: true}, approval: auto}
deployment:
  max_fail_percentage: 100
  retries: {count: 0, delay: 1m}
  on_gate_failure: halt-and-rollback
"""


def test_failing_gate_halts_and_rolls_back_the_ring(store: Store, tmp_path: Path) -> None:
    rows = fleet_rows({"acme": 6}, lab=3, pilot=0, tags={"acme-h02": "lab;sim:install-fails"})
    seed(store, tmp_path, rows, [LEAD])
    spec = write_campaign(tmp_path, GATE)
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    assert result["status"] == "halted"
    run_id = result["run_id"]
    with store.session() as s:
        jobs = {j.host.name: j for j in load_jobs(s, run_id)}
        lab_gate = get_run(s, run_id).summary["rings"][0]
        actions = [
            e.action for e in s.scalars(select(AuditEventRow).where(AuditEventRow.run_id == run_id))
        ]
        assert verify(s).ok
    assert lab_gate["status"] == "halted" and lab_gate["rolled_back"] is True
    assert "success rate 66.7% below 100%" in lab_gate["gate"]["reasons"][0]
    assert jobs["acme-h02"].state.value == "failed"
    fleet = EndpointFactory().fleet
    for name in ("acme-h00", "acme-h01"):
        assert jobs[name].state.value == "rolled_back"
        assert not (set(jobs[name].patches) & fleet.installed(f"acme/{name}"))
    for name in ("acme-h03", "acme-h04", "acme-h05"):
        assert jobs[name].state.value == "skipped"
        assert jobs[name].error == "campaign halted at ring lab"
        assert not fleet.installed(f"acme/{name}")
    assert {
        "ring.gate",
        "rollback.requested",
        "rollback.completed",
        "job.rolling_back",
        "job.rolled_back",
    } <= set(actions)


def test_dry_run_plans_and_touches_nothing(store: Store, tmp_path: Path) -> None:
    seed(store, tmp_path, fleet_rows({"acme": 5}), [LEAD])
    spec = write_campaign(tmp_path, THREE_RINGS)
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY, dry_run=True)
    assert result["status"] == "planned"
    with store.session() as s:
        states = {row.state for row in s.scalars(select(HostJobRow))}
    assert states == {"pending"}
    assert not EndpointFactory().fleet.ledger_path.exists() or not any(
        '"install"' in line for line in EndpointFactory().fleet.ledger_path.read_text().splitlines()
    )
    # Resuming a finished run changes nothing.
    again = patch_campaign(campaign=str(spec), run_id=result["run_id"], clock="simulated")
    assert again["status"] == "planned"


def test_a_host_with_a_missing_credential_fails_alone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PW_NOT_SET_ANYWHERE", raising=False)
    rows = fleet_rows({"acme": 3}, lab=0, pilot=0)
    seed(store, tmp_path, rows, [LEAD])
    extra = tmp_path / "ssh.csv"
    extra.write_text(
        "tenant,site,name,os_family,address,connector,credential_ref\n"
        "acme,hq,acme-ssh1,debian,127.0.0.1:1,ssh,env:PW_NOT_SET_ANYWHERE\n"
    )
    from patchwave.inventory import load_inventory
    from patchwave.store.inventory_repo import apply_inventory

    with store.session() as s:
        apply_inventory(s, load_inventory(extra))
    spec = write_campaign(
        tmp_path, ABORT.replace("max_fail_percentage: 10", "max_fail_percentage: 50")
    )
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    with store.session() as s:
        jobs = {j.host.name: j for j in load_jobs(s, result["run_id"])}
    # Its scan failed (recorded): it is a skipped job with the reason, not a silent omission;
    # the others were patched.
    assert jobs["acme-ssh1"].state.value == "skipped"
    assert "detection scan failed" in (jobs["acme-ssh1"].error or "")
    assert "PW_NOT_SET_ANYWHERE" in (jobs["acme-ssh1"].error or "")
    assert {j.state.value for n, j in jobs.items() if n != "acme-ssh1"} == {"succeeded"}
    with store.session() as s:
        from patchwave.store.tables import HostRow

        row = s.scalars(select(HostRow).where(HostRow.name == "acme-ssh1")).one()
    assert row.last_scan_status == "failed" and "PW_NOT_SET_ANYWHERE" in (row.last_scan_error or "")


def test_a_failed_run_resumes_once_the_cause_is_gone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patchwave.campaign import service

    seed(store, tmp_path, fleet_rows({"acme": 6}), [LEAD])
    spec = write_campaign(tmp_path, THREE_RINGS)
    real_verify = service.verify_ring

    def broken(ctx: object, ring: str) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "verify_ring", broken)
    with pytest.raises(Exception, match="database went away"):
        patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    with store.session() as s:
        run = s.scalars(select(CampaignRunRow)).one()
        assert run.status == "failed" and "database went away" in (run.error or "")
        run_id = run.id
        lab_done = {j.host.name: j.state.value for j in load_jobs(s, run_id) if j.ring == "lab"}
    assert set(lab_done.values()) == {"succeeded"}  # the wave had finished before the failure
    monkeypatch.setattr(service, "verify_ring", real_verify)
    result = patch_campaign(campaign=str(spec), run_id=run_id, clock="simulated")
    assert result["status"] == "completed"
    fleet = EndpointFactory().fleet
    with store.session() as s:
        for job in load_jobs(s, run_id):
            assert job.state.value == "succeeded"
            assert all(fleet.install_count(job.host.key, p) == 1 for p in job.patches)


def test_clients_are_told_their_window_client_notice_before_it_opens(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patchwave.devtools.slack_server import DEFAULT_TOKEN, SlackTestServer
    from patchwave.notify.campaign import reset_notifiers
    from patchwave.settings import get_settings

    seed(store, tmp_path, fleet_rows({"acme": 3}, lab=0, pilot=0), [LEAD])
    spec = write_campaign(
        tmp_path,
        WEEKLY.replace("duration: 40m", "duration: 3h")
        + 'notify:\n  slack: {channel: "#ops"}\n  client_notice: 48h\n',
    )
    with SlackTestServer(tokens={DEFAULT_TOKEN}) as slack:
        monkeypatch.setenv("PW_TEST_SLACK_TOKEN", DEFAULT_TOKEN)
        monkeypatch.setenv("PATCHWAVE_SLACK_TOKEN_REF", "env:PW_TEST_SLACK_TOKEN")
        monkeypatch.setenv("PATCHWAVE_SLACK_BASE_URL", slack.url)
        monkeypatch.setenv("PATCHWAVE_SLACK_RATE_PER_CHANNEL", "50")
        get_settings.cache_clear()
        reset_notifiers()
        result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
        notices = [m for m in slack.messages("#ops") if "Planned maintenance" in m.text]
    reset_notifiers()
    assert result["status"] == "completed"
    assert len(notices) == 1
    assert "Sat 07 Nov 2026 01:00" in notices[0].text
    with store.session() as s:
        actions = [
            (e.action, e.at)
            for e in s.scalars(
                select(AuditEventRow).where(AuditEventRow.run_id == result["run_id"])
            )
        ]
    first_job = min(at for action, at in actions if action == "job.queued")
    assert first_job >= datetime(2026, 11, 7, 1, 0, tzinfo=UTC)
    # Sent (on the campaign clock) exactly 48 hours before the window, not when the ring began.
    [told] = [at for action, at in actions if action == "notify.client_notice"]
    assert told == datetime(2026, 11, 5, 1, 0, tzinfo=UTC)
