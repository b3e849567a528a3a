"""The simulated clock: virtual time that only moves when everything waits."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from patchwave.clock import SimulatedClock, SystemClock, make_clock, run_async

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_sleeps_cost_no_real_time_and_respect_concurrency() -> None:
    clock = SimulatedClock(START)
    sem = asyncio.Semaphore(200)

    async def one() -> datetime:
        async with sem:
            await asyncio.sleep(1800)
            return clock.now()

    async def main() -> list[datetime]:
        return await asyncio.gather(*(one() for _ in range(2000)))

    t0 = time.perf_counter()
    finished = run_async(clock, main())
    assert time.perf_counter() - t0 < 5
    # 2,000 jobs, 200 at a time, 30 minutes each: exactly ten rounds.
    assert max(finished) == START + timedelta(hours=5)
    assert sorted(set(finished))[0] == START + timedelta(minutes=30)


def test_timeouts_fire_on_virtual_time() -> None:
    clock = SimulatedClock(START)

    async def main() -> datetime:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(3600), timeout=90)
        return clock.now()

    assert run_async(clock, main()) == START + timedelta(seconds=90)


def test_flow_level_sleep_advances_and_loops_continue_from_there() -> None:
    clock = SimulatedClock(START)
    clock.sleep(86400)
    assert clock.now() == START + timedelta(days=1)

    async def main() -> datetime:
        await asyncio.sleep(60)
        return clock.now()

    assert run_async(clock, main()) == START + timedelta(days=1, minutes=1)


def test_make_clock() -> None:
    assert isinstance(make_clock("system"), SystemClock)
    assert make_clock("simulated", START).now() == START
    with pytest.raises(ValueError, match="unknown clock"):
        make_clock("sundial")
    with pytest.raises(ValueError, match="aware"):
        SimulatedClock(datetime(2026, 1, 1))
