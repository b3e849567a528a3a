"""Per-channel pacing: Slack allows about one message per second per channel (chat.update too).

A :class:`ChannelPacer` hands out send slots per channel (a token bucket kept as a "theoretical
arrival time", GCRA): each caller books the next free slot and sleeps until it, so concurrent
senders queue fairly in call order without an asyncio lock. That keeps the pacer usable from any
event loop and any thread (a campaign may call the notifier from several Prefect task runs).

A 429 answer blocks its channel for ``Retry-After`` seconds: :meth:`ChannelPacer.block` pushes the
channel's slots past that point, and senders that had booked an earlier slot check the block
again after waking (:meth:`ChannelPacer.wait_turn`), so nobody sends into a channel Slack told us
to leave alone.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ChannelPacer:
    """Token bucket per channel.

    Args:
        rate: messages per second per channel (Slack: about 1).
        burst: messages a quiet channel may send at once before pacing starts.
        clock: monotonic seconds; injectable so tests run without waiting.
    """

    def __init__(self, rate: float = 1.0, *, burst: int = 1, clock: Clock = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0 messages per second, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._tat: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        return self._interval

    def reserve(self, channel: str) -> float:
        """Book the channel's next slot; return how long to wait for it (0 if now)."""
        with self._lock:
            now = self.clock()
            tat = max(self._tat.get(channel, now), now)
            send_at = max(now, tat - self._tolerance)
            self._tat[channel] = max(tat, send_at) + self._interval
            return send_at - now

    def block(self, channel: str, seconds: float) -> None:
        """Slack answered 429 with ``Retry-After: seconds``: keep the channel quiet until then."""
        with self._lock:
            until = self.clock() + max(seconds, 0.0)
            self._blocked_until[channel] = max(self._blocked_until.get(channel, until), until)
            # The first slot after the block is exactly at its end.
            self._tat[channel] = max(self._tat.get(channel, until), until + self._tolerance)

    def blocked_for(self, channel: str) -> float:
        """Seconds left of a Retry-After block on the channel (0 when none)."""
        with self._lock:
            return max(self._blocked_until.get(channel, 0.0) - self.clock(), 0.0)

    async def wait_turn(self, channel: str, sleep: Sleep = asyncio.sleep) -> float:
        """Sleep until this caller may send on ``channel``; return the seconds slept."""
        waited = 0.0
        while True:
            delay = self.reserve(channel)
            if delay > 0:
                await sleep(delay)
                waited += delay
            # A 429 may have arrived while we slept for a slot booked before it: re-book.
            blocked = self.blocked_for(channel)
            if blocked <= 0:
                return waited
            await sleep(blocked)
            waited += blocked
