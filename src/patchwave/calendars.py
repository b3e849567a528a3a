"""Maintenance-window calendars as users write them (YAML/CLI), and the named ones we ship.

``CalendarSpec`` is the user-facing shape, shared by campaign specs and inventories::

    patch-tuesday-plus-3:
      rrule: "FREQ=MONTHLY;BYDAY=+2TU"   # RFC 5545 RRULE (without "RRULE:")
      offset_days: 3                     # shift each occurrence (Patch Tuesday + 3 = Friday)
      start: "22:00"                     # local wall-clock start
      duration: 4h                       # 90m, 4h, 2d, 1h30m
      timezone: Europe/Paris             # IANA zone, or "from-site" (the host's site decides)
      blackouts: ["2026-12-24/2027-01-02"]

or the shorthand ``monthly: "2nd tuesday"`` instead of ``rrule``. ``anchor`` (a date, optional)
is the rule's DTSTART, for rules such as "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA" (every other Saturday).

Conversion to the pure ``patchwave.domain.windows.Calendar`` happens in ``to_calendar``;
``resolve_calendar`` turns a name or an inline rule ("2nd tuesday +3 22:00 4h Europe/Paris")
into one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from patchwave.domain.windows import (
    DEFAULT_ANCHOR,
    MAX_DURATION,
    Blackout,
    Calendar,
    parse_rrule,
    wall_to_utc,
    zone,
)
from patchwave.errors import CalendarError

FROM_SITE = "from-site"
_DURATION_HELP = "expected like 90m, 4h, 2d or 1h30m"
_DURATION_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?", re.IGNORECASE)
_START_RE = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3,
             "4th": 4, "fourth": 4, "last": -1}  # fmt: skip
_WEEKDAYS = {
    name: code
    for code, names in {
        "MO": ("monday", "mon"),
        "TU": ("tuesday", "tue", "tues"),
        "WE": ("wednesday", "wed"),
        "TH": ("thursday", "thu", "thurs"),
        "FR": ("friday", "fri"),
        "SA": ("saturday", "sat"),
        "SU": ("sunday", "sun"),
    }.items()
    for name in names
}
_MONTHLY_HELP = 'expected "<1st|2nd|3rd|4th|last> <weekday>", e.g. "2nd tuesday"'
_BLACKOUT_HELP = (
    'expected "YYYY-MM-DD/YYYY-MM-DD" (both days closed, local time) or "START/END" as ISO '
    "date-times"
)
_INLINE_HELP = (
    'expected "<2nd tuesday | FREQ=...> [+N] HH:MM DURATION [ZONE]", '
    'e.g. "2nd tuesday +3 22:00 4h Europe/Paris" or "FREQ=WEEKLY;BYDAY=SA 01:00 5h UTC"'
)


def parse_duration(text: str) -> timedelta:
    """ "90m", "4h", "2d", "1h30m" -> timedelta (ValueError saying what was expected)."""
    m = _DURATION_RE.fullmatch(text.strip().replace(" ", ""))
    if m is None or not any(m.groups()):
        raise ValueError(f'duration "{text}": {_DURATION_HELP}')
    days, hours, minutes = (int(g or 0) for g in m.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    if not timedelta(0) < delta <= MAX_DURATION:
        raise ValueError(f'duration "{text}": must be more than 0 and at most 366d')
    return delta


def parse_start(text: str) -> time:
    """ "22:00" -> time(22, 0) (ValueError saying what was expected)."""
    m = _START_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f'start "{text}": expected HH:MM on the 24-hour clock, e.g. "22:00"')
    return time(int(m.group(1)), int(m.group(2)))


def monthly_rrule(text: str) -> str:
    """ "2nd tuesday" -> "FREQ=MONTHLY;BYDAY=+2TU"; "last friday" -> "...;BYDAY=-1FR"."""
    words = text.lower().split()
    if len(words) != 2 or words[0] not in _ORDINALS or words[1] not in _WEEKDAYS:
        raise ValueError(f'monthly "{text}": {_MONTHLY_HELP}')
    return f"FREQ=MONTHLY;BYDAY={_ORDINALS[words[0]]:+d}{_WEEKDAYS[words[1]]}"


def _parse_blackout(text: str) -> tuple[date, date] | tuple[datetime, datetime]:
    """Dates (first, last day closed) or date-times (start, end); both checked, not zoned."""
    first, sep, second = text.strip().partition("/")
    second = second if sep else first  # a single day
    try:
        if len(first.strip()) == 10 and len(second.strip()) == 10:
            d0, d1 = date.fromisoformat(first.strip()), date.fromisoformat(second.strip())
            if d1 < d0:
                raise ValueError(f'blackout "{text}": the last day is before the first')
            return d0, d1
        t0, t1 = datetime.fromisoformat(first.strip()), datetime.fromisoformat(second.strip())
    except ValueError as exc:
        if "blackout" in str(exc):
            raise
        raise ValueError(f'blackout "{text}": {_BLACKOUT_HELP}') from exc
    if (t0.tzinfo is None) != (t1.tzinfo is None):
        raise ValueError(f'blackout "{text}": give a UTC offset on both ends or on neither')
    if t1 <= t0:
        raise ValueError(f'blackout "{text}": the end must be after the start')
    return t0, t1


def _blackout(text: str, tz_name: str) -> Blackout:
    a, b = _parse_blackout(text)
    tz = zone(tz_name)
    if not isinstance(a, datetime) or not isinstance(b, datetime):
        # Local midnight of the first day to local midnight after the last day.
        return Blackout(
            wall_to_utc(datetime.combine(a, time()), tz),
            wall_to_utc(datetime.combine(b + timedelta(days=1), time()), tz),
        )
    ends = [t.astimezone(UTC) if t.tzinfo else wall_to_utc(t, tz) for t in (a, b)]
    return Blackout(ends[0], ends[1])


class CalendarSpec(BaseModel):
    """A maintenance-window calendar as written in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rrule: str | None = Field(
        default=None, description='RFC 5545 RRULE, e.g. "FREQ=WEEKLY;BYDAY=SA"'
    )
    monthly: str | None = Field(default=None, description='Shorthand, e.g. "2nd tuesday"')
    offset_days: int = Field(default=0, ge=-27, le=27)
    start: str = Field(description='Local start time "HH:MM"')
    duration: str = Field(description="Window length: 90m, 4h, 2d, 1h30m")
    timezone: str = Field(default=FROM_SITE, description='IANA zone or "from-site"')
    blackouts: tuple[str, ...] = Field(
        default=(), description='Closed periods: "YYYY-MM-DD/YYYY-MM-DD" or ISO datetimes'
    )
    anchor: date | None = Field(
        default=None, description="The rule's DTSTART (e.g. which week of an every-other-week rule)"
    )

    @field_validator("rrule")
    @classmethod
    def _check_rrule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rrule(value)
            except CalendarError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("monthly")
    @classmethod
    def _check_monthly(cls, value: str | None) -> str | None:
        if value is not None:
            monthly_rrule(value)
        return value

    @field_validator("start", mode="before")
    @classmethod
    def _check_start(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1440:
            # YAML 1.1 reads an unquoted 22:00 as the base-60 integer 1320; undo that.
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str):
            raise ValueError(f'start {value!r}: expected HH:MM on the 24-hour clock, e.g. "22:00"')
        parse_start(value)
        return value

    @field_validator("duration", mode="before")
    @classmethod
    def _check_duration(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"duration {value!r}: {_DURATION_HELP} (a number needs a unit)")
        parse_duration(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        if value != FROM_SITE:
            try:
                zone(value)
            except CalendarError as exc:
                raise ValueError(f'{exc}, or "{FROM_SITE}"') from exc
        return value

    @field_validator("blackouts")
    @classmethod
    def _check_blackouts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            _parse_blackout(text)
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> CalendarSpec:
        if (self.rrule is None) == (self.monthly is None):
            raise ValueError(
                'give exactly one of rrule (e.g. "FREQ=WEEKLY;BYDAY=SA") or monthly '
                '(e.g. "2nd tuesday")'
            )
        return self

    def rrule_body(self) -> str:
        """The effective RRULE (``monthly`` expanded)."""
        return self.rrule if self.rrule is not None else monthly_rrule(self.monthly or "")


def to_calendar(spec: CalendarSpec, *, name: str, timezone_fallback: str | None = None) -> Calendar:
    """The domain ``Calendar`` for ``spec``; "from-site" takes ``timezone_fallback``."""
    tz_name = spec.timezone
    if tz_name == FROM_SITE:
        if timezone_fallback is None:
            raise CalendarError(
                f'calendar "{name}" takes its timezone from the site: pass --tz ZONE '
                "(e.g. --tz Europe/Paris)"
            )
        tz_name = timezone_fallback
    zone(tz_name)  # a clear error for a bad fallback before anything else
    return Calendar(
        name=name,
        rrule=spec.rrule_body(),
        start=parse_start(spec.start),
        duration=parse_duration(spec.duration),
        timezone=tz_name,
        offset_days=spec.offset_days,
        blackouts=tuple(_blackout(text, tz_name) for text in spec.blackouts),
        anchor=spec.anchor or DEFAULT_ANCHOR,
    )


SHIPPED_CALENDARS: Mapping[str, CalendarSpec] = MappingProxyType(
    {
        "always": CalendarSpec(rrule="FREQ=DAILY", start="00:00", duration="24h"),
        "patch-tuesday-plus-3": CalendarSpec(
            monthly="2nd tuesday", offset_days=3, start="22:00", duration="4h"
        ),
        "weekday-nights": CalendarSpec(
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", start="23:00", duration="4h"
        ),
        "weekend-nights": CalendarSpec(
            rrule="FREQ=WEEKLY;BYDAY=SA,SU", start="01:00", duration="5h"
        ),
    }
)
_NO_CALENDARS: Mapping[str, CalendarSpec] = MappingProxyType({})


def _validation_message(text: str, exc: ValidationError) -> str:
    reasons = []
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        reasons.append(str(cause) if cause is not None else f"{err['loc'][-1]}: {err['msg']}")
    return f'calendar "{text}": ' + "; ".join(reasons)


def parse_inline(text: str) -> CalendarSpec:
    """An inline calendar: "2nd tuesday +3 22:00 4h Europe/Paris", "FREQ=DAILY 02:00 1h UTC"."""
    tokens = text.split()
    fields: dict[str, Any] = {}
    if tokens and tokens[0].upper().startswith(("FREQ=", "RRULE:")):
        fields["rrule"], rest = tokens[0], tokens[1:]
    elif len(tokens) >= 2 and tokens[0].lower() in _ORDINALS:
        fields["monthly"], rest = f"{tokens[0]} {tokens[1]}", tokens[2:]
    else:
        raise CalendarError(f'calendar "{text}": {_INLINE_HELP}')
    if rest and re.fullmatch(r"[+-]\d+d?", rest[0]):
        fields["offset_days"], rest = int(rest[0].rstrip("d")), rest[1:]
    if len(rest) not in (2, 3):
        raise CalendarError(f'calendar "{text}": {_INLINE_HELP}')
    fields["start"], fields["duration"] = rest[0], rest[1]
    if len(rest) == 3:
        fields["timezone"] = rest[2]
    try:
        return CalendarSpec(**fields)
    except ValidationError as exc:
        raise CalendarError(_validation_message(text, exc)) from None


def calendar_names(extra: Mapping[str, CalendarSpec] = _NO_CALENDARS) -> list[str]:
    """Every name ``resolve_calendar`` knows (shipped and ``extra``), sorted."""
    return sorted({*SHIPPED_CALENDARS, *extra})


def resolve_calendar(
    name_or_shorthand: str,
    *,
    extra: Mapping[str, CalendarSpec] = _NO_CALENDARS,
    timezone: str | None = None,
) -> Calendar:
    """A calendar by name (``extra`` first, then shipped) or from an inline rule.

    ``timezone`` is used for calendars whose timezone is "from-site".
    """
    text = name_or_shorthand.strip()
    spec = extra[text] if text in extra else SHIPPED_CALENDARS.get(text)
    if spec is None:
        if len(text.split()) < 2 and "=" not in text:
            known = ", ".join(calendar_names(extra))
            raise CalendarError(
                f'unknown calendar "{text}": use one of {known}, or an inline rule such as '
                '"2nd tuesday +3 22:00 4h Europe/Paris"'
            )
        spec = parse_inline(text)
    return to_calendar(spec, name=text, timezone_fallback=timezone)
