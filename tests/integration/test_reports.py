"""Run and compliance reports from a real store (SQLite and PostgreSQL): the numbers, what a
client's own report leaves out, the files, the CLI, and every template under StrictUndefined."""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from patchwave.errors import NotFound
from patchwave.reports.compliance import build_fleet_compliance, load_fleet
from patchwave.reports.files import CSV_COLUMNS, write_compliance_report, write_run_report
from patchwave.reports.load import load_run
from patchwave.reports.render import render, render_compliance_html, render_run_html
from patchwave.reports.run import RunMetrics, build_run_metrics
from patchwave.settings import get_settings
from patchwave.store import Store
from patchwave.store.tables import CampaignRunRow, HostJobRow
from tests.factories_campaign import (
    DB_ERROR,
    EXPECTED,
    WAVE_ABORT,
    seed_large_run,
    seed_small_run,
    utc,
)

RUN = "a1b2c3d4e5f6"
NOW = utc(2026, 11, 14, 6, 0)


def metrics_of(store: Store, *, tenant: str | None = None) -> RunMetrics:
    with store.session() as session:
        data = load_run(session, RUN, now=NOW)
    return build_run_metrics(data, tenant=tenant)


def assert_numbers(outcome: object, expected: dict[str, object]) -> None:
    for key, want in expected.items():
        got = getattr(outcome, key)
        if isinstance(want, float):
            assert got == pytest.approx(want, abs=1e-3), key
        else:
            assert got == want, key


def test_run_numbers_msp_and_per_tenant(store: Store) -> None:
    seed_small_run(store)
    m = metrics_of(store)
    assert m.status == "halted" and m.final
    assert_numbers(m.msp, EXPECTED["msp"])
    assert m.msp.compliance_before == pytest.approx(4 / 11)
    assert m.msp.compliance_after == pytest.approx(7 / 11)
    assert m.msp.patch_compliance_after == pytest.approx(5 / 11)
    assert m.msp.sla_met_rate == pytest.approx(4 / 5)
    by_slug = {t.slug: t for t in m.tenants}
    assert [t.name for t in m.tenants] == ["ACME Manufacturing", "Globex Corporation"]
    for slug in ("acme", "globex"):
        assert_numbers(by_slug[slug].outcome, EXPECTED[slug])
    # Per-state counts add up to the host jobs, per tenant and overall.
    for o in (m.msp, *(t.outcome for t in m.tenants)):
        assert o.finished + o.in_progress == o.hosts_with_jobs
        assert o.hosts_with_jobs + o.nothing_to_patch == o.hosts_in_scope


def test_run_reasons_lists_and_trouble(store: Store) -> None:
    seed_small_run(store)
    m = metrics_of(store)
    acme = next(t.outcome for t in m.tenants if t.slug == "acme")
    globex = next(t.outcome for t in m.tenants if t.slug == "globex")
    [group] = acme.failures
    assert (group.step, group.reason, group.count) == ("install", DB_ERROR, 2)
    assert group.hosts == ["acme-db01", "acme-db02"]
    [skip] = globex.skips
    assert (skip.reason, skip.hosts) == (WAVE_ABORT, ["globex-app03"])
    assert [(d.host, d.deferrals) for d in acme.deferred_hosts] == [("acme-web02", 1)]
    assert acme.deferred_hosts[0].when == utc(2026, 11, 13, 21)
    assert [r.host for r in acme.rolled_back_hosts] == ["acme-dc01"]
    # The rolled-back DC that still misses its KEV patch comes first.
    assert [t.host for t in acme.trouble] == ["acme-dc01", "acme-db01", "acme-db02"]
    assert "still missing 1 KEV patch" in acme.trouble[0].detail
    assert globex.trouble[0].detail.startswith("host unreachable")
    assert [(o.host, o.days_overdue, o.kev) for o in acme.overdue] == [("acme-dc01", 18, True)]
    # The MSP view names hosts with their tenant.
    assert {g.reason: g.hosts for g in m.msp.failures}[DB_ERROR] == [
        "acme/acme-db01",
        "acme/acme-db02",
    ]


