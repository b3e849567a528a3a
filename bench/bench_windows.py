"""Time 100,000 ``next_start`` calls over 50 calendars (a 10,000-host campaign asks this often).

    .venv/bin/python bench/bench_windows.py [--calls N] [--seed S]

Prints the cold run (occurrences computed on first use) and a warm run (memoised), per call.
Target: well under 1 s for 100,000 calls.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from patchwave.calendars import SHIPPED_CALENDARS, parse_inline, to_calendar
from patchwave.domain.windows import Calendar, next_start

ZONES = [
    "Europe/Paris", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata",
    "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland", "UTC",
]  # fmt: skip
INLINE = [
    "last friday 21:00 6h",
    "1st sunday 02:00 4h",
    "FREQ=WEEKLY;BYDAY=WE 22:30 3h",
    "FREQ=DAILY 03:00 1h30m",
    "FREQ=MONTHLY;BYMONTHDAY=1,15 20:00 8h",
]


def build_calendars(rng: random.Random, n: int = 50) -> list[Calendar]:
    specs = [*SHIPPED_CALENDARS.items(), *((text, parse_inline(text)) for text in INLINE)]
    cals = []
    for i in range(n):
        name, spec = specs[i % len(specs)]
        if i % 3 == 0:
            spec = spec.model_copy(update={"blackouts": ("2026-12-24/2027-01-02",)})
        cals.append(to_calendar(spec, name=f"{name}#{i}", timezone_fallback=rng.choice(ZONES)))
    return cals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cals = build_calendars(rng)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    # Host jobs spread over a year, 5 min to 3 h each.
    calls = [
        (
            rng.choice(cals),
            base + timedelta(seconds=rng.randrange(365 * 86400)),
            timedelta(minutes=rng.randrange(5, 180)),
        )
        for _ in range(args.calls)
    ]
    found = 0
    for label in ("cold", "warm"):
        started = time.perf_counter()
        found = sum(next_start(cal, t, d) is not None for cal, t, d in calls)
        took = time.perf_counter() - started
        print(
            f"{label}: {len(calls):,} next_start calls over {len(cals)} calendars in {took:.3f} s "
            f"({took / len(calls) * 1e6:.1f} us/call)"
        )
    print(f"{found:,} jobs got a start time ({len(calls) - found:,} fit no window within a year)")


if __name__ == "__main__":
    main()
