"""Property tests for the window math, over many zones (DST, half-hour and 45-minute shifts).

The reference ``_first_instant`` states the wall-clock rule independently of the code under
test: a wall time maps to the earliest UTC minute whose local reading is at or after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchwave.domain.windows import (
    DEFAULT_ANCHOR,
    Blackout,
    Calendar,
    Window,
    can_start,
    is_open,
    iter_windows,
    next_start,
    next_window,
    window_at,
    windows_between,
)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Dublin",  # negative DST in tzdata
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Australia/Sydney",
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -3:30 with DST
    "America/Santiago",  # transitions at midnight
    "America/Havana",  # transitions at midnight/01:00
    "Africa/Casablanca",  # DST suspended every Ramadan
    "Asia/Kathmandu",
    "Asia/Kolkata",
]
RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY;BYDAY=SA,SU",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
    "FREQ=MONTHLY;BYDAY=+2TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=1,15",
    "FREQ=MONTHLY;INTERVAL=5;BYDAY=+1MO",
    "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",  # the EU's DST Sundays
    "FREQ=WEEKLY;BYDAY=SA;COUNT=800",  # ~15 years from a recent anchor
]
ONE_SECOND = timedelta(seconds=1)
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

zones = st.sampled_from(ZONES)
# Starts cluster around 00:00-03:59, where DST transitions happen.
starts = st.one_of(
    st.builds(time, st.integers(0, 3), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])),
)
durations = st.one_of(
    st.integers(15, 12 * 60).map(lambda m: timedelta(minutes=m)),
    st.sampled_from([timedelta(hours=24), timedelta(hours=26), timedelta(days=2, hours=3)]),
)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.sampled_from([ZoneInfo(z) for z in ZONES]),
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    tz = draw(zones)
    blackouts = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31)))
        length = draw(st.integers(60, 20 * 24 * 60).map(lambda m: timedelta(minutes=m)))
        aware = start.replace(tzinfo=ZoneInfo(tz))
        blackouts.append(Blackout(aware, aware + length))
    rule = draw(st.sampled_from(RULES))
    # A recent anchor moves weekly/monthly phases; day 29-31 takes the uncached-rule path.
    recent = st.dates(date(2015, 1, 1), date(2024, 12, 31))
    anchor = draw(recent if "COUNT" in rule else st.one_of(st.just(DEFAULT_ANCHOR), recent))
    return Calendar(
        name="prop",
        rrule=rule,
        anchor=anchor,
        start=draw(starts),
        duration=draw(durations),
        timezone=tz,
        offset_days=draw(st.integers(-3, 3)),
        blackouts=tuple(blackouts),
    )


def _first_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """Earliest UTC minute whose wall clock in ``tz`` reads ``wall`` or later (reference)."""
    guesses = [(wall - wall.replace(tzinfo=tz, fold=f).utcoffset()).replace(tzinfo=UTC)  # type: ignore[operator]
               for f in (0, 1)]  # fmt: skip
    u = min(guesses) - timedelta(hours=2)
    while u.astimezone(tz).replace(tzinfo=None) < wall:
        u += timedelta(minutes=1)
    return u


def _reference_open(cal: Calendar, t: datetime) -> bool:
    """Is ``t`` inside some occurrence and outside every blackout? (no merging, no caches)"""
    tz = ZoneInfo(cal.timezone)
    if any(b.start <= t < b.end for b in cal.blackouts):
        return False
    rule = rrulestr(cal.rrule, dtstart=datetime.combine(cal.anchor, time()))
    day = t.astimezone(tz).date()
    shift = timedelta(days=cal.offset_days)
    lo = datetime.combine(day - timedelta(days=cal.duration.days + 3) - shift, time())
    for d in rule.between(lo, datetime.combine(day + timedelta(days=2) - shift, time()), inc=True):
        wall = datetime.combine(d.date() + shift, cal.start)
        if _first_instant(wall, tz) <= t < _first_instant(wall + cal.duration, tz):
            return True
    return False


def _is_new_year(t: datetime) -> bool:
    return (t.month, t.day, t.hour, t.minute, t.second, t.microsecond) == (1, 1, 0, 0, 0, 0)


def _whole_year(w: Window) -> bool:
    return _is_new_year(w.start) and w.end == w.start.replace(year=w.start.year + 1)


def _covered(cal: Calendar, t: datetime, d: timedelta) -> bool:
    """Is [t, t + d) inside windows that follow each other without a gap?"""
    t = t.astimezone(UTC)  # aware + timedelta in a zone is wall-clock arithmetic; we need real time
    reach = t
    for w in windows_between(cal, t, t + d + ONE_SECOND):
        if w.start > reach:
            break
        reach = max(reach, w.end)
    return is_open(cal, t) and reach >= t + d


@PROPS
@given(calendars(), instants)
def test_is_open_iff_window_at_and_matches_reference(cal: Calendar, t: datetime) -> None:
    w = window_at(cal, t)
    assert is_open(cal, t) == (w is not None)
    if w is not None:
        assert w.start <= t < w.end
    assert is_open(cal, t) == _reference_open(cal, t.astimezone(UTC))


@PROPS
@given(calendars(), instants)
def test_next_window_is_the_containing_or_the_following_window(cal: Calendar, t: datetime) -> None:
    w = next_window(cal, t)
    assert w is not None  # every generated rule recurs at least monthly
    assert is_open(cal, w.start)
    assert window_at(cal, w.start) == w
    assert window_at(cal, w.end - ONE_SECOND) == w
    here = window_at(cal, t)
    if here is not None:
        assert w == here
    else:
        assert w.start > t
        # Nothing opened in between: the calendar is closed just before w starts.
        assert w.start - ONE_SECOND < t or not is_open(cal, w.start - ONE_SECOND)


@PROPS
@given(calendars(), instants)
def test_windows_are_sorted_disjoint_and_avoid_blackouts(cal: Calendar, t: datetime) -> None:
    got = list(iter_windows(cal, t, 12))
    assert len(got) == 12
    assert got[0] == next_window(cal, t)
    for a, b in pairwise(got):
        assert a.start < a.end <= b.start
        # Windows only touch at a UTC new year, when a whole year is open.
        assert a.end < b.start or (_is_new_year(a.end) and (_whole_year(a) or _whole_year(b)))
    for w in got:
        assert w.start.tzinfo is UTC and w.end.tzinfo is UTC
        for b in cal.blackouts:
            assert w.end <= b.start or w.start >= b.end


@PROPS
@given(calendars(), instants)
def test_single_occurrence_length_follows_the_wall_clock(cal: Calendar, t: datetime) -> None:
    tz = ZoneInfo(cal.timezone)
    for w in iter_windows(cal, t, 4):
        if len(w.dates) != 1 or w.cut:
            continue
        wall = datetime.combine(w.dates[0], cal.start)
        assert w.start == _first_instant(wall, tz)
        assert w.end == _first_instant(wall + cal.duration, tz)
        assert w.dst_shift == w.length - cal.duration


@PROPS
@given(calendars(), instants, st.integers(0, 30 * 60).map(lambda m: timedelta(minutes=m)))
def test_can_start_means_the_job_fits_in_open_time(
    cal: Calendar, t: datetime, d: timedelta
) -> None:
    ok = can_start(cal, t, d)
    assert ok == _covered(cal, t, d)
    if ok:
        w = window_at(cal, t)
        assert w is not None
        assert t.astimezone(UTC) + d <= w.end or _is_new_year(w.end)


@PROPS
@given(calendars(), instants, st.integers(1, 10 * 60).map(lambda m: timedelta(minutes=m)))
def test_next_start_is_the_earliest_fitting_instant(
    cal: Calendar, t: datetime, d: timedelta
) -> None:
    s = next_start(cal, t, d)
    t = t.astimezone(UTC)
    if s is None:
        # No window within the horizon is long enough.
        for w in windows_between(cal, t, t + timedelta(days=366)):
            assert not can_start(cal, max(w.start, t), d)
        return
    assert s >= t
    assert can_start(cal, s, d)
    if s > t:
        w = window_at(cal, s)
        assert w is not None and w.start == s
        # Every earlier chance (the earliest instant of each earlier window) was too short.
        for earlier in windows_between(cal, t, s):
            assert not can_start(cal, max(earlier.start, t), d)


def _day_windows(cal: Calendar, day: date) -> list[Window]:
    tz = ZoneInfo(cal.timezone)
    lo = datetime.combine(day, time(), tz)
    return windows_between(cal, lo, lo + timedelta(days=1))


@PROPS
@given(calendars(), st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_lookups_agree_with_the_window_list(cal: Calendar, day: date) -> None:
    for w in _day_windows(cal, day):
        assert window_at(cal, w.start) == w
        assert next_window(cal, w.start) == w
        assert not is_open(cal, w.end) or window_at(cal, w.end) != w
