"""Fixed cases for the window math: DST edges, Patch Tuesday, blackouts, merging, long windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from patchwave.domain.windows import (
    Blackout,
    Calendar,
    NaiveDatetimeError,
    Window,
    can_start,
    format_duration,
    is_open,
    iter_windows,
    next_start,
    next_window,
    wall_to_utc,
    window_at,
    windows_between,
)
from patchwave.errors import CalendarError

H = timedelta(hours=1)
M = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def make_calendar(**overrides: object) -> Calendar:
    fields: dict[str, object] = {
        "name": "test",
        "rrule": "FREQ=DAILY",
        "start": time(1, 30),
        "duration": 2 * H,
        "timezone": "America/New_York",
    }
    fields.update(overrides)
    return Calendar(**fields)  # type: ignore[arg-type]


def only_window_on(cal: Calendar, day: date) -> Window:
    """The single window whose occurrence is the local ``day``."""
    tz = ZoneInfo(cal.timezone)
    lo = datetime.combine(day, time(), tz) - timedelta(days=1)
    found = [w for w in windows_between(cal, lo, lo + timedelta(days=3)) if day in w.dates]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("zone", "day", "expected", "note"),
    [
        # Spring forward 02:00 -> 03:00 EST->EDT: 01:30 EST .. 03:30 EDT is one real hour.
        ("America/New_York", date(2025, 3, 9),
         (utc(2025, 3, 9, 6, 30), utc(2025, 3, 9, 7, 30), 1 * H), "DST: 1h shorter"),
        # Fall back 02:00 -> 01:00: 01:30 is taken at its first pass (EDT); 03:30 EST is 3 h later.
        ("America/New_York", date(2025, 11, 2),
         (utc(2025, 11, 2, 5, 30), utc(2025, 11, 2, 8, 30), 3 * H), "DST: 1h longer"),
        ("Europe/Berlin", date(2025, 3, 30),
         (utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30), 1 * H), "DST: 1h shorter"),
        ("Europe/Berlin", date(2025, 10, 26),
         (utc(2025, 10, 25, 23, 30), utc(2025, 10, 26, 2, 30), 3 * H), "DST: 1h longer"),
        ("Europe/Berlin", date(2025, 7, 1),
         (utc(2025, 6, 30, 23, 30), utc(2025, 7, 1, 1, 30), 2 * H), None),
    ],
)  # fmt: skip
def test_0130_to_0330_follows_the_wall_clock_across_dst(
    zone: str, day: date, expected: tuple[datetime, datetime, timedelta], note: str | None
) -> None:
    cal = make_calendar(timezone=zone)
    w = only_window_on(cal, day)
    assert (w.start, w.end, w.length) == expected
    assert w.local_start().replace(tzinfo=None) == datetime.combine(day, time(1, 30))
    assert w.local_end().replace(tzinfo=None) == datetime.combine(day, time(3, 30))
    assert w.notes() == ((note,) if note else ())


def test_start_in_skipped_hour_starts_at_the_transition_instant() -> None:
    cal = make_calendar(start=time(2, 30))  # 02:30 does not exist in New York on 2025-03-09
    w = only_window_on(cal, date(2025, 3, 9))
    assert w.start == utc(2025, 3, 9, 7, 0)  # 03:00 EDT, the instant clocks jumped
    assert w.end == utc(2025, 3, 9, 8, 30)  # 04:30 EDT
    assert w.length == 90 * M
    assert w.notes() == ("DST: 30m shorter",)


def test_end_in_skipped_hour_ends_at_the_transition_instant() -> None:
    cal = make_calendar(start=time(1, 0), duration=90 * M)  # ends at 02:30, which is skipped
    w = only_window_on(cal, date(2025, 3, 9))
    assert (w.start, w.end) == (utc(2025, 3, 9, 6, 0), utc(2025, 3, 9, 7, 0))


def test_end_in_repeated_hour_takes_its_first_pass() -> None:
    cal = make_calendar(start=time(0, 30), duration=1 * H)  # ends at 01:30, which happens twice
    w = only_window_on(cal, date(2025, 11, 2))
    assert (w.start, w.end, w.length) == (utc(2025, 11, 2, 4, 30), utc(2025, 11, 2, 5, 30), H)


def test_window_entirely_inside_a_skipped_hour_does_not_open() -> None:
    cal = make_calendar(start=time(2, 10), duration=30 * M)
    w = next_window(cal, utc(2025, 3, 9, 5, 0))
    assert w is not None
    assert w.dates == (date(2025, 3, 10),)


def test_lord_howe_half_hour_shift() -> None:
    cal = make_calendar(timezone="Australia/Lord_Howe")
    spring = only_window_on(cal, date(2025, 10, 5))  # 02:00 -> 02:30, +10:30 -> +11:00
    assert (spring.start, spring.end) == (utc(2025, 10, 4, 15, 0), utc(2025, 10, 4, 16, 30))
    autumn = only_window_on(cal, date(2025, 4, 6))  # 02:00 -> 01:30, +11:00 -> +10:30
    assert (autumn.start, autumn.end) == (utc(2025, 4, 5, 14, 30), utc(2025, 4, 5, 17, 0))


def test_wall_to_utc_rules() -> None:
    ny = ZoneInfo("America/New_York")
    assert wall_to_utc(datetime(2025, 3, 9, 2, 30), ny) == utc(2025, 3, 9, 7, 0)
    assert wall_to_utc(datetime(2025, 11, 2, 1, 30), ny) == utc(2025, 11, 2, 5, 30)
    assert wall_to_utc(datetime(2025, 6, 1, 12, 0), ny) == utc(2025, 6, 1, 16, 0)
    # Samoa skipped 2011-12-30 entirely: any time that day is the transition instant.
    apia = ZoneInfo("Pacific/Apia")
    assert wall_to_utc(datetime(2011, 12, 30, 12, 0), apia) == utc(2011, 12, 30, 10, 0)


def test_patch_tuesday_plus_three_in_paris() -> None:
    cal = make_calendar(
        rrule="FREQ=MONTHLY;BYDAY=+2TU",
        offset_days=3,
        start=time(22, 0),
        duration=4 * H,
        timezone="Europe/Paris",
    )
    got = list(iter_windows(cal, utc(2026, 10, 1), 3))
    # Oct 13, Nov 10, Dec 8 2026 are the 2nd Tuesdays; +3 days are Fridays.
    assert [w.dates for w in got] == [(date(2026, 10, 16),), (date(2026, 11, 13),),
                                      (date(2026, 12, 11),)]  # fmt: skip
    assert (got[0].start, got[0].end) == (utc(2026, 10, 16, 20, 0), utc(2026, 10, 17, 0, 0))
    assert (got[1].start, got[1].end) == (utc(2026, 11, 13, 21, 0), utc(2026, 11, 14, 1, 0))
    assert got[1].local_start().strftime("%a %H:%M %Z") == "Fri 22:00 CET"


def test_christmas_blackout_cuts_and_removes_windows() -> None:
    paris = ZoneInfo("Europe/Paris")
    blackout = Blackout(datetime(2026, 12, 24, tzinfo=paris), datetime(2027, 1, 3, tzinfo=paris))
    cal = make_calendar(
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start=time(23, 0),
        duration=4 * H,
        timezone="Europe/Paris",
        blackouts=(blackout,),
    )
    got = windows_between(cal, utc(2026, 12, 23, 12), utc(2027, 1, 6))
    # Wed 23rd 23:00 is cut at midnight; nothing until Mon 4 Jan 23:00.
    assert [(w.start, w.end, w.cut) for w in got] == [
        (utc(2026, 12, 23, 22, 0), utc(2026, 12, 23, 23, 0), True),
        (utc(2027, 1, 4, 22, 0), utc(2027, 1, 5, 2, 0), False),
        (utc(2027, 1, 5, 22, 0), utc(2027, 1, 6, 2, 0), False),
    ]
    assert got[0].notes() == ("cut by blackout",)
    assert not is_open(cal, utc(2026, 12, 23, 23, 30))
    assert next_start(cal, utc(2026, 12, 23, 22, 0), 2 * H) == utc(2027, 1, 4, 22, 0)


def test_blackout_inside_a_window_splits_it_in_two() -> None:
    cal = make_calendar(
        timezone="UTC",
        start=time(20, 0),
        duration=8 * H,
        blackouts=(Blackout(utc(2026, 5, 1, 22, 0), utc(2026, 5, 1, 23, 0)),),
    )
    got = windows_between(cal, utc(2026, 5, 1, 12), utc(2026, 5, 2, 12))
    assert [(w.start, w.end, w.cut) for w in got] == [
        (utc(2026, 5, 1, 20), utc(2026, 5, 1, 22), True),
        (utc(2026, 5, 1, 23), utc(2026, 5, 2, 4), True),
    ]


def test_overlapping_and_touching_occurrences_merge() -> None:
    cal = make_calendar(rrule="FREQ=WEEKLY;BYDAY=SA,SU", start=time(20), duration=26 * H,
                        timezone="UTC")  # fmt: skip
    w = window_at(cal, utc(2026, 5, 3, 12))
    assert w is not None
    assert (w.start, w.end) == (utc(2026, 5, 2, 20), utc(2026, 5, 4, 22))
    assert w.dates == (date(2026, 5, 2), date(2026, 5, 3))
    assert w.notes() == ("merged 2 occurrences",)


def test_daily_24h_is_continuous_even_across_new_year_and_dst() -> None:
    cal = make_calendar(start=time(0), duration=24 * H)  # New York, DST days are 23 h / 25 h
    assert can_start(cal, datetime(2025, 3, 8, 23, 50, tzinfo=ZoneInfo(cal.timezone)), 30 * M)
    assert can_start(cal, utc(2026, 12, 31, 23, 50), 30 * M)
    assert can_start(cal, utc(2026, 6, 1), timedelta(days=400))
    assert next_start(cal, utc(2026, 12, 31, 23, 50), 2 * H) == utc(2026, 12, 31, 23, 50)
    w = window_at(cal, utc(2026, 7, 1))
    assert w is not None and (w.start, w.end) == (utc(2026, 1, 1), utc(2027, 1, 1))
    assert w.notes() == ("open all year",)


def test_window_crossing_utc_new_year_is_one_window() -> None:
    cal = make_calendar(start=time(23, 30), duration=2 * H, timezone="Europe/Paris")
    before, after = window_at(cal, utc(2026, 12, 31, 23)), window_at(cal, utc(2027, 1, 1, 0, 10))
    assert before is not None and before == after
    assert (before.start, before.end) == (utc(2026, 12, 31, 22, 30), utc(2027, 1, 1, 0, 30))
    got = list(iter_windows(cal, utc(2026, 12, 30, 23), 3))
    assert [w.start for w in got] == [utc(2026, 12, 30, 22, 30), utc(2026, 12, 31, 22, 30),
                                      utc(2027, 1, 1, 22, 30)]  # fmt: skip
    assert can_start(cal, utc(2026, 12, 31, 23, 50), 40 * M)


def test_windows_longer_than_a_day() -> None:
    cal = make_calendar(rrule="FREQ=WEEKLY;BYDAY=SA", start=time(20), duration=timedelta(days=2),
                        timezone="Europe/Paris")  # fmt: skip
    # Sat 2025-10-25 20:00 CEST -> Mon 2025-10-27 20:00 CET: 49 real hours.
    w = only_window_on(cal, date(2025, 10, 25))
    assert (w.start, w.end, w.length) == (utc(2025, 10, 25, 18), utc(2025, 10, 27, 19), 49 * H)
    assert can_start(cal, utc(2025, 10, 25, 18), 49 * H)
    assert not can_start(cal, utc(2025, 10, 25, 18), 49 * H + M)


def test_open_interval_is_half_open() -> None:
    cal = make_calendar(timezone="UTC")
    assert not is_open(cal, utc(2026, 2, 1, 1, 29, 59))
    assert is_open(cal, utc(2026, 2, 1, 1, 30))
    assert is_open(cal, utc(2026, 2, 1, 3, 29, 59))
    assert not is_open(cal, utc(2026, 2, 1, 3, 30))
    assert window_at(cal, utc(2026, 2, 1, 3, 30)) is None


def test_can_start_and_next_start() -> None:
    cal = make_calendar(timezone="UTC")  # 01:30-03:30 UTC daily
    t = utc(2026, 2, 1, 2, 0)
    assert can_start(cal, t, 90 * M)
    assert not can_start(cal, t, 90 * M + timedelta(seconds=1))
    assert not can_start(cal, utc(2026, 2, 1, 4), M)
    assert can_start(cal, t, timedelta(0))
    assert next_start(cal, t, 90 * M) == t
    assert next_start(cal, t, 2 * H) == utc(2026, 2, 2, 1, 30)
    assert next_start(cal, utc(2026, 2, 1, 4), H) == utc(2026, 2, 2, 1, 30)
    assert next_start(cal, t, 3 * H) is None  # no window is that long
    with pytest.raises(ValueError, match="negative"):
        can_start(cal, t, -M)


def test_next_start_respects_the_horizon() -> None:
    cal = make_calendar(rrule="FREQ=YEARLY", timezone="UTC")  # 1 January only
    t = utc(2026, 3, 1)
    assert next_start(cal, t, H) == utc(2027, 1, 1, 1, 30)
    assert next_start(cal, t, H, horizon=timedelta(days=30)) is None


def test_next_window_is_the_open_one_or_the_next() -> None:
    cal = make_calendar(timezone="UTC")
    inside = next_window(cal, utc(2026, 2, 1, 2))
    assert inside is not None and inside.start == utc(2026, 2, 1, 1, 30)
    after = next_window(cal, utc(2026, 2, 1, 3, 30))
    assert after is not None and after.start == utc(2026, 2, 2, 1, 30)


def test_finished_rule_has_no_next_window() -> None:
    cal = make_calendar(rrule="FREQ=DAILY;UNTIL=20250101", timezone="UTC")
    assert next_window(cal, utc(2026, 1, 1)) is None
    assert next_start(cal, utc(2026, 1, 1), H) is None
    assert list(iter_windows(cal, utc(2026, 1, 1), 5)) == []


def test_anchor_selects_the_weeks_of_an_every_other_week_rule() -> None:
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA"
    a = make_calendar(rrule=rule, timezone="UTC", anchor=date(2026, 1, 3))
    b = make_calendar(rrule=rule, timezone="UTC", anchor=date(2026, 1, 10))
    assert [w.dates[0] for w in iter_windows(a, utc(2026, 1, 1), 2)] == [
        date(2026, 1, 3),
        date(2026, 1, 17),
    ]
    assert [w.dates[0] for w in iter_windows(b, utc(2026, 1, 1), 2)] == [
        date(2026, 1, 10),
        date(2026, 1, 24),
    ]


@pytest.mark.parametrize(
    "call",
    [
        is_open,
        window_at,
        next_window,
        lambda c, t: list(iter_windows(c, t, 1)),
        lambda c, t: windows_between(c, t, t),
        lambda c, t: can_start(c, t, H),
        lambda c, t: next_start(c, t, H),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        call(make_calendar(), datetime(2026, 1, 1))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "expected an IANA zone"),
        ({"rrule": "FREQ=MINUTELY"}, "too frequent"),
        ({"rrule": "FREQ=HOURLY"}, "too frequent"),
        ({"rrule": "FREQ=DAILY;BYHOUR=3"}, "time of day comes from"),
        ({"rrule": "BYDAY=TU"}, "expected an RFC 5545 RRULE"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "invalid 'BYDAY'"),
        ({"rrule": "FREQ=DAILY;UNTIL=20270101T000000Z"}, "UNTIL must be a local date"),
        ({"duration": timedelta(0)}, "duration must be more than 0"),
        ({"start": time(1, tzinfo=UTC)}, "local"),
    ],
)
def test_invalid_calendars_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        make_calendar(**overrides)


def test_blackout_must_be_aware_and_ordered() -> None:
    with pytest.raises(NaiveDatetimeError):
        Blackout(datetime(2026, 1, 1), utc(2026, 1, 2))
    with pytest.raises(CalendarError, match="end must be after start"):
        Blackout(utc(2026, 1, 2), utc(2026, 1, 1))


def test_calendars_are_hashable_values() -> None:
    assert make_calendar() == make_calendar()
    assert hash(make_calendar()) == hash(make_calendar())
    assert len({make_calendar(), make_calendar(), make_calendar(timezone="UTC")}) == 2


@pytest.mark.parametrize(
    ("delta", "text"),
    [(4 * H, "4h"), (90 * M, "1h30m"), (timedelta(days=2), "2d"), (timedelta(0), "0m"),
     (-H, "-1h"), (timedelta(days=1, hours=2), "1d2h")],
)  # fmt: skip
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