def test_rings_timeline_and_approvals(store: Store) -> None:
    seed_small_run(store)
    m = metrics_of(store)
    assert [(r.name, r.status, r.hosts) for r in m.rings] == [
        ("lab", "promoted", 1),
        ("pilot", "promoted", 2),
        ("broad", "halted", 6),
    ]
    broad = m.rings[2]
    assert broad.gate is not None and not broad.gate.promote
    assert broad.counts is not None and broad.counts.failed == 3
    titles = [e.title for e in broad.events]
    assert titles[0] == "Approval requested for ring broad"
    assert "alice approved ring broad via CLI" in titles
    assert "Gate of broad: halt" in titles and "Ring broad halted" in titles
    pilot_titles = [e.title for e in m.rings[1].events]
    assert "Refused: erin tried to approve ring pilot" in pilot_titles
    assert "bob approved ring pilot via Slack" in pilot_titles
    # Per-host job.* events never reach the timeline; run events stay at the run level.
    assert all(not e.title.startswith("job.") for r in m.rings for e in r.events)
    assert [e.title for e in m.run_events][:2] == ["Run created", "Run started"]
    decisions = {(a.ring, tuple(a.tenants)): a.decisions for a in m.approvals}
    assert [(d.approver, d.channel) for d in decisions[("pilot", ("acme",))]] == [("bob", "Slack")]
    assert decisions[("pilot", ("globex",))][0].comment == "Globex change board agreed"
    assert decisions[("lab", ("acme",))][0].channel == "automatic"


def test_client_report_shows_nothing_of_other_clients(store: Store) -> None:
    seed_small_run(store)
    for slug, other in (("acme", "globex"), ("globex", "acme")):
        m = metrics_of(store, tenant=slug)
        assert [t.slug for t in m.tenants] == [slug]
        assert_numbers(m.msp, {k: v for k, v in EXPECTED[slug].items()})
        html = render_run_html(m, msp_name="Contoso IT")
        assert other not in html.lower(), f"{slug}'s report mentions {other}"
        assert "Contoso IT" in html
    acme = metrics_of(store, tenant="acme")
    assert [a.ring for a in acme.approvals] == ["lab", "pilot", "broad"]
    assert all(a.tenants == ["acme"] for a in acme.approvals)
    globex = metrics_of(store, tenant="globex")
    # acme's rollback is not globex's story; nor is the notification failure.
    all_titles = [e.title for r in globex.rings for e in r.events] + [
        e.title for e in globex.run_events
    ]
    assert not any("Rollback" in t or "notification" in t for t in all_titles)
    assert "Refused: erin tried to approve ring pilot" not in all_titles
    with pytest.raises(NotFound, match="tenant 'nobody' has no hosts in run"):
        metrics_of(store, tenant="nobody")


def test_times_in_the_tenants_zone(store: Store) -> None:
    seed_small_run(store)
    m = metrics_of(store, tenant="acme")
    html = render_run_html(m, msp_name="X")
    # Finished 04:00 UTC = 05:00 in Paris (CET); the deferred host's window 21:00 UTC = 22:00.
    assert "14 Nov 2026 05:00 CET" in html
    assert "13 Nov 2026 22:00 CET" in html
    assert "times in Europe/Paris" in html
    msp = render_run_html(metrics_of(store), msp_name="X")
    assert "12 Nov 2026 21:00 – 14 Nov 2026 04:00 UTC" in msp  # two zones: run times in UTC
    assert "times in America/New_York" in msp


def test_write_run_report_files(store: Store, tmp_path: Path) -> None:
    seed_small_run(store)
    files = write_run_report(store, RUN, out_dir=tmp_path, clients=True, now=NOW)
    assert files.directory == tmp_path / RUN
    assert files.html and files.csv and files.json
    assert sorted(files.clients) == ["acme", "globex"]
    html = files.html.read_text("utf-8")
    assert html.startswith("<!doctype html>") and "<script" not in html and "http" not in html
    assert "36.4 % → " in html and "63.6 %" in html and "45.5 %" in html
    with files.csv.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 9
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    assert states == {"succeeded": 4, "failed": 3, "skipped": 1, "rolled_back": 1}
    web01 = next(r for r in rows if r["host"] == "acme-web01")
    assert web01["patches"] == "KB5050001 KB5050002" and web01["rebooted"] == "yes"
    assert web01["started"] == "2026-11-12T22:10:00+01:00"  # Paris time, with its offset
    app02 = next(r for r in rows if r["host"] == "globex-app02")
    assert (app02["failed_step"], app02["finished"]) == ("connect", "2026-11-13T18:00:00-05:00")
    data = json.loads(files.json.read_text("utf-8"))
    assert data["msp"]["compliant_after"] == 7 and data["msp"]["failed"] == 3
    assert data["tenants"][0]["outcome"]["sla_met"] == 2
    assert data["definitions"]["host_compliant"].startswith("A host is compliant")


