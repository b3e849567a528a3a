"""The campaign-facing Slack functions against the Slack-shaped server and the real store: what
each message says (read from the store), where it goes, that every delivery is recorded, that a
resumed run neither repeats an alert nor loses the message it edits, and that nothing raises
when Slack is off, misconfigured or down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from patchwave.campaign.approvals import decide, load_approver
from patchwave.devtools.slack_clicks import approval_buttons
from patchwave.devtools.slack_server import DEFAULT_TOKEN, SlackTestServer, StoredMessage
from patchwave.notify import campaign as slack_notify
from patchwave.notify.campaign import reset_notifiers
from patchwave.notify.messages import parse_approval_value
from patchwave.settings import Settings
from patchwave.store import Store
from patchwave.store.tables import (
    ApprovalRow,
    AuditEventRow,
    CampaignRunRow,
    HostJobRow,
    NotificationRow,
)
from tests.support.approval_seed import SPEC, T0, seed_jobs, seed_people, seed_request, seed_run


@pytest.fixture
def slack() -> Iterator[SlackTestServer]:
    with SlackTestServer(enforce_retry_after=False) as server:
        yield server


@pytest.fixture
def settings(slack: SlackTestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    reset_notifiers()
    yield Settings(
        slack_token_ref="env:SLACK_BOT_TOKEN",
        slack_base_url=slack.url,
        slack_rate_per_channel=1000.0,
        public_report_url="https://reports.msp.example/patchwave/",
    )
    reset_notifiers()


JOBS: list[dict[str, Any]] = [
    {
        "tenant": "acme",
        "host": "acme-web01",
        "patches": ["KEV-2026-0001", "DSA-5678-1"],
        "tier": "P1",
        "planned_start": T0,
        "planned_end": T0 + timedelta(hours=1),
    },
    {
        "tenant": "acme",
        "host": "acme-db01",
        "patches": ["DSA-5678-1"],
        "planned_start": T0 + timedelta(minutes=30),
        "planned_end": T0 + timedelta(minutes=90),
    },
    {"tenant": "globex", "host": "gx-app01", "patches": ["DSA-9999-1R"], "wave": 1},
]


@pytest.fixture
def run(store: Store) -> str:
    seed_people(store)
    run_id = seed_run(store)
    seed_jobs(store, run_id, JOBS)
    return run_id


def rows(store: Store) -> list[NotificationRow]:
    with store.session() as s:
        return list(s.scalars(select(NotificationRow).order_by(NotificationRow.id)))


def audit(store: Store, action: str) -> list[AuditEventRow]:
    with store.session() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def text_of(message: StoredMessage) -> str:
    return message.text + " " + json.dumps(message.blocks, ensure_ascii=False)


def set_jobs(store: Store, run_id: str, host_state: dict[int, dict[str, Any]]) -> None:
    with store.session() as s:
        for job_id, values in host_state.items():
            row = s.get(HostJobRow, job_id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)


def job_ids(store: Store, run_id: str) -> list[int]:
    with store.session() as s:
        return list(s.scalars(select(HostJobRow.id).order_by(HostJobRow.id)))


def test_nothing_happens_when_slack_is_not_configured(store: Store, run: str) -> None:
    rid = seed_request(store, run)
    off = Settings(slack_token_ref=None)
    assert slack_notify.notify_approval_requested(store, run, [rid], settings=off) == []
    assert slack_notify.notify_completed(store, run, None, settings=off) == []
    assert rows(store) == []


def test_approval_request_goes_to_the_tenant_channel_once_with_the_store_numbers(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    rid = seed_request(store, run, tenants=("acme",), plan_hash="d" * 64)
    [result] = slack_notify.notify_approval_requested(store, run, [rid], settings=settings)
    assert result.ok and result.channel == "#acme-ops"
    [message] = slack.messages("#acme-ops")
    body = text_of(message)
    assert "2 hosts" in body  # acme's two jobs in ring pilot, not the globex one
    assert body.index("KEV-2026-0001") < body.index("DSA-5678-1")  # KEV first
    assert "Sat 17 Jan 2026 22:00–23:30 CET" in body  # window in acme's own time zone
    assert parse_approval_value(approval_buttons(message)["approve"]) == (rid, "d" * 64)
    with store.session() as s:
        row = s.get(ApprovalRow, rid)
        assert row is not None
        assert (row.slack_channel, row.slack_ts) == (message.channel, message.ts)
    [record] = rows(store)
    assert (record.status, record.subject, record.kind, record.run_id) == (
        "sent",
        f"approval:{rid}",
        "approval_request",
        run,
    )
    # A resumed run asks again: nothing is posted twice.
    assert slack_notify.notify_approval_requested(store, run, [rid], settings=settings) == []
    assert len(slack.calls_for("chat.postMessage")) == 1


def test_a_spec_channel_without_channel_per_tenant_keeps_everything_there(
    store: Store, slack: SlackTestServer, settings: Settings
) -> None:
    seed_people(store)
    spec = {**SPEC, "notify": {"slack": {"channel": "#msp-patching"}}}
    run_id = seed_run(store, spec=spec)
    seed_jobs(store, run_id, JOBS[:1])
    rid = seed_request(store, run_id)
    [result] = slack_notify.notify_approval_requested(store, run_id, [rid], settings=settings)
    assert result.channel == "#msp-patching"
    # No notify.slack at all: tenant channels, else the default channel.
    run2 = seed_run(store, run_id="run000000002", spec={**SPEC, "notify": {}})
    rid2 = seed_request(store, run2, tenants=("globex",))
    [result2] = slack_notify.notify_approval_requested(store, run2, [rid2], settings=settings)
    assert result2.channel == "#patching"


def test_wave_progress_is_one_message_edited_in_place_even_after_a_resume(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    web, db, _ = job_ids(store, run)
    [first] = slack_notify.notify_wave_progress(store, run, "pilot", 0, settings=settings)
    assert first.method == "chat.postMessage" and first.channel == "#acme-ops"
    set_jobs(store, run, {web: {"state": "installing", "started_at": T0}})
    slack_notify.notify_wave_progress(store, run, "pilot", 0, settings=settings)

    reset_notifiers()  # a new process: the notifier remembers nothing, the store does
    set_jobs(
        store,
        run,
        {
            web: {"state": "succeeded", "finished_at": T0 + timedelta(minutes=20)},
            db: {"state": "succeeded", "started_at": T0, "finished_at": T0},
        },
    )
    [last] = slack_notify.notify_wave_progress(store, run, "pilot", 0, settings=settings)

    assert last.method == "chat.update" and last.ts == first.ts
    [message] = slack.messages("#acme-ops")
    assert message.edits == 2
    assert "wave 1 finished: 2/2 done, 0 failed" in message.text  # wave 0 in the store
    assert [r.ref_key for r in rows(store)] == [f"progress:{run}:pilot:1"] * 3  # as people count


def test_progress_is_not_sent_unless_the_spec_asks(
    store: Store, slack: SlackTestServer, settings: Settings
) -> None:
    seed_people(store)
    run_id = seed_run(store, spec={**SPEC, "notify": {"slack": {"channel_per_tenant": True}}})
    seed_jobs(store, run_id, JOBS[:1])
    assert slack_notify.notify_wave_progress(store, run_id, "pilot", 0, settings=settings) == []
    assert slack.calls_for("chat.postMessage") == []


def test_failures_are_alerted_once_per_attempt_in_the_wave_thread(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    web, _, _ = job_ids(store, run)
    [wave] = slack_notify.notify_wave_progress(store, run, "pilot", 0, settings=settings)
    failed = {
        "state": "failed",
        "failed_step": "install",
        "error": "E: dpkg was interrupted",
        "attempts": 1,
        "installed": ["DSA-5678-1"],
        "finished_at": T0,
    }
    set_jobs(store, run, {web: failed})
    reset_notifiers()
    [alert] = slack_notify.notify_host_failures(store, run, [web], settings=settings)
    assert alert.ok and alert.thread_ts == wave.ts
    [reply] = slack.thread("#acme-ops", str(wave.ts))
    body = text_of(reply)
    assert "acme-web01" in body and "KEV-2026-0001" in body and "dpkg was interrupted" in body
    assert "Read the package manager's error on acme-web01" in body

    assert slack_notify.notify_host_failures(store, run, [web], settings=settings) == []
    set_jobs(store, run, {web: {**failed, "attempts": 2}})
    assert len(slack_notify.notify_host_failures(store, run, [web], settings=settings)) == 1
    assert len(slack.thread("#acme-ops", str(wave.ts))) == 2


def test_gate_halted_and_completed_read_the_run_summary(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    web, db, gx = job_ids(store, run)
    set_jobs(
        store,
        run,
        {
            web: {"state": "failed", "failed_step": "verify", "error": "not installed"},
            db: {"state": "succeeded"},
            gx: {"state": "pending", "deferrals": 1},
        },
    )
    with store.session() as s:
        row = s.get(CampaignRunRow, run)
        assert row is not None
        row.summary = {
            "rings": [
                {"name": "lab", "hosts": 0},
                {
                    "name": "pilot",
                    "hosts": 2,
                    "gate": {
                        "promote": False,
                        "success_rate": 0.5,
                        "succeeded": 1,
                        "failed": 1,
                        "reasons": ["success rate 50.0 % is below 95.0 %"],
                        "health_failures": ["services-up on acme-web01"],
                    },
                },
            ],
            "scope_hosts": 10,
            "hosts_compliant_at_start": 7,
        }
        row.status, row.finished_at = "halted", T0 + timedelta(hours=3)

    [halt] = slack_notify.notify_gate_halted(store, run, "pilot", settings=settings)
    assert halt.channel == "#patching"  # the ring spans two tenants: the spec's channel
    body = text_of(slack.messages("#patching")[-1])
    assert "50.0 %" in body and "95.0 %" in body and "allows 1" in body
    assert "health check: services-up on acme-web01" in body
    assert f"patchwave campaign resume {run}" in body

    [done] = slack_notify.notify_completed(store, run, "/srv/reports/run-1.html", settings=settings)
    assert done.channel == "#patching"
    body = text_of(slack.messages("#patching")[-1])
    assert "Campaign monthly halted: 1/3 hosts patched, 1 failed" in body
    assert "70.0 % → 80.0 %" in body
    assert "https://reports.msp.example/patchwave/run-1.html" in body
    assert "acme: 1 patched, 1 failed" in body and "globex: 0 patched, 0 failed, 1 deferred" in body
    assert slack_notify.notify_completed(store, run, None, settings=settings) == []


def test_client_notices_per_tenant_in_local_time(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    results = slack_notify.notify_client_notice(store, run, "pilot", settings=settings)
    assert [r.channel for r in results] == ["#acme-ops", "#patching"]  # globex has no channel
    acme = text_of(slack.messages("#acme-ops")[0])
    assert "Acme Corp" in acme and "2 servers" in acme and "22:00–23:30 CET" in acme
    assert "will restart" not in acme  # no acme advisory needs a reboot
    globex = text_of(slack.messages("#patching")[0])
    assert "Globex" in globex and "1 server" in globex and "will restart" in globex
    assert slack_notify.notify_client_notice(store, run, "pilot", settings=settings) == []


def test_a_cli_decision_replaces_the_request_message(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    rid = seed_request(store, run)
    [posted] = slack_notify.notify_approval_requested(store, run, [rid], settings=settings)
    assert slack_notify.notify_approval_decided(store, rid, settings=settings) == []  # undecided
    with store.session() as s:
        result = decide(
            s,
            request_id=rid,
            approver=load_approver(s, "lena"),
            approver_label="lena",
            approve=True,
            channel="cli",
            now=datetime.now(UTC),
            comment="go",
        )
    assert result.accepted
    reset_notifiers()
    [update] = slack_notify.notify_approval_decided(store, rid, settings=settings)
    assert update.method == "chat.update" and update.ts == posted.ts
    [message] = slack.messages("#acme-ops")
    assert "approved by lena via the CLI" in message.text
    assert approval_buttons(message) == {}
    assert slack_notify.notify_approval_decided(store, rid, settings=settings) == []


def test_permanent_errors_are_recorded_and_audited_not_raised(
    store: Store, run: str, settings: Settings
) -> None:
    rid = seed_request(store, run)
    with SlackTestServer(channels=["#patching"]) as strict:  # no #acme-ops in this workspace
        only_default = settings.model_copy(update={"slack_base_url": strict.url})
        results = slack_notify.notify_approval_requested(store, run, [rid], settings=only_default)
    [failed] = results
    assert (failed.ok, failed.error, failed.permanent) == (False, "channel_not_found", True)
    assert failed.attempts == 1  # permanent: not retried
    [record] = rows(store)
    assert (record.status, record.error, record.subject) == (
        "failed",
        "channel_not_found",
        f"approval:{rid}",
    )
    [event] = audit(store, "notify.failed")
    assert json.loads(event.details)["channel"] == "#acme-ops"


def test_slack_down_or_misconfigured_never_raises(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    rid = seed_request(store, run)
    bad_ref = settings.model_copy(update={"slack_token_ref": "the-token-itself"})
    [bad] = slack_notify.notify_approval_requested(store, run, [rid], settings=bad_ref)
    assert not bad.ok and "SlackConfigError" in str(bad.error)

    slack.stop()  # Slack unreachable: connection refused, retried, then recorded
    [down] = slack_notify.notify_approval_requested(store, run, [rid], settings=settings)
    assert not down.ok and str(down.error).startswith("connection_error")
    assert [r.status for r in rows(store)] == ["failed", "failed"]
    assert len(audit(store, "notify.failed")) == 2
    with store.session() as s:
        row = s.get(ApprovalRow, rid)
        assert row is not None and row.slack_ts is None  # so a later call posts it


def test_demo_slack_shows_a_campaign_conversation_with_a_click() -> None:
    """The pieces `patchwave demo --slack` uses: the server, the settings it applies, the app and
    a press as an approver, and the transcript printed at the end."""
    import io
    import os

    from rich.console import Console

    from patchwave.slackapp.demo import format_transcript, print_transcript, start_demo_slack
    from patchwave.store import open_store
    from tests.support.approval_seed import SLACK_IDS, TEAM

    before = os.environ.get("PATCHWAVE_SLACK_TOKEN_REF")
    demo = start_demo_slack(with_app=True)
    try:
        assert os.environ["PATCHWAVE_SLACK_BASE_URL"] == demo.server.url
        store = open_store()
        seed_people(store)
        run_id = seed_run(store)
        seed_jobs(store, run_id, JOBS[:2])
        rid = seed_request(store, run_id, min_approvers=2, groups=("msp-leads",))
        slack_notify.notify_client_notice(store, run_id, "pilot")
        slack_notify.notify_approval_requested(store, run_id, [rid])
        [message] = demo.approval_messages()
        assert demo.press(message, user_id=SLACK_IDS["lena"], team_id=TEAM) == 200
        assert demo.press(message, user_id=SLACK_IDS["leo"], team_id=TEAM) == 200
        slack_notify.notify_wave_progress(store, run_id, "pilot", 0)
        slack_notify.notify_wave_progress(store, run_id, "pilot", 0)
        store.dispose()
        text = format_transcript(demo.server)
        console = Console(file=io.StringIO(), width=200)
        print_transcript(demo.server, console)
    finally:
        demo.stop()
    assert os.environ.get("PATCHWAVE_SLACK_TOKEN_REF") == before
    assert console.file.getvalue().strip() == text.strip()  # type: ignore[attr-defined]
    calls, channels = text.split("Channels now:")
    order = [line.split()[1] for line in calls.splitlines() if line.startswith("#")]
    assert order == [
        "chat.postMessage",  # client notice
        "chat.postMessage",  # approval request
        "response_url",  # lena: recorded, 1 of 2
        "chat.postMessage",  # "1 of 2 approvals" in the request's thread
        "response_url",  # leo: recorded
        "chat.update",  # the request message replaced by the decision
        "chat.postMessage",  # wave progress
        "chat.update",  # edited in place
    ]
    assert "↳" in channels and "(edited 1x)" in channels
    assert "approved by lena and leo via Slack" in channels
    assert "to ULENA0001: Recorded" in channels


def test_an_expired_request_loses_its_buttons(
    store: Store, run: str, slack: SlackTestServer, settings: Settings
) -> None:
    from patchwave.campaign.approvals import expire_due
    from patchwave.store.tables import ApprovalRow

    rid = seed_request(store, run)
    [posted] = slack_notify.notify_approval_requested(store, run, [rid], settings=settings)
    with store.session() as s:
        row = s.get(ApprovalRow, rid)
        assert row is not None
        assert expire_due(s, run_id=run, now=row.expires_at) == [rid]
    reset_notifiers()
    [update] = slack_notify.notify_approval_decided(store, rid, settings=settings)
    assert update.method == "chat.update" and update.ts == posted.ts
    [message] = slack.messages("#acme-ops")
    assert "approval expired, nobody decided in time" in message.text
    assert approval_buttons(message) == {}
    assert slack_notify.notify_approval_decided(store, rid, settings=settings) == []  # once
