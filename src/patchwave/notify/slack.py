"""The Slack notifier: renders campaign messages and delivers them with slack-sdk.

Why ``AsyncWebClient``: the campaign drives its hosts with asyncio inside one Prefect task per
wave, and a failure alert must go out the moment a host fails without stalling the other hosts'
I/O while we sleep out a ``Retry-After``. Sync callers use :meth:`SlackNotifier.send_sync`.

Delivery never raises: every attempt ends as a :class:`DeliveryResult` in the in-memory outbox
(which the campaign persists), in the log, and in the optional ``on_result`` callback. Retries use
slack-sdk's retry handlers (429 honouring ``Retry-After``, 5xx with exponential back-off,
connection errors), with their sleeps routed through the injectable ``sleep`` and the per-channel
pacer, so a 429 quiets only its own channel.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from patchwave.notify.messages import (
    ApprovalDecided,
    ApprovalRequest,
    CampaignCompleted,
    ClientNotice,
    FailureAlert,
    GateHalted,
    Message,
    MessageRenderer,
    RenderedMessage,
    WaveProgress,
)
from patchwave.notify.ratelimit import ChannelPacer, Clock, Sleep
from patchwave.notify.results import DeliveryResult, MessageRef
from patchwave.notify.retry import CURRENT_ATTEMPT, Attempt, retry_handlers
from patchwave.notify.token import (
    SecretLoader,
    SlackConfigError,
    check_token_ref,
    load_prefect_secret,
    resolve_token,
)

log = logging.getLogger("patchwave.notify.slack")

SLACK_API_URL = "https://slack.com/api/"
# Answers at HTTP 200 that a retry may cure; every other `ok: false` error is permanent
# (invalid_auth, channel_not_found, not_in_channel, invalid_blocks...): retrying only delays.
TRANSIENT_SLACK_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"}
)


class SlackNotifier:
    """Sends patchwave messages to Slack; never raises from a send.

    Args:
        token_ref: ``env:SLACK_BOT_TOKEN`` or ``secret:slack-bot-token`` (resolved on first send).
        default_channel: where messages without a mapped tenant go.
        tenant_channels: tenant slug -> channel name or id.
        base_url: Slack Web API URL (tests point it at the loopback server).
        rate_per_channel: messages per second per channel (chat.update counts).
        max_retries: retries after the first attempt, for 429, 5xx and connection errors.
        max_retry_after: give up (recorded) rather than wait longer than this on one 429.
        backoff: first 5xx/connection back-off in seconds, doubled per retry up to 30 s.
        timeout: seconds per HTTP call.
        clock, sleep: monotonic clock and async sleep for pacing and retries (injectable).
        pacer: share one pacer between notifiers of the same workspace (overrides the rate).
        on_result: called with every DeliveryResult (exceptions in it are logged, not raised).
        renderer: a MessageRenderer (default: templates/slack of the checkout).
        secret_loader: how ``secret:`` references are read (default: Prefect Secret blocks).
        outbox_size: DeliveryResults kept in memory until drained.
        down_cooldown: after a message fails for want of a connection (retries included), fail
            the next ones at once for this many seconds instead of retrying each.
    """

    def __init__(
        self,
        *,
        token_ref: str,
        default_channel: str,
        tenant_channels: Mapping[str, str] | None = None,
        base_url: str = SLACK_API_URL,
        rate_per_channel: float = 1.0,
        max_retries: int = 3,
        max_retry_after: float = 120.0,
        backoff: float = 0.5,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        pacer: ChannelPacer | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
        renderer: MessageRenderer | None = None,
        secret_loader: SecretLoader = load_prefect_secret,
        outbox_size: int = 10_000,
        down_cooldown: float = 30.0,
    ) -> None:
        check_token_ref(token_ref)
        if not default_channel.strip():
            raise SlackConfigError("Slack default channel is empty: name a channel or its id")
        if rate_per_channel <= 0:
            raise SlackConfigError(f"rate_per_channel must be > 0, got {rate_per_channel}")
        self.token_ref = token_ref
        self.default_channel = default_channel
        self.tenant_channels = dict(tenant_channels or {})
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.max_retries, self.max_retry_after = max_retries, max_retry_after
        self._backoff, self._timeout = backoff, timeout
        self._clock, self._sleep = clock, sleep
        self.pacer = pacer or ChannelPacer(rate_per_channel, clock=clock)
        self.on_result = on_result
        self.renderer = renderer or MessageRenderer()
        self._secret_loader = secret_loader
        self._client: AsyncWebClient | None = None
        self._outbox: deque[DeliveryResult] = deque(maxlen=outbox_size)
        self._refs: dict[str, MessageRef] = {}
        self._lock = threading.Lock()
        # asyncio locks belong to one event loop; send_sync may run us on several.
        self._channel_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()
        self._latest_progress: dict[str, WaveProgress] = {}
        self._progress_in_flight: set[str] = set()
        self._down_cooldown = down_cooldown
        self._down_until = float("-inf")

    def __repr__(self) -> str:  # the token is never part of it
        return f"SlackNotifier(token_ref={self.token_ref!r}, base_url={self.base_url!r})"

    def channel_for(self, tenant: str | None) -> str:
        if tenant is None:
            return self.default_channel
        return self.tenant_channels.get(tenant, self.default_channel)

    async def send_client_notice(self, notice: ClientNotice) -> DeliveryResult:
        return await self._post(notice, self.channel_for(notice.tenant))

    async def request_approval(self, request: ApprovalRequest) -> DeliveryResult:
        """Post the request; its ts is kept under ``request.ref_key`` for the decision."""
        return await self._post(request, self.channel_for(request.tenant), key=request.ref_key)

    async def show_wave_progress(self, progress: WaveProgress) -> DeliveryResult:
        """Post the wave's message the first time, edit it in place afterwards. While an edit
        waits for its slot, newer progress replaces it instead of queueing behind it."""
        key = progress.ref_key
        with self._lock:
            self._latest_progress[key] = progress
            folded = key in self._progress_in_flight
            self._progress_in_flight.add(key)
        if folded:
            return self._finish(
                DeliveryResult(
                    kind=progress.kind,
                    ok=True,
                    channel=self.channel_for(progress.tenant),
                    method="chat.update",
                    attempts=0,
                    ref_key=key,
                    coalesced=True,
                )
            )
        try:
            while True:
                with self._lock:
                    latest = self._latest_progress.pop(key)
                result = await self._post_or_update(latest, key)
                with self._lock:
                    if key not in self._latest_progress:
                        self._progress_in_flight.discard(key)
                        return result
        except BaseException:
            with self._lock:
                self._progress_in_flight.discard(key)
            raise

    async def alert_failure(
        self, alert: FailureAlert, *, broadcast: bool = False
    ) -> DeliveryResult:
        """In the thread of the wave's progress message when there is one (``broadcast`` also
        shows it in the channel), else in the tenant's channel."""
        ref = self.message_ref(alert.progress_ref_key)
        if ref is None:
            return await self._post(alert, self.channel_for(alert.tenant))
        return await self._post(alert, ref.channel, thread=ref, broadcast=broadcast)

    async def announce_gate_halted(self, halt: GateHalted) -> DeliveryResult:
        return await self._post(halt, self.channel_for(halt.tenant))

    async def announce_completion(self, summary: CampaignCompleted) -> DeliveryResult:
        return await self._post(summary, self.channel_for(summary.tenant))

    async def record_approval_decision(self, decision: ApprovalDecided) -> DeliveryResult:
        """A final decision replaces the request message (no more buttons); a partial one
        (1 of 2 approvals) goes in its thread; without a known request message, a new post."""
        ref = self.message_ref(decision.request_ref_key)
        if ref is None:
            return await self._post(decision, self.channel_for(decision.tenant))
        if decision.final:
            return await self._post_or_update(decision, decision.request_ref_key)
        return await self._post(decision, ref.channel, thread=ref)

    async def send(self, message: Message) -> DeliveryResult:
        """Dispatch any message to its method above."""
        if isinstance(message, ClientNotice):
            return await self.send_client_notice(message)
        if isinstance(message, ApprovalRequest):
            return await self.request_approval(message)
        if isinstance(message, WaveProgress):
            return await self.show_wave_progress(message)
        if isinstance(message, FailureAlert):
            return await self.alert_failure(message)
        if isinstance(message, GateHalted):
            return await self.announce_gate_halted(message)
        if isinstance(message, CampaignCompleted):
            return await self.announce_completion(message)
        return await self.record_approval_decision(message)

    def send_sync(self, message: Message) -> DeliveryResult:
        """For sync callers (a sync Prefect task, the CLI); inside a running loop it runs on a
        helper thread, so it still blocks its caller but never the loop's other tasks' state."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.send(message))
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.send(message)).result()

    @property
    def outbox(self) -> tuple[DeliveryResult, ...]:
        with self._lock:
            return tuple(self._outbox)

    def drain_outbox(self) -> list[DeliveryResult]:
        """Results recorded since the last drain (the campaign persists them)."""
        with self._lock:
            items = list(self._outbox)
            self._outbox.clear()
            return items

    def message_ref(self, key: str) -> MessageRef | None:
        with self._lock:
            return self._refs.get(key)

    @property
    def message_refs(self) -> dict[str, MessageRef]:
        with self._lock:
            return dict(self._refs)

    def remember(self, key: str, ref: MessageRef) -> None:
        """Restore a stored message reference (a resumed run edits the same progress message)."""
        with self._lock:
            self._refs[key] = ref

    async def _post_or_update(self, message: Message, key: str) -> DeliveryResult:
        ref = self.message_ref(key)
        if ref is None:
            channel = self.channel_for(getattr(message, "tenant", None))
            return await self._post(message, channel, key=key)
        result = await self._post(message, ref.channel, update=ref, key=key)
        if result.error == "message_not_found":
            # Someone deleted it: start a new message rather than lose the update.
            with self._lock:
                self._refs.pop(key, None)
            return await self._post(message, ref.channel, key=key)
        return result

    async def _post(
        self,
        message: Message,
        channel: str,
        *,
        key: str | None = None,
        thread: MessageRef | None = None,
        update: MessageRef | None = None,
        broadcast: bool = False,
    ) -> DeliveryResult:
        method = "chat.update" if update else "chat.postMessage"
        base = DeliveryResult(
            kind=message.kind, ok=False, channel=channel, method=method, attempts=0, ref_key=key
        )
        started = self._clock()
        try:
            rendered = self.renderer.render(message)
        except Exception as exc:  # a template bug must not stop the campaign
            log.exception("slack %s could not be rendered", message.kind)
            return self._finish(replace(base, error=f"render_failed: {exc}", permanent=True))
        try:
            client = await self._get_client()
        except Exception as exc:  # noqa: BLE001 - recorded; the message says which reference
            return self._finish(replace(base, error=f"token_unavailable: {exc}", permanent=True))
        if self._clock() < self._down_until:
            # Slack was unreachable moments ago: record at once rather than hold every alert of
            # a wave for a full round of connection retries.
            return self._finish(replace(base, error="connection_error: Slack unreachable"))
        args = self._args(rendered, channel, thread=thread, update=update, broadcast=broadcast)
        attempt = Attempt(pace_key=self._pace_key(channel))
        token = CURRENT_ATTEMPT.set(attempt)
        try:
            # One call in flight per channel: messages land in the order they were sent, and
            # none is already on the wire when a 429 tells the channel to wait.
            async with self._channel_lock(attempt.pace_key):
                attempt.waited += await self.pacer.wait_turn(attempt.pace_key, self._sleep)
                response = await client.api_call(method, json=args)
        except SlackApiError as exc:
            status = int(exc.response.status_code)
            data = exc.response.data
            # A 5xx from Slack's edge is text, not JSON: name it by its status.
            code = data.get("error") if isinstance(data, dict) else None
            error = str(code or f"http_{status}")
            permanent = status < 500 and status != 429 and error not in TRANSIENT_SLACK_ERRORS
            result = replace(base, error=error, permanent=permanent)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            result = replace(base, error=f"connection_error: {type(exc).__name__}: {exc}")
            self._down_until = self._clock() + self._down_cooldown
        except Exception as exc:  # nothing from Slack may fail the campaign
            log.exception("slack %s: unexpected error", message.kind)
            result = replace(base, error=f"unexpected: {type(exc).__name__}: {exc}")
        else:
            channel_id, ts = str(response["channel"]), str(response["ts"])
            with self._lock:
                if key and not thread:
                    self._refs[key] = MessageRef(channel, channel_id, ts)
            result = replace(
                base,
                ok=True,
                channel_id=channel_id,
                ts=ts,
                thread_ts=thread.ts if thread else None,
            )
        finally:
            CURRENT_ATTEMPT.reset(token)
        result = replace(
            result,
            attempts=attempt.attempts,
            waited=attempt.waited,
            elapsed=self._clock() - started,
            thread_ts=thread.ts if thread else result.thread_ts,
        )
        return self._finish(result)

    def _args(
        self,
        rendered: RenderedMessage,
        channel: str,
        *,
        thread: MessageRef | None,
        update: MessageRef | None,
        broadcast: bool,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"text": rendered.text, "blocks": rendered.blocks}
        if update is not None:
            return {**args, "channel": update.channel_id, "ts": update.ts}
        args["channel"] = thread.channel_id if thread else channel
        # A report link must not grow a preview card under every completion message.
        args["unfurl_links"] = False
        if thread is not None:
            args["thread_ts"] = thread.ts
            if broadcast:
                args["reply_broadcast"] = True
        return args

    def _channel_lock(self, pace_key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._lock:
            return self._channel_locks.setdefault(loop, {}).setdefault(pace_key, asyncio.Lock())

    @staticmethod
    def _pace_key(channel: str) -> str:
        # Paced by the configured name (threads and edits carry it in their MessageRef), so a
        # post and the later chat.update of the same message share one bucket.
        return channel.lstrip("#")

    async def _before_retry(self, delay: float, rate_limited: bool) -> None:
        """Called by the retry handlers before slack-sdk sends the same request again."""
        attempt = CURRENT_ATTEMPT.get()
        if attempt is None:  # a call outside _post (none today): just wait
            await self._sleep(delay)
            return
        attempt.attempts += 1
        if rate_limited:
            log.info("slack answered 429 on %s: waiting %.1f s", attempt.pace_key, delay)
            self.pacer.block(attempt.pace_key, delay)
        else:
            await self._sleep(delay)
            attempt.waited += delay
        attempt.waited += await self.pacer.wait_turn(attempt.pace_key, self._sleep)

    async def _get_client(self) -> AsyncWebClient:
        if self._client is None:
            token = await resolve_token(self.token_ref, secret_loader=self._secret_loader)
            handlers = retry_handlers(
                self._before_retry,
                retries=self.max_retries,
                max_retry_after=self.max_retry_after,
                backoff=self._backoff,
            )
            sdk_log = logging.getLogger("patchwave.notify.slack.sdk")
            if sdk_log.level == logging.NOTSET:
                # slack-sdk logs every retry and dumps each request when its logger's *own*
                # level is <= DEBUG, and NOTSET (0) counts: our retries are logged here instead.
                sdk_log.setLevel(logging.INFO)
            self._client = AsyncWebClient(
                token=token,
                base_url=self.base_url,
                timeout=int(max(self._timeout, 1)),
                logger=sdk_log,
                retry_handlers=handlers,
            )
        return self._client

    def _finish(self, result: DeliveryResult) -> DeliveryResult:
        with self._lock:
            self._outbox.append(result)
        if result.ok:
            log.debug("slack %s -> %s ok (%s)", result.kind, result.channel, result.method)
        else:
            log.warning(
                "slack %s to %s failed after %d attempt(s): %s%s",
                result.kind,
                result.channel,
                result.attempts,
                result.error,
                " (permanent)" if result.permanent else "",
            )
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # a broken hook must not turn into a failed send
                log.exception("slack on_result callback failed")
        return result