def test_one_client_files_and_formats(store: Store, tmp_path: Path) -> None:
    seed_small_run(store)
    files = write_run_report(store, RUN, out_dir=tmp_path, tenant="globex", formats=["csv"])
    assert files.directory == tmp_path / RUN / "globex" and files.html is None
    assert files.csv is not None
    assert {r["tenant"] for r in csv.DictReader(files.csv.open())} == {"globex"}


def test_run_in_progress(store: Store) -> None:
    seed_small_run(store)
    clock = utc(2026, 11, 14, 1, 0)
    with store.session() as s:
        s.execute(
            update(CampaignRunRow)
            .where(CampaignRunRow.id == RUN)
            .values(status="waiting_window", finished_at=None, clock=clock)
        )
        # app04 still waits for its window (deferred twice), nothing resolved yet.
        s.execute(
            update(HostJobRow)
            .where(HostJobRow.host_id == select_host(store, "globex-app04"))
            .values(state="pending", installed=[], started_at=None, finished_at=None)
        )
    m = metrics_of(store)
    assert not m.final and m.end == clock
    assert (m.msp.in_progress, m.msp.deferred_waiting, m.msp.succeeded) == (1, 1, 3)
    html = render_run_html(m, msp_name="X")
    assert "Campaign still in progress" in html and "waiting for a window" in html


def select_host(store: Store, name: str) -> int:
    from sqlalchemy import select

    from patchwave.store.tables import HostRow

    with store.session() as s:
        return int(s.scalar(select(HostRow.id).where(HostRow.name == name)) or 0)


def test_unknown_run_and_template(store: Store) -> None:
    seed_small_run(store)
    with pytest.raises(NotFound, match="no campaign run 'nope'"):
        metrics_of_run(store, "nope")
    with pytest.raises(NotFound, match="shipped: client-monthly, fleet-compliance"):
        render("no-such-template", m=None)


def metrics_of_run(store: Store, run_id: str) -> None:
    with store.session() as session:
        load_run(session, run_id)


def test_spec_that_no_longer_validates_is_said(store: Store) -> None:
    seed_small_run(store)
    with store.session() as s:
        s.execute(update(CampaignRunRow).where(CampaignRunRow.id == RUN).values(spec={"name": "x"}))
    m = metrics_of(store)
    assert m.msp.hosts_in_scope == 9  # only hosts with a job are known to be in scope
    assert any("no longer validates" in n for n in m.notes)
    assert "no longer validates" in render_run_html(m, msp_name="X")


def test_fleet_compliance_numbers(store: Store, tmp_path: Path) -> None:
    seed_small_run(store)
    with store.session() as session:
        fleet = build_fleet_compliance(load_fleet(session, now=NOW))
    acme, globex = fleet.tenants
    assert (acme.hosts, acme.compliant, acme.quarantined) == (8, 3, 1)
    assert acme.open_by_tier == {"P1": 3, "P2": 2, "P3": 1, "P4": 1}
    assert (acme.kev_open, acme.kev_hosts, acme.overdue) == (3, 3, 3)
    assert acme.median_age_days == pytest.approx(25.25)
    assert (acme.resolved_30d, acme.sla_met_30d) == (3, 2)
    assert (globex.hosts, globex.compliant, globex.scan_failed) == (5, 4, 1)
    assert globex.sla_met_rate_30d == 1.0  # the finding fixed in September is out of the window
    assert globex.trouble[0].problem.startswith("last scan failed: connection timed out")
    assert acme.trouble[0].host == "acme-old01"  # quarantined before merely overdue
    assert fleet.all.compliant == 7 and fleet.all.hosts == 13
    assert fleet.all.compliance == pytest.approx(7 / 13)
    files = write_compliance_report(store, tenants=["globex"], out_dir=tmp_path, now=NOW)
    html = files.html.read_text("utf-8")
    assert "Globex Corporation" in html and "acme" not in html.lower()
    assert files.fleet.all.hosts == 5
    assert json.loads(files.json.read_text())["tenants"][0]["compliant"] == 4
    with pytest.raises(NotFound, match="no tenant nobody"):
        write_compliance_report(store, tenants=["nobody"], out_dir=tmp_path)


