"""The Slack app (slack-bolt) behind the Approve / Reject buttons.

Request path, HTTP mode: bolt's RequestVerification checks the v0 HMAC-SHA256 signature of
``v0:{timestamp}:{body}`` and refuses (401) anything signed more than 5 minutes ago; then our
middleware drops a request whose signature and timestamp were already seen (a replay: answered 200
and ignored). In Socket Mode there is no signature (the WebSocket is authenticated by the
app-level token) and the same press delivered twice is caught by its action key instead.

A click is acknowledged at once (Slack shows an error after 3 s) and handled on bolt's listener
thread after the ack: recorded through ``decide()`` (``authorize()`` + audit), explained to the
clicker with an ephemeral reply, the request message updated (decision, who, when, via Slack; no
more buttons once final, "1 of 2" in its thread otherwise), and the paused campaign flow resumed.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from patchwave.campaign.prefect_resume import resume_paused_run
from patchwave.notify.campaign import notify_approval_decided
from patchwave.notify.messages import APPROVE_ACTION_ID, REJECT_ACTION_ID
from patchwave.notify.token import SlackConfigError
from patchwave.settings import Settings
from patchwave.slackapp.clicks import (
    APPROVAL_BLOCK_ID,
    Click,
    ClickOutcome,
    parse_click,
    record_click,
)
from patchwave.slackapp.replay import ReplayCache
from patchwave.store import Store

log = logging.getLogger("patchwave.slackapp")

Resume = Callable[..., tuple[str, str]]


def _quiet_client_warning(record: logging.LogRecord) -> bool:
    # bolt warns that SLACK_BOT_TOKEN (often set, for env:SLACK_BOT_TOKEN) is unused when given a
    # client; we pass the client on purpose (it carries the base URL).
    return not str(record.msg).startswith("As you gave `client` as well")


def _first(value: Any) -> str:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value or "")


class ApprovalApp:
    """The bolt App with patchwave's approval handlers.

    Args:
        store: where requests, decisions and the audit log live.
        bot_token: the xoxb- token (auth.test is called once at start-up).
        signing_secret: required in HTTP mode; unused in Socket Mode.
        settings: Slack settings for the message updates (notify_approval_decided).
        base_url: Slack Web API URL (tests: the loopback server).
        socket_mode: no HTTP signature check (Socket Mode requests are not signed).
        clock: the time decisions are recorded at (expiry is checked against it).
        resume: how a paused flow run is resumed (default: Prefect's resume_flow_run).
        replays: the replay cache (default: 6 minutes in memory).
        workers: clicks handled at once.
    """

    def __init__(
        self,
        *,
        store: Store,
        bot_token: str,
        signing_secret: str | None,
        settings: Settings,
        base_url: str = "https://slack.com/api/",
        socket_mode: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        resume: Resume = resume_paused_run,
        replays: ReplayCache | None = None,
        workers: int = 4,
    ) -> None:
        if not socket_mode and not signing_secret:
            raise SlackConfigError(
                "HTTP mode needs the Slack app's signing secret: set "
                "PATCHWAVE_SLACK_SIGNING_SECRET_REF (e.g. env:SLACK_SIGNING_SECRET), or use "
                "--socket-mode with an app-level token"
            )
        self.store, self.settings = store, settings
        self._clock, self._resume = clock, resume
        self.replays = replays or ReplayCache()
        self.stats: Counter[str] = Counter()
        self._busy = 0
        self._idle = threading.Condition()
        self.client = WebClient(token=bot_token, base_url=base_url, timeout=10)
        bolt_log = logging.getLogger("patchwave.slackapp.bolt")
        bolt_log.addFilter(_quiet_client_warning)
        try:
            self.bolt = App(
                name="patchwave",
                client=self.client,
                signing_secret=signing_secret or "",
                # Socket Mode requests skip the check anyway; HTTP mode always has it.
                request_verification_enabled=not socket_mode,
                listener_executor=ThreadPoolExecutor(workers, thread_name_prefix="slack-click"),
                logger=bolt_log,
            )
        except BoltError as exc:
            raise SlackConfigError(
                f"Slack refused the bot token at start-up ({exc}); check PATCHWAVE_SLACK_TOKEN_REF"
            ) from exc
        except SlackApiError as exc:
            raise SlackConfigError(f"Slack auth.test failed: {exc.response.get('error')}") from exc
        except OSError as exc:  # urllib's URLError: Slack (or the base URL) is unreachable
            raise SlackConfigError(
                f"cannot reach Slack at {base_url} ({exc}); check PATCHWAVE_SLACK_BASE_URL and "
                "the network"
            ) from exc
        self.bolt.use(self._drop_replayed_requests)
        for action_id in (APPROVE_ACTION_ID, REJECT_ACTION_ID):
            self.bolt.action({"block_id": APPROVAL_BLOCK_ID, "action_id": action_id})(
                self._on_click
            )

    def dispatch(self, request: BoltRequest) -> BoltResponse:
        return self.bolt.dispatch(request)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every acknowledged click has been handled (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def _drop_replayed_requests(
        self, req: BoltRequest, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # Runs after the signature check, so only genuine (signed, fresh) requests are cached:
        # a forged request cannot poison the cache and block the real click.
        if req.mode == "http":
            signature = _first(req.headers.get("x-slack-signature"))
            timestamp = _first(req.headers.get("x-slack-request-timestamp"))
            if self.replays.seen(("signature", signature, timestamp)):
                self.stats["replays"] += 1
                log.warning("replayed Slack request ignored (timestamp %s)", timestamp)
                return BoltResponse(status=200, body="")
        return next()

    def _on_click(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        with self._idle:
            self._busy += 1
        try:
            ack()  # first: Slack shows the clicker an error after 3 s
            self._handle(body, respond)
        except Exception:  # a bug here must not kill the listener thread silently
            log.exception("handling a Slack click failed")
            self.stats["errors"] += 1
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _handle(self, body: dict[str, Any], respond: Respond) -> None:
        try:
            click = parse_click(body)
        except ValueError as exc:
            log.warning("ignored Slack action: %s", exc)
            return
        if self.replays.seen(click.replay_key):
            self.stats["replays"] += 1
            log.warning("the same click by %s arrived twice; ignored", click.label)
            return
        outcome = record_click(self.store, click, now=self._clock())
        self.stats["accepted" if outcome.accepted else "refused"] += 1
        log.info(
            "slack click %s by %s on %s: %s",
            click.action_id,
            outcome.approver,
            outcome.request_id,
            outcome.explanation,
        )
        self._tell(click, outcome.explanation, respond)
        if not outcome.accepted or outcome.request_id is None:
            return
        notify_approval_decided(self.store, outcome.request_id, settings=self.settings)
        if outcome.final:
            self._wake(click, outcome)

    def _wake(self, click: Click, outcome: ClickOutcome) -> None:
        state, detail = self._resume(
            outcome.flow_run_id,
            approver=outcome.approver,
            approve=click.approve,
            comment="",
            request_id=outcome.request_id,
        )
        self.stats[f"resume_{state}"] += 1
        log.info("flow run %s: %s (%s)", outcome.flow_run_id, state, detail)

    def _tell(self, click: Click, text: str, respond: Respond) -> None:
        """An ephemeral reply to the clicker only: through the response_url when Slack gave one,
        else chat.postEphemeral."""
        try:
            if click.response_url:
                respond(text=text, response_type="ephemeral", replace_original=False)
            elif click.channel_id:
                self.client.chat_postEphemeral(
                    channel=click.channel_id, user=click.user_id, text=text
                )
        except Exception as exc:  # noqa: BLE001 - the decision stands; only the reply is lost
            log.warning("could not reply to %s: %s: %s", click.label, type(exc).__name__, exc)
