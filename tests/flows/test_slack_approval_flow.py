"""A click in Slack resumes a really paused flow: a minimal campaign-like flow creates an approval
request, posts it to the Slack-shaped server and waits in ``flows.approval_gate.
wait_for_approvals`` (a Prefect pause with the approval form, the same code the campaign uses).
A signed click POSTed to the bolt app records the decision, and the app resumes the flow run
through Prefect's API; the flow then goes on and completes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from prefect import flow, task
from sqlalchemy import select

from flows.approval_gate import wait_for_approvals
from patchwave.campaign.approvals import create_request
from patchwave.devtools.slack_clicks import (
    approval_buttons,
    block_actions_payload,
    post,
    signed_request,
)
from patchwave.devtools.slack_server import DEFAULT_TOKEN, SlackTestServer, StoredMessage
from patchwave.notify.campaign import notify_approval_requested, reset_notifiers
from patchwave.settings import get_settings
from patchwave.slackapp import ApprovalApp, HttpServer
from patchwave.store import Store, open_store
from patchwave.store.tables import ApprovalDecisionRow, ApprovalRow
from tests.support.approval_seed import SLACK_IDS, TEAM, seed_people, seed_run

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

SECRET = "flow-test-signing-secret"


@task
def deploy_ring(ring: str) -> str:
    return f"deployed {ring}"


@flow(name="slack-gated-ring", persist_result=False)
def gated_ring(store_url: str, run_id: str, ring: str, min_approvers: int) -> dict[str, Any]:
    """Ask for approval of one ring in Slack, wait for it, deploy only if approved."""
    store = open_store(store_url)
    now = datetime.now(UTC)
    with store.session() as session:
        request = create_request(
            session,
            run_id=run_id,
            ring=ring,
            plan_hash="c" * 64,
            tenants=["acme"],
            approver_groups=["msp-leads", "tenant-admins"],
            min_approvers=min_approvers,
            critical=min_approvers > 1,
            requested_by="rita",
            requested_at=now,
            expires_at=now + timedelta(hours=4),
            summary={"hosts": 3},
        )
    notify_approval_requested(store, run_id, [request.id])
    statuses = wait_for_approvals(
        store,
        run_id=run_id,
        request_ids=[request.id],
        now=lambda: datetime.now(UTC),
        poll_seconds=1,
        pause_chunk_seconds=90,
    )
    status = statuses[request.id].value
    deployed = deploy_ring(ring) if status == "approved" else None
    return {"request_id": request.id, "status": status, "deployed": deployed}


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackTestServer]:
    with SlackTestServer(enforce_retry_after=False) as server:
        monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
        monkeypatch.setenv("PATCHWAVE_SLACK_TOKEN_REF", "env:SLACK_BOT_TOKEN")
        monkeypatch.setenv("PATCHWAVE_SLACK_BASE_URL", server.url)
        monkeypatch.setenv("PATCHWAVE_SLACK_RATE_PER_CHANNEL", "1000")
        get_settings.cache_clear()
        reset_notifiers()
        yield server
        reset_notifiers()


def _paused(flow_run_id: str) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return state is not None and state.is_paused()


class Clicker(threading.Thread):
    """Waits for the request message and the paused flow run, then presses buttons in order."""

    def __init__(self, store: Store, slack: SlackTestServer, url: str, who: list[str]) -> None:
        super().__init__(daemon=True)
        self.store, self.slack, self.url, self.who = store, slack, url, who
        self.statuses: list[int] = []
        self.pressed_at: float | None = None
        self.error: BaseException | None = None

    def _message(self) -> StoredMessage | None:
        for message in self.slack.messages("#acme-ops"):
            if approval_buttons(message):
                return message
        return None

    def _wait_paused(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            with self.store.session() as s:
                run_ids = [r for r in s.scalars(select(ApprovalRow.flow_run_id)) if r]
            if run_ids and _paused(run_ids[0]):
                return
            time.sleep(0.2)
        raise TimeoutError("the flow never paused for approval")

    def run(self) -> None:
        try:
            deadline = time.monotonic() + 120
            self._wait_paused(deadline)
            message = self._message()
            assert message is not None, "no approval request was posted"
            for who in self.who:
                payload = block_actions_payload(
                    user_id=SLACK_IDS[who],
                    team_id=TEAM,
                    value=approval_buttons(message)["approve"],
                    channel_id=message.channel,
                    message_ts=message.ts,
                    response_url=self.slack.response_url(
                        user=SLACK_IDS[who], channel=message.channel
                    ),
                )
                self.pressed_at = time.monotonic()
                status, _, _ = post(self.url, signed_request(payload, secret=SECRET))
                self.statuses.append(status)
                time.sleep(1.5)  # let the flow poll once in between
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            self.error = exc


@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize(
    ("approvers", "needed"), [(["ann"], 1), (["lena", "leo"], 2)], ids=["one", "two"]
)
def test_a_slack_click_resumes_the_paused_flow_which_completes(
    store: Store,
    store_url: str,
    slack: SlackTestServer,
    approvers: list[str],
    needed: int,
) -> None:
    seed_people(store)
    run_id = seed_run(store)
    app = ApprovalApp(
        store=store,
        bot_token=DEFAULT_TOKEN,
        signing_secret=SECRET,
        settings=get_settings(),
        base_url=slack.url,
    )
    with HttpServer(app) as http:
        clicker = Clicker(store, slack, http.url, approvers)
        clicker.start()
        result = gated_ring(store_url, run_id, "pilot", needed)
        finished = time.monotonic()
        clicker.join(timeout=30)
        assert app.wait_idle(timeout=30)

    assert clicker.error is None, clicker.error
    assert clicker.statuses == [200] * needed
    assert result["status"] == "approved"
    assert result["deployed"] == "deployed pilot"
    # Woken by the resume, not by the 90 s pause timeout.
    assert clicker.pressed_at is not None and finished - clicker.pressed_at < 30
    assert app.stats["resume_resumed"] == 1  # only the deciding click wakes the flow
    with store.session() as s:
        rows = list(s.scalars(select(ApprovalDecisionRow).order_by(ApprovalDecisionRow.id)))
        request = s.get(ApprovalRow, result["request_id"])
        assert request is not None
        assert request.status == "approved"
    assert [(r.approver, r.channel) for r in rows] == [(w, "slack") for w in approvers]
    [message] = [m for m in slack.messages("#acme-ops") if not m.thread_ts]
    assert approval_buttons(message) == {}
    assert f"approved by {' and '.join(approvers)} via Slack" in message.text


@flow(name="notify-everything", persist_result=False)
def notify_everything(run_id: str, request_id: str, job_ids: list[int]) -> list[dict[str, Any]]:
    """Every notification task once, in campaign order."""
    from tasks import notify

    return [
        notify.send_client_notices(run_id, "pilot"),
        notify.announce_approval_requests(run_id, [request_id]),
        notify.announce_approval_decision(request_id),
        notify.update_wave_progress(run_id, "pilot", 0),
        notify.alert_host_failures(run_id, job_ids),
        notify.announce_gate_halted(run_id, "pilot"),
        notify.announce_completion(run_id, None),
    ]


@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize("slack_up", [True, False], ids=["slack-up", "slack-down"])
def test_notify_tasks_send_what_they_can_and_never_fail_the_flow(
    store: Store,
    store_url: str,
    slack: SlackTestServer,
    monkeypatch: pytest.MonkeyPatch,
    slack_up: bool,
) -> None:
    from tests.support.approval_seed import seed_jobs, seed_request

    seed_people(store)
    run_id = seed_run(store)
    job_ids = seed_jobs(
        store,
        run_id,
        [
            {"tenant": "acme", "host": "acme-web01", "state": "failed", "failed_step": "install"},
            {"tenant": "acme", "host": "acme-db01", "state": "succeeded"},
        ],
    )
    request_id = seed_request(store, run_id)
    monkeypatch.setenv("PATCHWAVE_DATABASE_URL", store_url)
    get_settings.cache_clear()
    if not slack_up:
        slack.stop()

    results = notify_everything(run_id, request_id, job_ids)

    sent = [r["sent"] for r in results]
    failed = [r["failed"] for r in results]
    if slack_up:
        # notice, request, (no decision yet), progress, alert, halt, completion
        assert (sent, failed) == ([1, 1, 0, 1, 1, 1, 1], [0] * 7)
        assert len(slack.calls_for("chat.postMessage")) == 6
    else:
        assert sent == [0] * 7
        assert failed == [1, 1, 0, 1, 1, 1, 1]
        assert all(e.startswith("connection_error") for r in results for e in r["errors"])