def test_never_scanned_host_is_not_compliant(store: Store) -> None:
    seed_small_run(store)
    with store.session() as s:
        from patchwave.store.tables import HostRow

        s.execute(update(HostRow).where(HostRow.name == "globex-ws01").values(last_scan_at=None))
    with store.session() as session:
        fleet = build_fleet_compliance(load_fleet(session, tenants=["globex"], now=NOW))
    assert (fleet.tenants[0].compliant, fleet.tenants[0].never_scanned) == (3, 1)


def test_every_template_renders_with_strict_undefined(store: Store) -> None:
    """Empty runs and fleets exercise the other branch of every {% if %}."""
    seed_small_run(store)
    for view in (None, "acme", "globex"):
        assert "</html>" in render_run_html(metrics_of(store, tenant=view), msp_name="X")
    with store.session() as s:
        s.execute(
            update(CampaignRunRow)
            .where(CampaignRunRow.id == RUN)
            .values(summary={}, dry_run=True, error="boom", status="failed")
        )
        s.query(HostJobRow).delete()
    m = metrics_of(store)
    html = render_run_html(m, msp_name="X")
    assert "Dry run." in html and "boom" in html and "No failures." in html
    with store.session() as session:
        empty = build_fleet_compliance(load_fleet(session, tenants=["globex"], now=NOW))
        full = build_fleet_compliance(load_fleet(session, now=NOW))
    for fleet in (empty, full):
        assert "</html>" in render_compliance_html(fleet, msp_name="X")


def test_cli_report_run_and_compliance(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import patchwave.cli.report  # noqa: F401 - registers `report` on the app
    from patchwave.cli.common import app

    seed_small_run(store)
    monkeypatch.setenv("PATCHWAVE_DATABASE_URL", store_url)
    get_settings.cache_clear()
    runner = CliRunner()
    result = runner.invoke(app, ["report", "run", RUN, "--out", str(tmp_path), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "4 patched, 3 failed, 2 deferred, 1 rolled back" in result.output
    assert (tmp_path / RUN / "metrics.json").exists()
    assert not (tmp_path / RUN / "report.html").exists()
    result = runner.invoke(app, ["report", "run", "nope"])
    assert result.exit_code == 2 and "no campaign run 'nope'" in result.output
    result = runner.invoke(app, ["report", "compliance", "--out", str(tmp_path), "-t", "acme"])
    assert result.exit_code == 0, result.output
    assert "acme" in result.output and "37.5 %" in result.output
    assert list((tmp_path / "compliance").glob("*-acme/report.html"))


@pytest.mark.slow
def test_ten_thousand_host_run_reports_in_seconds(store: Store, tmp_path: Path) -> None:
    seeded = seed_large_run(store)
    start = time.perf_counter()
    files = write_run_report(store, seeded.run_id, out_dir=tmp_path)
    elapsed = time.perf_counter() - start
    m = files.metrics
    assert m is not None
    counts = seeded.counts
    jobs = sum(
        v for k, v in counts.items() if k in ("succeeded", "failed", "skipped", "rolled_back")
    )
    assert m.msp.hosts_with_jobs == jobs and m.msp.hosts_in_scope == 10_000
    assert (m.msp.succeeded, m.msp.failed) == (counts["succeeded"], counts["failed"])
    assert m.msp.nothing_to_patch == counts["none"]
    assert len(m.tenants) == 25
    assert files.csv is not None and sum(1 for _ in files.csv.open()) == jobs + 1
    # A few seconds on a quiet 2-core machine (measured ~2.5 s); the bound leaves room for CI.
    assert elapsed < 15, f"10,000-host report took {elapsed:.1f} s"


def test_report_uses_settings_dir(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_small_run(store)
    monkeypatch.setenv("PATCHWAVE_REPORT_DIR", str(Path(get_settings().home) / "out"))
    monkeypatch.setenv("PATCHWAVE_MSP_NAME", "Northwind Managed IT")
    get_settings.cache_clear()
    files = write_run_report(store, RUN, formats=["html"])
    assert files.html == get_settings().effective_report_dir / RUN / "report.html"
    assert "Northwind Managed IT" in files.html.read_text("utf-8")
    assert datetime.now(UTC) - timedelta(minutes=5) < files.metrics.generated_at  # type: ignore[union-attr]
