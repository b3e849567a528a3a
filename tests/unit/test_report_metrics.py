"""Report numbers from plain frames (no store): compliance at an instant, time to patch, SLA,
state partitions, formatting, artifacts and timeline wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patchwave.errors import UserError
from patchwave.reports.artifacts import artifact_key, host_outcome_rows, run_summary_markdown
from patchwave.reports.fmt import hours, local, number, pct, period, zone
from patchwave.reports.load import JOB_COLUMNS, findings_frame
from patchwave.reports.metrics import compute_outcome, open_at, prepare
from patchwave.reports.records import EventRecord
from patchwave.reports.timeline import describe

T0 = datetime(2026, 11, 10, 22, 0, tzinfo=UTC)
END = T0 + timedelta(days=2)


def scope(*hosts: tuple[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(hid, tenant, "site", f"h{hid}") for hid, tenant in hosts],
        columns=["host_id", "tenant", "site", "host"],
    )


def job(host_id: int, state: str, tenant: str = "acme", **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(JOB_COLUMNS)
    row.update(
        host_id=host_id,
        tenant=tenant,
        site="site",
        host=f"h{host_id}",
        ring="broad",
        ring_index=0,
        wave=0,
        state=state,
        patches=[],
        installed=[],
        deferrals=0,
        rebooted=False,
        reboot_required=False,
        attempts=1,
    )
    row.update(extra)
    return row


def jobs(*rows: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(JOB_COLUMNS))
    for col in ("not_before", "planned_start", "started_at", "finished_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def findings(*rows: tuple[Any, ...]) -> pd.DataFrame:
    """(host, advisory, tier, kev, first_seen, resolved_at, deadline) like the loader's rows."""
    return findings_frame(list(rows)).assign(tenant="acme")


def outcome(sc: pd.DataFrame, jb: pd.DataFrame, fd: pd.DataFrame, *, with_tenant: bool = False):  # type: ignore[no-untyped-def]
    prep = prepare(jb, fd, baseline=T0, end=END)
    return compute_outcome(
        scope=sc, jobs=jb, findings=prep.findings, pairs=prep.pairs, with_tenant=with_tenant
    )


def test_open_at_boundaries() -> None:
    f = findings(
        (1, "A", "P1", False, T0, None, "2026-11-20"),  # first seen at t: open
        (1, "B", "P1", False, T0 - timedelta(days=1), T0, "2026-11-20"),  # resolved at t: closed
        (1, "C", "P1", False, T0 + timedelta(seconds=1), None, "2026-11-20"),  # not yet seen
        (1, "D", "P1", False, T0 - timedelta(days=1), T0 + timedelta(hours=1), "2026-11-20"),
    )
    assert list(open_at(f, T0)) == [True, False, False, True]


def test_compliance_before_after_and_patch_numbers() -> None:
    sc = scope((1, "acme"), (2, "acme"), (3, "acme"))
    jb = jobs(
        job(1, "succeeded", patches=["A", "B"], installed=["A", "B"]),
        job(2, "failed", patches=["A"], failed_step="install", error="boom"),
        # No finding row for X on host 3 (e.g. pruned): the job's installed list decides.
        job(3, "succeeded", patches=["X"], installed=["X"]),
    )
    fd = findings(
        # Resolved on its deadline day: SLA met. 48 h to patch.
        (1, "A", "P1", True, T0 - timedelta(hours=40), T0 + timedelta(hours=8), "2026-11-11"),
        # Resolved the day after its deadline: missed. 96 h to patch.
        (1, "B", "P3", False, T0 - timedelta(hours=90), T0 + timedelta(hours=6), "2026-11-10"),
        (2, "A", "P1", True, T0 - timedelta(hours=40), None, "2026-11-11"),
        (3, "Z", "P4", False, T0 - timedelta(days=50), None, "2027-01-01"),  # P4: still compliant
    )
    o = outcome(sc, jb, fd)
    assert (o.compliant_before, o.compliant_after) == (1, 2)
    assert o.compliance_after == pytest.approx(2 / 3)
    assert (o.findings_in_campaign, o.findings_resolved, o.resolved_in_run) == (4, 3, 2)
    assert o.patch_compliance_after == pytest.approx(3 / 4)
    assert o.ttp_median_hours == pytest.approx(72)
    assert o.ttp_p90_hours == pytest.approx(48 + 0.9 * 48)
    assert (o.sla_met, o.sla_met_rate) == (1, 0.5)
    assert (o.kev_open_after, o.hosts_missing_kev) == (1, 1)
    # Host 2's KEV deadline (11 Nov) passed by the end (12 Nov): overdue by one day.
    assert [(x.host, x.days_overdue) for x in o.overdue] == [("h2", 1)]
    assert [t.host for t in o.trouble] == ["h2"]
    assert o.trouble[0].detail == "failed at install: boom; still missing 1 KEV patch"


def test_empty_sets_give_no_ratios() -> None:
    o = outcome(scope(), jobs(), findings())
    assert (o.compliance_before, o.sla_met_rate, o.ttp_median_hours) == (None, None, None)
    assert o.failures == [] and o.trouble == []


