"""Time, injectable: the real clock in production, a simulated one for tests and benchmarks.

A campaign asks its clock for ``now()`` and waits with ``sleep()``; host work runs on an event
loop from ``new_event_loop()``. With ``SimulatedClock`` that loop runs on virtual time: when
nothing is ready it jumps straight to the next timer instead of blocking, so 2,000 thirty-minute
installs or a month of maintenance windows take seconds of real time while every duration,
timeout and window check sees consistent simulated time.

Virtual time is only for fleets whose I/O is simulated too: a real socket would see time jump
while it waits. ``make_clock`` refuses nothing here; the campaign refuses mixing real connectors
with a simulated clock.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    simulated: bool

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None:
        """Block the caller (a flow waiting for a window or a soak)."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop: ...


class SystemClock:
    simulated = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.new_event_loop()


class SimulatedClock:
    """Virtual time starting at ``start``; advances only when something waits."""

    simulated = True

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs an aware start time")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._elapsed += seconds

    def advance_to(self, when: datetime) -> None:
        self.advance((when - self.now()).total_seconds())

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return _VirtualTimeLoop(self)


class _VirtualSelector(selectors.BaseSelector):
    """Delegates to a real selector but never blocks for a timer: it advances the clock."""

    def __init__(self, clock: SimulatedClock) -> None:
        self._real = selectors.DefaultSelector()
        self._clock = clock

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # No timer at all: only real I/O (a thread handing back a result) can wake us.
            return self._real.select(None)
        self._clock.advance(timeout)
        return []

    def close(self) -> None:
        self._real.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Any:
        return self._real.get_map()


class _VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: SimulatedClock) -> None:
        super().__init__(selector=_VirtualSelector(clock))
        self._virtual_clock = clock

    def time(self) -> float:
        return self._virtual_clock.monotonic()


def make_clock(kind: str, start: datetime | None = None) -> Clock:
    """``system`` or ``simulated`` (starting at ``start``, default now)."""
    if kind == "system":
        return SystemClock()
    if kind == "simulated":
        return SimulatedClock(start or datetime.now(UTC))
    raise ValueError(f"unknown clock {kind!r}: expected system or simulated")


def run_async(clock: Clock, coro: Any) -> Any:
    """Run a coroutine to completion on a fresh loop of this clock."""
    loop = clock.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
