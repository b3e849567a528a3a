"""The Slack approval app for real: signed block_actions payloads POSTed over HTTP to the bolt app
served by uvicorn on loopback; slack-sdk pointed at the Slack-shaped server, which records the
ephemeral replies and the edits of the request message. Store on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from patchwave.devtools.slack_clicks import (
    approval_buttons,
    block_actions_payload,
    post,
    sign,
    signed_request,
)
from patchwave.devtools.slack_server import DEFAULT_TOKEN, SlackTestServer, StoredMessage
from patchwave.notify.campaign import notify_approval_requested, reset_notifiers
from patchwave.notify.messages import approval_button_value
from patchwave.settings import Settings
from patchwave.slackapp import ApprovalApp, HttpServer, ReplayCache, parse_click
from patchwave.slackapp.server import socket_mode_handler
from patchwave.store import Store
from patchwave.store.tables import ApprovalDecisionRow, ApprovalRow, AuditEventRow
from tests.support.approval_seed import (
    OTHER_TEAM,
    SLACK_IDS,
    TEAM,
    seed_people,
    seed_request,
    seed_run,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


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
    )
    reset_notifiers()


@dataclass
class Harness:
    store: Store
    slack: SlackTestServer
    settings: Settings
    app: ApprovalApp
    http: HttpServer
    run_id: str
    resumed: list[dict[str, Any]]

    def request(self, **options: Any) -> tuple[str, StoredMessage]:
        """An approval request, posted to Slack through the campaign notifier."""
        rid = seed_request(self.store, self.run_id, **options)
        results = notify_approval_requested(self.store, self.run_id, [rid], settings=self.settings)
        assert [r.ok for r in results] == [True], results
        ts = results[0].ts
        message = next(m for m in self.slack.messages(results[0].channel) if m.ts == ts)
        return rid, message

    def press(
        self,
        message: StoredMessage,
        who: str,
        *,
        action: str = "approve",
        team: str = TEAM,
        value: str | None = None,
        with_response_url: bool = True,
        **signing: Any,
    ) -> tuple[int, float, dict[str, Any]]:
        user = SLACK_IDS.get(who, who)
        hook = self.slack.response_url(user=user, channel=message.channel)
        payload = block_actions_payload(
            user_id=user,
            team_id=team,
            value=value or approval_buttons(message)[action],
            action_id=action,
            channel_id=message.channel,
            message_ts=message.ts,
            response_url=hook if with_response_url else None,
        )
        status, _, seconds = post(self.http.url, signed_request(payload, secret=SECRET, **signing))
        assert self.app.wait_idle(timeout=30)
        return status, seconds, payload

    def decisions(self, rid: str) -> list[tuple[str, str, str]]:
        with self.store.session() as s:
            rows = s.scalars(
                select(ApprovalDecisionRow).where(ApprovalDecisionRow.approval_id == rid)
            )
            return [(r.approver, r.decision, r.channel) for r in rows]

    def status(self, rid: str) -> str:
        with self.store.session() as s:
            row = s.get(ApprovalRow, rid)
            assert row is not None
            return row.status

    def audit(self, action: str) -> list[AuditEventRow]:
        with self.store.session() as s:
            return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))

    def replies(self, who: str) -> list[str]:
        return [e.text for e in self.slack.ephemerals(SLACK_IDS.get(who, who))]


@pytest.fixture
def harness(store: Store, slack: SlackTestServer, settings: Settings) -> Iterator[Harness]:
    seed_people(store)
    run_id = seed_run(store)
    resumed: list[dict[str, Any]] = []

    def resume(flow_run_id: str | None, **decision: Any) -> tuple[str, str]:
        # The real Prefect resume is exercised in tests/flows/test_slack_approval_flow.py.
        resumed.append({"flow_run_id": flow_run_id, **decision})
        return "resumed", "recorded by the test"

    app = ApprovalApp(
        store=store,
        bot_token=DEFAULT_TOKEN,
        signing_secret=SECRET,
        settings=settings,
        base_url=slack.url,
        resume=resume,
    )
    with HttpServer(app) as http:
        yield Harness(store, slack, settings, app, http, run_id, resumed)


def test_a_valid_click_is_acknowledged_recorded_shown_and_resumes_the_flow(
    harness: Harness,
) -> None:
    rid, message = harness.request()
    with harness.store.session() as s:
        row = s.get(ApprovalRow, rid)
        assert row is not None
        row.flow_run_id = "3f1c9a0e-0000-4000-8000-000000000001"

    status, seconds, _ = harness.press(message, "ann")

    assert status == 200
    assert seconds < 3.0  # Slack's deadline for the ack
    assert harness.decisions(rid) == [("ann", "approve", "slack")]
    assert harness.status(rid) == "approved"
    [event] = harness.audit("approval.decision")
    assert event.actor == "ann"
    assert json.loads(event.details)["channel"] == "slack"
    assert harness.replies("ann") == [
        f"Recorded: you approved ring *pilot* of run `{harness.run_id}`. The campaign continues."
    ]
    [updated] = [m for m in harness.slack.messages("#acme-ops") if m.ts == message.ts]
    assert updated.edits == 1
    assert approval_buttons(updated) == {}  # final: the buttons are gone
    assert "approved by ann via Slack" in updated.text
    assert harness.resumed == [
        {
            "flow_run_id": "3f1c9a0e-0000-4000-8000-000000000001",
            "approver": "ann",
            "approve": True,
            "comment": "",
            "request_id": rid,
        }
    ]


def test_reject_is_final_and_says_so(harness: Harness) -> None:
    rid, message = harness.request()
    harness.press(message, "lena", action="reject")
    assert harness.status(rid) == "rejected"
    [updated] = [m for m in harness.slack.messages("#acme-ops") if m.ts == message.ts]
    assert "rejected by lena via Slack" in updated.text
    assert approval_buttons(updated) == {}
    assert [r["approve"] for r in harness.resumed] == [False]


def test_a_forged_signature_is_refused_with_401(harness: Harness) -> None:
    rid, message = harness.request()
    payload = block_actions_payload(
        user_id=SLACK_IDS["ann"], team_id=TEAM, value=approval_buttons(message)["approve"]
    )
    forged = sign("not-the-signing-secret", "payload=...", int(time.time()))
    status, _, _ = post(harness.http.url, signed_request(payload, secret=SECRET, signature=forged))
    assert status == 401
    assert harness.app.wait_idle()
    assert harness.decisions(rid) == []
    assert harness.audit("approval.refused") == []
    assert harness.slack.calls_for("response_url") == []


def test_a_body_changed_after_signing_is_refused(harness: Harness) -> None:
    rid, message = harness.request()
    payload = block_actions_payload(
        user_id=SLACK_IDS["gus"], team_id=TEAM, value=approval_buttons(message)["approve"]
    )
    genuine = signed_request(payload, secret=SECRET)
    tampered = genuine.body.replace(SLACK_IDS["gus"], SLACK_IDS["lena"])
    status, _, _ = post(harness.http.url, type(genuine)(tampered, genuine.headers))
    assert status == 401
    assert harness.decisions(rid) == []


def test_a_stale_timestamp_is_refused_even_when_correctly_signed(harness: Harness) -> None:
    rid, message = harness.request()
    payload = block_actions_payload(
        user_id=SLACK_IDS["ann"], team_id=TEAM, value=approval_buttons(message)["approve"]
    )
    six_minutes_ago = int(time.time()) - 6 * 60
    status, _, _ = post(
        harness.http.url, signed_request(payload, secret=SECRET, timestamp=six_minutes_ago)
    )
    assert status == 401
    assert harness.decisions(rid) == []
    # Four minutes old is inside Slack's 5-minute window.
    status, _, _ = post(
        harness.http.url,
        signed_request(payload, secret=SECRET, timestamp=int(time.time()) - 4 * 60),
    )
    assert harness.app.wait_idle()
    assert status == 200
    assert harness.decisions(rid) == [("ann", "approve", "slack")]


def test_a_replayed_request_is_acknowledged_and_ignored(harness: Harness) -> None:
    rid, message = harness.request(min_approvers=2, groups=("msp-leads",))
    payload = block_actions_payload(
        user_id=SLACK_IDS["lena"],
        team_id=TEAM,
        value=approval_buttons(message)["approve"],
        channel_id=message.channel,
        message_ts=message.ts,
        response_url=harness.slack.response_url(user=SLACK_IDS["lena"], channel=message.channel),
    )
    request = signed_request(payload, secret=SECRET)
    first, _, _ = post(harness.http.url, request)
    assert harness.app.wait_idle()
    calls_after_first = len(harness.slack.calls)

    again, _, _ = post(harness.http.url, request)
    assert harness.app.wait_idle()

    assert (first, again) == (200, 200)
    assert harness.app.stats["replays"] == 1
    assert harness.decisions(rid) == [("lena", "approve", "slack")]
    assert len(harness.audit("approval.decision")) == 1
    assert harness.audit("approval.refused") == []
    assert len(harness.slack.calls) == calls_after_first  # no second reply, no second edit


def test_the_same_press_resigned_is_still_one_click(harness: Harness) -> None:
    """A press delivered twice with different envelopes (Socket Mode redelivery) is caught by
    its action key."""
    rid, message = harness.request(min_approvers=2, groups=("msp-leads",))
    _, _, payload = harness.press(message, "lena")
    status, _, _ = post(
        harness.http.url,
        signed_request(payload, secret=SECRET, timestamp=int(time.time()) - 1),
    )
    assert harness.app.wait_idle()
    assert status == 200
    assert harness.app.stats["replays"] == 1
    assert harness.decisions(rid) == [("lena", "approve", "slack")]
    assert harness.audit("approval.refused") == []


@pytest.mark.parametrize(
    ("who", "team", "actor", "reason"),
    [
        (
            "UNOBODY01",
            TEAM,
            f"slack:{TEAM}/UNOBODY01",
            "you are not a known, active approver; ask an MSP lead to add you",
        ),
        # Ann's user id, but from another workspace (a shared channel): not Ann.
        (
            "ann",
            OTHER_TEAM,
            f"slack:{OTHER_TEAM}/{SLACK_IDS['ann']}",
            "you are not a known, active approver; ask an MSP lead to add you",
        ),
        ("gus", TEAM, "gus", "you may approve for your own company only, not acme"),
        ("rita", TEAM, "rita", "you requested this change; someone else must approve it"),
    ],
    ids=["unknown-user", "other-workspace", "wrong-tenant-admin", "requester"],
)
def test_refused_clickers_get_an_ephemeral_reason_and_an_audit_event(
    harness: Harness, who: str, team: str, actor: str, reason: str
) -> None:
    rid, message = harness.request()
    status, _, _ = harness.press(message, who, team=team)
    assert status == 200  # acknowledged; the refusal is explained, not an HTTP error
    assert harness.decisions(rid) == []
    assert harness.status(rid) == "pending"
    assert harness.replies(who) == [f"Not recorded: {reason}."]
    [event] = harness.audit("approval.refused")
    assert event.actor == actor
    assert json.loads(event.details) == {
        "channel": "slack",
        "decision": "approve",
        "reason": reason,
    }
    [unchanged] = [m for m in harness.slack.messages("#acme-ops") if m.ts == message.ts]
    assert unchanged.edits == 0 and approval_buttons(unchanged)
    assert harness.resumed == []


def test_without_a_response_url_the_reply_goes_by_chat_post_ephemeral(harness: Harness) -> None:
    rid, message = harness.request()
    harness.press(message, "gus", with_response_url=False)
    [reply] = harness.slack.ephemerals(SLACK_IDS["gus"])
    assert (reply.via, reply.channel) == ("chat.postEphemeral", message.channel)
    assert reply.text == "Not recorded: you may approve for your own company only, not acme."
    assert harness.decisions(rid) == []


def test_an_expired_request_is_refused(harness: Harness) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    rid, message = harness.request(now=past, expires_in=timedelta(hours=1))
    harness.press(message, "lena")
    assert harness.decisions(rid) == []
    assert harness.status(rid) == "expired"
    [reply] = harness.replies("lena")
    assert reply.startswith("Not recorded: this request is already expired")
    assert len(harness.audit("approval.refused")) == 1


def test_a_click_on_a_changed_plan_is_refused(harness: Harness) -> None:
    rid, message = harness.request()
    stale = approval_button_value(rid, "b" * 64)  # the button of an older plan's message
    harness.press(message, "lena", value=stale)
    assert harness.decisions(rid) == []
    assert harness.replies("lena") == [
        "Not recorded: the plan changed since this request was made; approve the new request."
    ]
    assert len(harness.audit("approval.refused")) == 1


def test_two_approvers_needed_a_second_click_by_the_same_person_is_refused(
    harness: Harness,
) -> None:
    rid, message = harness.request(min_approvers=2, groups=("msp-leads",), critical=True)

    harness.press(message, "lena")
    assert harness.status(rid) == "pending"
    [reply] = harness.slack.thread(message.channel, message.ts)
    assert "1 of 2 approvals" in " ".join(json.dumps(b) for b in reply.blocks)
    assert harness.resumed == []  # nothing to wake the flow for yet

    harness.press(message, "lena")  # again: a new press, new signature
    assert harness.replies("lena")[-1] == (
        "Not recorded: you already decided this request; a different approver is needed."
    )
    assert harness.status(rid) == "pending"

    harness.press(message, "leo")
    assert harness.status(rid) == "approved"
    assert harness.decisions(rid) == [
        ("lena", "approve", "slack"),
        ("leo", "approve", "slack"),
    ]
    [final] = [m for m in harness.slack.messages(message.channel) if m.ts == message.ts]
    assert "approved by lena and leo via Slack" in final.text
    assert approval_buttons(final) == {}
    assert [r["approver"] for r in harness.resumed] == ["leo"]


def test_concurrent_presses_by_two_people_are_both_recorded(harness: Harness) -> None:
    rid, message = harness.request(min_approvers=2, groups=("msp-leads",))
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda w=who: statuses.append(harness.press(message, w)[0]))
        for who in ("lena", "leo")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    assert sorted(d[0] for d in harness.decisions(rid)) == ["lena", "leo"]
    assert harness.status(rid) == "approved"


def test_socket_mode_delivers_a_click_and_a_redelivery_is_ignored(
    store: Store, slack: SlackTestServer, settings: Settings
) -> None:
    """Socket Mode end to end: apps.connections.open on the Slack-shaped server hands out the
    URL of a real WebSocket server on loopback, which sends the click twice (Slack redelivers
    when an ack is late) and collects the acks."""
    from websockets.sync.server import ServerConnection, serve

    seed_people(store)
    run_id = seed_run(store)
    rid = seed_request(store, run_id)
    [posted] = notify_approval_requested(store, run_id, [rid], settings=settings)
    [message] = [m for m in slack.messages(posted.channel) if m.ts == posted.ts]
    payload = block_actions_payload(
        user_id=SLACK_IDS["ann"],
        team_id=TEAM,
        value=approval_buttons(message)["approve"],
        channel_id=message.channel,
        message_ts=message.ts,
        response_url=slack.response_url(user=SLACK_IDS["ann"], channel=message.channel),
    )
    acks: list[dict[str, Any]] = []
    delivered = threading.Event()

    def socket(ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        for n in (1, 2):
            envelope = {
                "envelope_id": f"env-{n}",
                "type": "interactive",
                "accepts_response_payload": False,
                "payload": payload,
                "retry_attempt": n - 1,
                "retry_reason": "timeout" if n > 1 else "",
            }
            ws.send(json.dumps(envelope))
            acks.append(json.loads(ws.recv(timeout=10)))
        delivered.set()
        try:
            ws.recv(timeout=10)  # stay open until the app disconnects
        except Exception:  # noqa: BLE001 - any close ends the test connection
            return

    slack.tokens.add("xapp-1-test")
    with serve(socket, "127.0.0.1", 0) as ws_server:
        threading.Thread(target=ws_server.serve_forever, daemon=True).start()
        port = ws_server.socket.getsockname()[1]
        slack.socket_mode_url = f"ws://127.0.0.1:{port}/link"
        app = ApprovalApp(
            store=store,
            bot_token=DEFAULT_TOKEN,
            signing_secret=None,
            settings=settings,
            base_url=slack.url,
            socket_mode=True,
            resume=lambda flow_run_id, **_: ("unavailable", "no flow"),
        )
        handler = socket_mode_handler(app, "xapp-1-test")
        handler.connect()
        try:
            assert delivered.wait(timeout=20)
            assert app.wait_idle(timeout=20)
        finally:
            handler.close()
            ws_server.shutdown()

    assert [a["envelope_id"] for a in acks] == ["env-1", "env-2"]
    assert app.stats["accepted"] == 1 and app.stats["replays"] == 1
    with store.session() as s:
        decisions = list(s.scalars(select(ApprovalDecisionRow.approver)))
        row = s.get(ApprovalRow, rid)
        assert row is not None
        assert (decisions, row.status) == (["ann"], "approved")
    assert [e.text.split(":")[0] for e in slack.ephemerals(SLACK_IDS["ann"])] == ["Recorded"]


def test_parse_click_reads_slack_payloads() -> None:
    payload = block_actions_payload(
        user_id="U1", team_id="T1", value='{"request_id":"r","plan_hash":"p"}', action_id="reject"
    )
    click = parse_click(payload)
    assert (click.user_id, click.team_id, click.approve, click.label) == (
        "U1",
        "T1",
        False,
        "slack:T1/U1",
    )
    with pytest.raises(ValueError, match="no patchwave"):
        parse_click({**payload, "actions": [{"action_id": "other", "value": "x"}]})
    with pytest.raises(ValueError, match="block_actions"):
        parse_click({**payload, "type": "view_submission"})


def test_http_mode_without_a_signing_secret_does_not_start(
    store: Store, slack: SlackTestServer, settings: Settings
) -> None:
    from patchwave.notify.token import SlackConfigError

    with pytest.raises(SlackConfigError, match="signing secret"):
        ApprovalApp(
            store=store,
            bot_token=DEFAULT_TOKEN,
            signing_secret="",
            settings=settings,
            base_url=slack.url,
        )
    with pytest.raises(SlackConfigError, match="refused the bot token"):
        ApprovalApp(
            store=store,
            bot_token="xoxb-wrong",
            signing_secret=SECRET,
            settings=settings,
            base_url=slack.url,
        )


def test_replay_cache_forgets_after_its_ttl_and_stays_bounded() -> None:
    now = [0.0]
    cache = ReplayCache(ttl=360.0, max_entries=3, clock=lambda: now[0])
    assert not cache.seen("a")
    assert cache.seen("a")
    now[0] = 359.0
    assert cache.seen("a")
    now[0] = 361.0
    assert not cache.seen("a")  # forgotten: the signature check refuses so old a request anyway
    for key in "bcde":
        cache.seen(key)
    assert len(cache) == 3
    assert not cache.seen("a")  # evicted first when full


def test_cli_says_what_to_set_when_slack_is_not_configured() -> None:
    from typer.testing import CliRunner

    import patchwave.cli.slack  # noqa: F401 - registers `slack` on the app
    from patchwave.cli.common import app

    result = CliRunner().invoke(app, ["slack", "serve", "--port", "3999"])
    assert result.exit_code == 2
    assert "PATCHWAVE_SLACK_TOKEN_REF" in result.output


def test_cli_serve_answers_a_signed_click(
    store: Store, store_url: str, slack: SlackTestServer, tmp_path: Any
) -> None:
    """`patchwave slack serve` as a real process: HTTP mode, secrets from references."""
    import os
    import socket
    import subprocess
    import sys

    seed_people(store)
    run_id = seed_run(store)
    rid = seed_request(store, run_id)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PATCHWAVE_DATABASE_URL": store_url,
        "PATCHWAVE_SLACK_TOKEN_REF": "env:SLACK_BOT_TOKEN",
        "PATCHWAVE_SLACK_SIGNING_SECRET_REF": "env:SLACK_SIGNING_SECRET",
        "PATCHWAVE_SLACK_BASE_URL": slack.url,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
    }
    code = "import patchwave.cli.slack; from patchwave.cli.common import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "slack", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, "patchwave slack serve did not listen"
                time.sleep(0.2)
        payload = block_actions_payload(
            user_id=SLACK_IDS["ann"],
            team_id=TEAM,
            value=approval_button_value(rid, "a" * 64),
            response_url=slack.response_url(user=SLACK_IDS["ann"], channel="#acme-ops"),
        )
        status, _, _ = post(url, signed_request(payload, secret=SECRET))
        assert status == 200
        forged, _, _ = post(url, signed_request(payload, secret="wrong"))
        assert forged == 401
        while not slack.ephemerals(SLACK_IDS["ann"]) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "Slack app listening on http://127.0.0.1" in output
    with store.session() as s:
        row = s.get(ApprovalRow, rid)
        assert row is not None and row.status == "approved"
    assert [e.text.split(":")[0] for e in slack.ephemerals(SLACK_IDS["ann"])] == ["Recorded"]