STATES = ["succeeded", "failed", "skipped", "rolled_back", "pending", "installing", "queued"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(STATES),
            st.integers(0, 3),
            st.booleans(),
            st.sampled_from(["connect", "install", None]),
        ),
        max_size=40,
    ),
    st.integers(0, 10),
)
def test_states_partition_the_jobs(
    rows: list[tuple[str, int, bool, str | None]], idle: int
) -> None:
    jb = jobs(
        *(
            job(
                i,
                state,
                deferrals=deferrals,
                not_before=T0 if waiting else None,
                failed_step=step if state == "failed" else None,
                error=f"error {step}" if state == "failed" else None,
            )
            for i, (state, deferrals, waiting, step) in enumerate(rows)
        )
    )
    sc = scope(*((i, "acme") for i in range(len(rows) + idle)))
    o = outcome(sc, jb, findings())
    assert o.finished + o.in_progress == o.hosts_with_jobs == len(rows)
    assert o.nothing_to_patch == idle
    assert 0 <= o.deferred_waiting <= o.deferred <= len(rows)
    assert sum(g.count for g in o.failures) == o.failed
    assert o.unreachable <= o.failed
    assert sum(r.hosts for r in o.rings) == len(rows)
    assert o.compliant_after == o.hosts_in_scope  # no findings: everyone is compliant


def test_formatting_with_units() -> None:
    assert (number(12345), number(None), number(2.0)) == ("12,345", "—", "2")
    assert (pct(1.0), pct(0.1234), pct(None), pct(0.5)) == ("100 %", "12.3 %", "—", "50 %")
    assert (hours(0.5), hours(5.5), hours(72)) == ("30 min", "5.5 h", "3.0 days")
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local(summer, "Europe/Paris") == "01 Jul 2026 14:00 CEST"
    assert local(T0, "Europe/Paris") == "10 Nov 2026 23:00 CET"
    assert period(T0, T0 + timedelta(hours=2), "UTC") == "10 Nov 2026 22:00 – 11 Nov 2026 00:00 UTC"
    assert period(T0, T0 + timedelta(minutes=30), "UTC") == "10 Nov 2026 22:00 – 22:30 UTC"
    assert period(T0, None, "UTC").endswith("(running)")
    with pytest.raises(UserError, match=r"'Mars/Olympus' .* is not an IANA zone"):
        zone("Mars/Olympus")


def test_artifact_keys_and_host_table() -> None:
    assert artifact_key("campaign", "A1B2c3", "summary") == "campaign-a1b2c3-summary"
    assert artifact_key("Fleet compliance", "ACME_Corp") == "fleet-compliance-acme-corp"
    jb = jobs(
        *(job(i, "succeeded") for i in range(5)),
        job(9, "failed", error="boom", failed_step="install"),
        job(8, "rolled_back"),
    )
    rows = host_outcome_rows(jb, cap=4)
    assert len(rows) == 4
    assert {rows[0]["state"], rows[1]["state"]} == {"failed", "rolled_back"}
    assert rows[0]["host"] in ("h8", "h9")


def test_summary_markdown_keeps_tables_intact() -> None:
    from patchwave.reports.run import RunMetrics

    o = outcome(
        scope((1, "acme")), jobs(job(1, "failed", error="a | b", failed_step="x")), findings()
    )
    m = RunMetrics(
        run_id="abc",
        campaign="demo",
        description="",
        status="halted",
        final=True,
        dry_run=False,
        requested_by="dave",
        created_at=T0,
        started_at=T0,
        finished_at=END,
        baseline=T0,
        end=END,
        generated_at=END,
        timezone="UTC",
        client=None,
        msp=o,
        tenants=[],
        rings=[],
        run_events=[],
        approvals=[],
        error=None,
    )
    md = run_summary_markdown(m, None)
    assert md.startswith("# Campaign `demo` · run `abc` · **halted**")
    assert "**a \\| b** (at x): 1 host" in md


def ev(action: str, subject: str | None = None, **details: Any) -> EventRecord:
    return EventRecord(1, T0, "alice", action, None, subject, details)


def test_timeline_wording() -> None:
    auto = describe(ev("approval.decision", "lab:1", decision="approve", channel="auto"))
    assert (
        auto is not None and auto.title == "Ring lab approved automatically by the campaign's rule"
    )
    slack = describe(ev("approval.decision", "pilot:2", decision="reject", channel="slack"))
    assert slack is not None and slack.title == "alice rejected ring pilot via Slack"
    gate = describe(ev("ring.gate", "broad", promote=False, success_rate=0.5, reasons=["too many"]))
    assert gate is not None and (gate.title, gate.detail, gate.tone) == (
        "Gate of broad: halt",
        "too many",
        "bad",
    )
    req = ev(
        "approval.requested",
        "broad:3",
        tenants=["acme", "globex"],
        min_approvers=2,
        expires_at="2026-11-11T22:00:00+00:00",
    )
    msp, client = describe(req), describe(req, client=True)
    assert msp is not None and client is not None
    assert msp.detail == "for acme, globex; 2 approvers needed"
    assert client.detail == "2 approvers needed" and client.until == END - timedelta(days=1)
