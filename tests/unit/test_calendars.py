"""CalendarSpec validation, conversion to the domain Calendar, shipped and inline calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from pydantic import ValidationError

from patchwave.calendars import (
    SHIPPED_CALENDARS,
    CalendarSpec,
    calendar_names,
    monthly_rrule,
    parse_duration,
    parse_inline,
    resolve_calendar,
    to_calendar,
)
from patchwave.domain.windows import can_start, is_open, iter_windows, next_window
from patchwave.errors import CalendarError, UserError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def make_spec(**overrides: object) -> CalendarSpec:
    fields: dict[str, object] = {
        "rrule": "FREQ=WEEKLY;BYDAY=SA",
        "start": "01:00",
        "duration": "5h",
    }
    fields.update(overrides)
    return CalendarSpec.model_validate(fields)


def error_text(exc: ValidationError) -> str:
    return " | ".join(str(e["msg"]) for e in exc.errors())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 6h", timedelta(days=1, hours=6)),
        ("4H", timedelta(hours=4)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2nd tuesday", "FREQ=MONTHLY;BYDAY=+2TU"),
        ("1st Mon", "FREQ=MONTHLY;BYDAY=+1MO"),
        ("last friday", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("fourth sunday", "FREQ=MONTHLY;BYDAY=+4SU"),
    ],
)
def test_monthly_shorthand(text: str, expected: str) -> None:
    assert monthly_rrule(text) == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration": "4 hours"}, 'duration "4 hours": expected like 90m, 4h, 2d or 1h30m'),
        ({"duration": "0m"}, "must be more than 0"),
        ({"duration": 90}, "duration 90: expected like 90m"),
        ({"start": "25:00"}, 'start "25:00": expected HH:MM on the 24-hour clock'),
        ({"start": "10pm"}, "expected HH:MM"),
        ({"rrule": "FREQ=MINUTELY"}, "FREQ=MINUTELY is too frequent"),
        ({"rrule": "FREQ=SECONDLY"}, "FREQ=SECONDLY is too frequent"),
        ({"rrule": "every saturday"}, "expected an RFC 5545 RRULE"),
        ({"rrule": None, "monthly": "5th friday"}, 'monthly "5th friday": expected "<1st|2nd'),
        ({"monthly": "2nd tuesday"}, "give exactly one of rrule"),
        ({"rrule": None}, "give exactly one of rrule"),
        ({"timezone": "Europe/Pariss"}, 'timezone "Europe/Pariss": expected an IANA zone'),
        ({"blackouts": ["2026-12-24 to 2027-01-02"]}, 'expected "YYYY-MM-DD/YYYY-MM-DD"'),
        ({"blackouts": ["2027-01-02/2026-12-24"]}, "the last day is before the first"),
        ({"blackouts": ["2026-12-24T10:00/2026-12-24T09:00"]}, "end must be after the start"),
        ({"blackouts": ["2026-12-24T10:00Z/2026-12-24T12:00"]}, "on both ends or on neither"),
        ({"offset_days": 40}, "less than or equal to 27"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_spec_errors_say_what_was_expected(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_spec(**overrides)
    assert message in error_text(info.value)


def test_yaml_sexagesimal_start_is_read_back_as_a_time() -> None:
    # YAML 1.1 turns an unquoted 22:00 into the integer 1320.
    data = yaml.safe_load("monthly: 2nd tuesday\noffset_days: 3\nstart: 22:00\nduration: 4h\n")
    assert data["start"] == 1320
    assert CalendarSpec.model_validate(data).start == "22:00"


def test_to_calendar_patch_tuesday_plus_three() -> None:
    spec = make_spec(rrule=None, monthly="2nd tuesday", offset_days=3, start="22:00",
                     duration="4h", timezone="Europe/Paris")  # fmt: skip
    cal = to_calendar(spec, name="pt3")
    assert (cal.name, cal.rrule, cal.start, cal.duration, cal.timezone, cal.offset_days) == (
        "pt3", "FREQ=MONTHLY;BYDAY=+2TU", time(22), timedelta(hours=4), "Europe/Paris", 3
    )  # fmt: skip
    w = next_window(cal, datetime(2026, 11, 1, tzinfo=UTC))
    assert w is not None
    assert (w.start, w.end) == (datetime(2026, 11, 13, 21, tzinfo=UTC),
                                datetime(2026, 11, 14, 1, tzinfo=UTC))  # fmt: skip


def test_date_blackout_runs_local_midnight_to_midnight_after_the_last_day() -> None:
    spec = make_spec(rrule="FREQ=DAILY", start="00:00", duration="24h",
                     timezone="Europe/Paris", blackouts=["2026-12-24/2027-01-02"])  # fmt: skip
    cal = to_calendar(spec, name="xmas")
    (b,) = cal.blackouts
    assert b.start == datetime(2026, 12, 23, 23, tzinfo=UTC)  # 00:00 CET on the 24th
    assert b.end == datetime(2027, 1, 2, 23, tzinfo=UTC)  # 00:00 CET on the 3rd
    assert not is_open(cal, datetime(2026, 12, 25, 12, tzinfo=UTC))
    assert is_open(cal, datetime(2026, 12, 23, 22, 59, tzinfo=UTC))
    assert is_open(cal, datetime(2027, 1, 2, 23, tzinfo=UTC))


def test_datetime_blackouts_naive_in_calendar_zone_or_with_offset() -> None:
    naive, aware = "2026-07-04T08:00/2026-07-04T12:00", "2026-07-05T10:00Z/2026-07-05T11:00Z"
    a, b = to_calendar(
        make_spec(timezone="America/New_York", blackouts=[naive, aware]), name="x"
    ).blackouts
    assert (a.start, a.end) == (utc(2026, 7, 4, 12), utc(2026, 7, 4, 16))  # EDT is UTC-4
    assert (b.start, b.end) == (utc(2026, 7, 5, 10), utc(2026, 7, 5, 11))


def test_single_day_blackout() -> None:
    cal = to_calendar(make_spec(timezone="UTC", blackouts=["2026-05-02"]), name="x")
    assert (cal.blackouts[0].start, cal.blackouts[0].end) == (
        datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 3, tzinfo=UTC))  # fmt: skip


def test_anchor_is_the_rule_start() -> None:
    spec = make_spec(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", timezone="UTC", anchor="2026-01-10")
    cal = to_calendar(spec, name="fortnight")
    assert cal.anchor == date(2026, 1, 10)
    assert [w.dates[0] for w in iter_windows(cal, datetime(2026, 1, 1, tzinfo=UTC), 2)] == [
        date(2026, 1, 10), date(2026, 1, 24)]  # fmt: skip


def test_from_site_needs_a_fallback() -> None:
    spec = make_spec()
    assert to_calendar(spec, name="n", timezone_fallback="Asia/Tokyo").timezone == "Asia/Tokyo"
    with pytest.raises(CalendarError, match="pass --tz ZONE"):
        to_calendar(spec, name="n")
    with pytest.raises(CalendarError, match='timezone "Nowhere/Land"'):
        to_calendar(spec, name="n", timezone_fallback="Nowhere/Land")


def test_shipped_calendars() -> None:
    assert set(SHIPPED_CALENDARS) == {"patch-tuesday-plus-3", "weekend-nights", "weekday-nights",
                                      "always"}  # fmt: skip
    assert all(spec.timezone == "from-site" for spec in SHIPPED_CALENDARS.values())
    t = datetime(2026, 11, 1, tzinfo=UTC)  # a Sunday
    pt3 = resolve_calendar("patch-tuesday-plus-3", timezone="Europe/Paris")
    assert next_window(pt3, t).start == datetime(2026, 11, 13, 21, tzinfo=UTC)  # type: ignore[union-attr]
    wkend = resolve_calendar("weekend-nights", timezone="UTC")
    assert [w.dates[0] for w in iter_windows(wkend, t, 3)] == [
        date(2026, 11, 1), date(2026, 11, 7), date(2026, 11, 8)]  # fmt: skip
    wkday = resolve_calendar("weekday-nights", timezone="UTC")
    first = next_window(wkday, t)
    assert first is not None and first.start == datetime(2026, 11, 2, 23, tzinfo=UTC)
    assert first.length == timedelta(hours=4)
    always = resolve_calendar("always", timezone="Australia/Lord_Howe")
    assert can_start(always, datetime(2026, 10, 3, 23, 50, tzinfo=UTC), timedelta(days=3))


def test_resolve_inline_shorthands() -> None:
    cal = resolve_calendar("2nd tuesday +3 22:00 4h Europe/Paris")
    assert (cal.rrule, cal.offset_days, cal.start, cal.timezone) == (
        "FREQ=MONTHLY;BYDAY=+2TU", 3, time(22), "Europe/Paris")  # fmt: skip
    assert cal.name == "2nd tuesday +3 22:00 4h Europe/Paris"
    weekly = resolve_calendar("FREQ=WEEKLY;BYDAY=SA 01:00 5h UTC")
    assert (weekly.rrule, weekly.duration, weekly.timezone) == (
        "FREQ=WEEKLY;BYDAY=SA", timedelta(hours=5), "UTC")  # fmt: skip
    from_site = resolve_calendar("last friday 20:00 1h30m", timezone="Asia/Tokyo")
    assert (from_site.timezone, from_site.duration) == ("Asia/Tokyo", timedelta(minutes=90))


def test_extra_calendars_win_over_shipped_ones() -> None:
    extra = {"weekend-nights": make_spec(start="03:00", timezone="UTC"),
             "acme-sundays": make_spec(rrule="FREQ=WEEKLY;BYDAY=SU", timezone="UTC")}  # fmt: skip
    assert resolve_calendar("weekend-nights", extra=extra).start == time(3)
    assert resolve_calendar("acme-sundays", extra=extra).rrule == "FREQ=WEEKLY;BYDAY=SU"
    assert "acme-sundays" in calendar_names(extra)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weekend-night", 'unknown calendar "weekend-night": use one of always, '
                          "patch-tuesday-plus-3, weekday-nights, weekend-nights, or an inline"),
        ("2nd tuesday 22:00 4 hours", 'duration "4": expected like 90m'),
        ("2nd tuesday 22:00", "expected \"<2nd tuesday | FREQ=...> [+N] HH:MM DURATION [ZONE]\""),
        ("2nd tuesday 22:00 4h Mars/Base", 'timezone "Mars/Base": expected an IANA zone'),
        ("FREQ=MINUTELY 22:00 4h UTC", "too frequent"),
        ("patch-tuesday-plus-3", "pass --tz ZONE"),
    ],
)  # fmt: skip
def test_resolve_errors_are_one_line_calendar_errors(text: str, message: str) -> None:
    with pytest.raises(CalendarError) as info:
        resolve_calendar(text)
    assert isinstance(info.value, UserError)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_parse_inline_returns_a_spec() -> None:
    spec = parse_inline("1st monday -1 06:00 2h UTC")
    assert (spec.monthly, spec.offset_days, spec.start, spec.duration, spec.timezone) == (
        "1st monday", -1, "06:00", "2h", "UTC")  # fmt: skip
