"""slack-sdk retry handlers whose waits go through the notifier (injectable sleep, pacer).

slack-sdk's own handlers sleep with ``asyncio.sleep`` and add up to a second of random jitter to
``Retry-After``; ours call a hook instead, so tests can use a fake clock, the channel's pacer
learns about the 429, and the delivery counts its attempts. Which answers are retried stays
slack-sdk's logic, widened to every 5xx and to timeouts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientOSError, ServerConnectionError, ServerDisconnectedError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


@dataclass(slots=True)
class Attempt:
    """Book-keeping of one delivery, reachable from the retry handlers through a ContextVar
    (each concurrent delivery runs in its own asyncio task, so each sees its own)."""

    pace_key: str
    attempts: int = 1
    waited: float = 0.0


CURRENT_ATTEMPT: ContextVar[Attempt | None] = ContextVar("patchwave_slack_attempt", default=None)
RetryHook = Callable[[float, bool], Awaitable[None]]


def _retry_after(response: HttpResponse | None) -> float:
    headers: Any = response.headers if response is not None else {}
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name) if hasattr(headers, "get") else None
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return 1.0  # Slack always sends it; a second is its usual value


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """429: wait exactly Retry-After (through our sleep and pacer, no random extra), unless Slack
    asks for longer than ``max_wait``: then give up and record the failure."""

    def __init__(self, hook: RetryHook, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._hook, self._max_wait = hook, max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and _retry_after(response) <= self._max_wait
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self._hook(_retry_after(response), True)
        state.increment_current_attempt()


class _BackoffMixin:
    """Deterministic exponential back-off through the notifier's hook."""

    _hook: RetryHook
    _base: float
    _cap: float

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self._hook(min(self._base * 2**state.current_attempt, self._cap), False)
        state.increment_current_attempt()


class ServerErrorRetry(_BackoffMixin, AsyncServerErrorRetryHandler):
    """Any 5xx (slack-sdk's own handler only retries 500 and 503; a 502 from a proxy is as
    transient)."""

    def __init__(self, hook: RetryHook, max_retry_count: int, base: float, cap: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._hook, self._base, self._cap = hook, base, cap

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599


class ConnectionRetry(_BackoffMixin, AsyncConnectionErrorRetryHandler):
    def __init__(self, hook: RetryHook, max_retry_count: int, base: float, cap: float) -> None:
        # TimeoutError too: a post that timed out may have landed, but a duplicate alert is
        # better than a lost one.
        errors: list[type[Exception]] = [
            ServerConnectionError,
            ServerDisconnectedError,
            ClientOSError,
            TimeoutError,
        ]
        super().__init__(max_retry_count=max_retry_count, error_types=errors)
        self._hook, self._base, self._cap = hook, base, cap


def retry_handlers(
    hook: RetryHook, *, retries: int, max_retry_after: float, backoff: float, cap: float = 30.0
) -> list[AsyncRetryHandler]:
    """The handlers a notifier's AsyncWebClient uses, all reporting to ``hook``."""
    return [
        RateLimitRetry(hook, retries, max_retry_after),
        ServerErrorRetry(hook, retries, backoff, cap),
        ConnectionRetry(hook, retries, backoff, cap),
    ]
