"""Maintenance windows: when may a host be patched? Pure: stdlib + python-dateutil only.

A ``Calendar`` is an RFC 5545 recurrence of local dates, a local start time, a duration, an IANA
zone and blackout periods. Its windows are half-open UTC intervals ``[start, end)``:

* an occurrence is the rrule date + ``offset_days``, at ``start`` on the local wall clock;
* wall clock -> UTC takes the earliest instant whose local time is at or after the wall time, so
  a time in a skipped hour becomes the transition instant and a time in a repeated hour its first
  occurrence (``wall_to_utc``);
* the end is the start's wall clock + ``duration``, converted the same way: the real length follows
  the wall clock (01:30-03:30 in New York lasts 1 h on 2025-03-09 and 3 h on 2025-11-02);
* occurrences that overlap or touch merge into one window; blackouts cut windows (maybe in two).

Windows are memoised per (calendar, UTC year) and found with bisect: a campaign asks about
thousands of host jobs. A window crossing a UTC new year is still one window; the exception is a
calendar open for a whole UTC year (e.g. daily 24 h), which reports one window per UTC year.
``can_start`` and ``next_start`` treat such touching windows as one continuous open period.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as _rr

from patchwave.errors import CalendarError

# A Saturday in the past: "FREQ=MONTHLY;BYDAY=+2TU" needs no particular day, and a bare
# "FREQ=MONTHLY" / "FREQ=YEARLY" then means the 1st of the month / of January.
DEFAULT_ANCHOR = date(2000, 1, 1)
SEARCH_HORIZON = timedelta(days=3653)  # next_window/iter_windows give up after ~10 empty years
START_HORIZON = timedelta(days=366)  # next_start: a job that fits no window for a year never will
MAX_DURATION = timedelta(days=366)
_LAST_YEAR = 9998  # year 9999 has no "next new year" to compute
_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_TOO_FREQUENT = ("SECONDLY", "MINUTELY", "HOURLY")
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")


class NaiveDatetimeError(ValueError):
    """A window function was given a datetime without a time zone (a programming error)."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; CalendarError saying what was expected when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(
            f'timezone "{name}": expected an IANA zone such as Europe/Paris or America/New_York'
        ) from exc


def _rule_text(body: str) -> tuple[str, dict[str, str]]:
    text = body.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return text, dict(p.partition("=")[::2] for p in text.upper().split(";") if p)


def parse_rrule(body: str, *, anchor: date = DEFAULT_ANCHOR, cache: bool = False) -> _rr.rrule:
    """Parse an RRULE body ("FREQ=MONTHLY;BYDAY=+2TU") into dates starting at ``anchor``."""
    text, parts = _rule_text(body)
    expected = 'expected an RFC 5545 RRULE such as "FREQ=MONTHLY;BYDAY=+2TU"'
    freq = parts.get("FREQ")
    if not text or "\n" in text or ":" in text or not freq:
        raise CalendarError(f'rrule "{body}": {expected} (FREQ first, no DTSTART)')
    if freq in _TOO_FREQUENT:
        raise CalendarError(
            f'rrule "{body}": FREQ={freq} is too frequent; expected DAILY, WEEKLY, MONTHLY or '
            "YEARLY (the window's start and duration give the time of day)"
        )
    if any(key in parts for key in _TIME_PARTS):
        raise CalendarError(
            f'rrule "{body}": BYHOUR/BYMINUTE/BYSECOND are not allowed; the time of day comes '
            'from "start"'
        )
    if parts.get("UNTIL", "").endswith("Z"):
        # The rule runs on local dates; a UTC "Z" instant would be ambiguous there.
        raise CalendarError(f'rrule "{body}": UNTIL must be a local date such as UNTIL=20271231')
    try:
        rule = _rr.rrulestr(text, dtstart=datetime.combine(anchor, time()), cache=cache)
    except (ValueError, TypeError) as exc:
        raise CalendarError(f'rrule "{body}": {exc}; {expected}') from exc
    if not isinstance(rule, _rr.rrule):  # pragma: no cover - rrulestr without forceset
        raise CalendarError(f'rrule "{body}": {expected}')
    return rule


def _period(body: str, anchor: date) -> tuple[str, int] | None:
    """(FREQ, INTERVAL) when the rule may start from a later DTSTART without changing its dates.

    dateutil iterates from DTSTART on every query, which costs 30 ms for a daily rule anchored in
    2000; moving DTSTART forward by whole periods keeps every date (and UNTIL) but not COUNT, and
    not a monthly/yearly rule that takes a day the later months/years may lack.
    """
    _, parts = _rule_text(body)
    freq, step = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    if "COUNT" in parts or (freq in ("MONTHLY", "YEARLY") and anchor.day > 28):
        return None
    return freq, step


def _dtstart_near(anchor: date, period: tuple[str, int], first: date) -> datetime | None:
    """A DTSTART whole periods after ``anchor`` and at least one period before ``first``."""
    freq, step = period
    if freq == "DAILY":
        k = (first - anchor).days // step - 1
        moved = anchor + timedelta(days=k * step)
    elif freq == "WEEKLY":
        k = (first - anchor).days // (7 * step) - 1
        moved = anchor + timedelta(days=7 * k * step)
    elif freq == "MONTHLY":
        k = ((first.year - anchor.year) * 12 + first.month - anchor.month) // step - 1
        months = anchor.month - 1 + k * step
        moved = date(anchor.year + months // 12, months % 12 + 1, anchor.day)
    else:
        k = (first.year - anchor.year) // step - 1
        moved = anchor.replace(year=anchor.year + k * step)
    return datetime.combine(moved, time()) if k > 0 else None


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The earliest UTC instant whose wall clock in ``tz`` is at or after ``wall`` (naive).

    Normal times map exactly; a repeated (fall-back) time maps to its first occurrence; a skipped
    (spring-forward) time maps to the transition instant.
    """
    # Hot loop when computing windows: ZoneInfo.utcoffset reads a naive datetime's fields
    # directly, and _EPOCH arithmetic labels UTC, both ~20x cheaper than datetime.replace().
    off = tz.utcoffset(wall - _DAY)
    if off is not None and off == tz.utcoffset(wall + _DAY):  # no transition within a day
        return _EPOCH + (wall - off - _EPOCH_NAIVE)
    off0, off1 = tz.utcoffset(wall), tz.utcoffset(wall.replace(fold=1))
    assert off0 is not None and off1 is not None  # a ZoneInfo always answers
    if off0 >= off1:  # unique, or repeated (fold=0 is the first pass)
        return _EPOCH + (wall - off0 - _EPOCH_NAIVE)
    # Skipped: the transition lies between the two readings; bisect whole seconds for it.
    lo = math.floor((wall - off1 - _EPOCH_NAIVE).total_seconds()) - 1
    hi = math.ceil((wall - off0 - _EPOCH_NAIVE).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == off0:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def format_duration(delta: timedelta) -> str:
    """Compact length: "4h", "1h30m", "2d", "1d2h" (seconds dropped; negative gets "-")."""
    sign, delta = ("-", -delta) if delta < _ZERO else ("", delta)
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n)
    return sign + (text or "0m")


def _aware(t: datetime, what: str) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{what} {t.isoformat()} has no time zone; windows need aware datetimes "
            "(e.g. t.replace(tzinfo=ZoneInfo('Europe/Paris')) or datetime.now(UTC))"
        )
    return t


def _utc(t: datetime, what: str = "t") -> datetime:
    return t if t.tzinfo is UTC else _aware(t, what).astimezone(UTC)


def _duration(d: timedelta) -> timedelta:
    if d < _ZERO:
        raise ValueError(f"job duration {d} is negative")
    return d


@dataclass(frozen=True, slots=True)
class Blackout:
    """A closed period ``[start, end)`` (aware datetimes): no window may overlap it."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _aware(self.start, "blackout start")
        _aware(self.end, "blackout end")
        if self.end <= self.start:
            raise CalendarError(f"blackout {self.start} - {self.end}: end must be after start")


@dataclass(frozen=True)
class Calendar:
    """A maintenance-window calendar (validated on construction; hashable, so memoisable)."""

    name: str
    rrule: str
    start: time
    duration: timedelta
    timezone: str
    offset_days: int = 0
    blackouts: tuple[Blackout, ...] = ()
    anchor: date = DEFAULT_ANCHOR
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _rule: _rr.rrule = field(init=False, repr=False, compare=False)
    _period: tuple[str, int] | None = field(init=False, repr=False, compare=False)
    _closed: tuple[tuple[datetime, datetime], ...] = field(init=False, repr=False, compare=False)
    _closed_ends: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1900 <= self.anchor.year <= 2999 or abs(self.offset_days) > 366:
            raise CalendarError(
                f'calendar "{self.name}": anchor must be 1900-2999, offset_days within ±366'
            )
        if self.start.tzinfo is not None:
            raise CalendarError(f'calendar "{self.name}": start must be a local (naive) time')
        if not _ZERO < self.duration <= MAX_DURATION:
            raise CalendarError(
                f'calendar "{self.name}": duration must be more than 0 and at most 366 days'
            )
        put = object.__setattr__  # frozen: derived, non-compared caches are set once here
        put(self, "_zone", zone(self.timezone))
        parse_rrule(self.rrule, anchor=self.anchor)  # validates before _period reads it
        put(self, "_period", _period(self.rrule, self.anchor))
        # A rule that cannot be fast-forwarded (COUNT...) keeps dateutil's occurrence cache.
        put(self, "_rule", parse_rrule(self.rrule, anchor=self.anchor, cache=not self._period))
        closed: list[tuple[datetime, datetime]] = []
        for b in sorted(self.blackouts, key=lambda b: b.start):
            s, e = b.start.astimezone(UTC), b.end.astimezone(UTC)
            if closed and s <= closed[-1][1]:
                closed[-1] = (closed[-1][0], max(e, closed[-1][1]))
            else:
                closed.append((s, e))
        put(self, "_closed", tuple(closed))
        put(self, "_closed_ends", tuple(e for _, e in closed))
        # Cached because every lookup hashes the calendar (lru_cache key).
        put(self, "_hash", hash((self.name, self.rrule, self.start, self.duration, self.timezone,
                                 self.offset_days, self.blackouts, self.anchor)))  # fmt: skip

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True, slots=True)
class Window:
    """One open period ``[start, end)`` in UTC, and where it came from."""

    start: datetime
    end: datetime
    calendar: str
    timezone: str
    # The local occurrence dates merged into it; a DST shift is only meaningful for one date.
    dates: tuple[date, ...] = field(default=(), compare=False, repr=False)
    dst_shift: timedelta = field(default=_ZERO, compare=False)  # real - wall length (1 date)
    cut: bool = field(default=False, compare=False)  # a blackout removed part of it

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.timezone))

    def notes(self) -> tuple[str, ...]:
        """Short human notes: "DST: 1h shorter", "cut by blackout", "merged 3 occurrences"."""
        notes: list[str] = []
        if len(self.dates) == 1 and self.dst_shift:
            more = "longer" if self.dst_shift > _ZERO else "shorter"
            notes.append(f"DST: {format_duration(abs(self.dst_shift))} {more}")
        if len(self.dates) > 1:
            # A whole-year window is clipped at the UTC year; its occurrence count means little.
            year = self.length >= timedelta(days=365)
            notes.append("open all year" if year else f"merged {len(self.dates)} occurrences")
        if self.cut:
            notes.append("cut by blackout")
        return tuple(notes)


class _Piece(NamedTuple):
    start: datetime
    end: datetime
    dates: tuple[date, ...]
    shift: timedelta
    cut: bool


class _Bucket(NamedTuple):
    starts: list[datetime]
    ends: list[datetime]
    windows: tuple[Window, ...]
    longest: timedelta  # lets next_start skip a year in which no window is long enough


def _new_year(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def _occurrence_pieces(cal: Calendar, first: date, last: date) -> list[_Piece]:
    """Merged, blackout-cut windows of the occurrences whose local date is in [first, last]."""
    shift = timedelta(days=cal.offset_days)
    lo, hi = datetime.combine(first - shift, time()), datetime.combine(last - shift, time())
    merged: list[_Piece] = []
    rule = cal._rule
    moved = _dtstart_near(cal.anchor, cal._period, lo.date()) if cal._period else None
    if moved is not None:
        rule = rule.replace(dtstart=moved)
    for d in rule.between(lo, hi, inc=True):
        day = d.date() + shift
        wall = datetime.combine(day, cal.start)
        s, e = wall_to_utc(wall, cal._zone), wall_to_utc(wall + cal.duration, cal._zone)
        if e <= s:  # start and end both inside one skipped hour: nothing left
            continue
        if merged and s <= merged[-1].end:
            p = merged[-1]
            merged[-1] = _Piece(p.start, max(p.end, e), (*p.dates, day), _ZERO, False)
        else:
            merged.append(_Piece(s, e, (day,), (e - s) - cal.duration, False))
    if not cal._closed:
        return merged
    pieces: list[_Piece] = []
    for p in merged:
        i = bisect_right(cal._closed_ends, p.start)  # first blackout ending after p starts
        s = p.start
        hit = False
        while i < len(cal._closed) and cal._closed[i][0] < p.end:
            b_start, b_end = cal._closed[i]
            if b_start > s:
                pieces.append(p._replace(start=s, end=b_start, cut=True))
            s, hit, i = max(s, b_end), True, i + 1
        if s < p.end:
            pieces.append(p._replace(start=s, cut=hit) if hit else p)
    return pieces


# Pieces only feed _bucket (and a neighbour year's join): a short memo, so memory stays with
# the buckets; 2048 buckets of a nightly calendar hold roughly 180 MB.
@lru_cache(maxsize=64)
def _year_pieces(cal: Calendar, year: int) -> tuple[_Piece, ...]:
    """The open set within UTC year ``year``, exact (clipped to the year, not stitched)."""
    if year < cal.anchor.year - 1 or year > _LAST_YEAR:
        return ()
    y0, y1 = _new_year(year), _new_year(year + 1)
    # Local dates whose window can reach into the UTC year (offsets stay under 15 h, DST under 3 h).
    first = date(year, 1, 1) - timedelta(days=cal.duration.days + 3)
    last = date(year, 12, 31) + timedelta(days=2)
    return tuple(
        p
        if y0 <= p.start and p.end <= y1
        else p._replace(start=max(p.start, y0), end=min(p.end, y1))
        for p in _occurrence_pieces(cal, first, last)
        if p.end > y0 and p.start < y1
    )


def _is_full(pieces: tuple[_Piece, ...], year: int) -> bool:
    return (
        len(pieces) == 1
        and pieces[0].start == _new_year(year)
        and pieces[0].end == _new_year(year + 1)
    )


def _join(a: _Piece, b: _Piece) -> _Piece:
    dates = tuple(sorted({*a.dates, *b.dates}))
    return _Piece(a.start, b.end, dates, a.shift if len(dates) == 1 else _ZERO, a.cut or b.cut)


@lru_cache(maxsize=2048)
def _bucket(cal: Calendar, year: int) -> _Bucket:
    """Windows meeting UTC year ``year``; one crossing new year is joined with its other half."""
    pieces = list(_year_pieces(cal, year))
    if pieces and not _is_full(_year_pieces(cal, year), year):
        if pieces[0].start == _new_year(year):
            prev = _year_pieces(cal, year - 1)
            if prev and prev[-1].end == pieces[0].start and not _is_full(prev, year - 1):
                pieces[0] = _join(prev[-1], pieces[0])
        if pieces[-1].end == _new_year(year + 1):
            nxt = _year_pieces(cal, year + 1)
            if nxt and nxt[0].start == pieces[-1].end and not _is_full(nxt, year + 1):
                pieces[-1] = _join(pieces[-1], nxt[0])
    windows = tuple(
        Window(p.start, p.end, cal.name, cal.timezone, p.dates, p.shift, p.cut) for p in pieces
    )
    boundary = _new_year(year + 1)
    # A window ending at new year may go on into the next year: count it as unbounded.
    longest = max(
        (timedelta.max if w.end == boundary else w.length for w in windows), default=_ZERO
    )
    return _Bucket([w.start for w in windows], [w.end for w in windows], windows, longest)


def _plus(t: datetime, delta: timedelta) -> datetime:
    try:
        return t + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def _walk(cal: Calendar, t: datetime, max_gap: timedelta) -> Iterator[Window]:
    """Windows ending after ``t`` in order; stops after ``max_gap`` without a window starting."""
    year, mark = t.year, t
    prev_end: datetime | None = None
    while year <= _LAST_YEAR and _new_year(year) <= _plus(mark, max_gap):
        bucket = _bucket(cal, year)
        for w in bucket.windows[bisect_right(bucket.ends, t) :]:
            if prev_end is not None and w.start < prev_end:
                continue  # the same window, seen from the previous year's bucket
            if w.start > _plus(mark, max_gap):
                return
            yield w
            prev_end = mark = w.end
        year += 1


def _open_until(cal: Calendar, w: Window, need: datetime) -> datetime:
    """End of the continuous open period starting with ``w`` (looked at only as far as needed)."""
    end = w.end
    while end < need and end.year <= _LAST_YEAR and end == _new_year(end.year):
        bucket = _bucket(cal, end.year)
        if not bucket.windows or bucket.windows[0].start != end:
            break
        end = bucket.windows[0].end
    return end


def window_at(cal: Calendar, t: datetime) -> Window | None:
    """The window open at ``t``, or None when the calendar is closed then."""
    tu = _utc(t)
    bucket = _bucket(cal, tu.year)
    i = bisect_right(bucket.starts, tu) - 1
    if i >= 0 and tu < bucket.ends[i]:
        return bucket.windows[i]
    return None


def is_open(cal: Calendar, t: datetime) -> bool:
    """Is the calendar open at ``t``?"""
    return window_at(cal, t) is not None


def next_window(
    cal: Calendar, t: datetime, *, horizon: timedelta = SEARCH_HORIZON
) -> Window | None:
    """The window open at ``t``, else the next one starting within ``horizon``; else None."""
    return next(_walk(cal, _utc(t), horizon), None)


def iter_windows(
    cal: Calendar, t: datetime, count: int, *, horizon: timedelta = SEARCH_HORIZON
) -> Iterator[Window]:
    """Up to ``count`` windows from ``next_window(t)`` on (stops after ``horizon`` with none)."""
    if count <= 0:
        return
    for n, w in enumerate(_walk(cal, _utc(t), horizon), start=1):
        yield w
        if n >= count:
            return


def windows_between(cal: Calendar, start: datetime, end: datetime) -> list[Window]:
    """Windows overlapping ``[start, end)`` (whole windows, not clipped)."""
    su, eu = _utc(start, "start"), _utc(end, "end")
    if eu <= su:
        return []
    out: list[Window] = []
    for w in _walk(cal, su, eu - su):
        if w.start >= eu:
            break
        out.append(w)
    return out


def can_start(cal: Calendar, t: datetime, duration: timedelta) -> bool:
    """Is the calendar open at ``t`` and still open (continuously) until ``t + duration``?"""
    tu, d = _utc(t), _duration(duration)
    w = window_at(cal, tu)
    return w is not None and _open_until(cal, w, tu + d) >= tu + d


def next_start(
    cal: Calendar, t: datetime, duration: timedelta, *, horizon: timedelta = START_HORIZON
) -> datetime | None:
    """Earliest instant >= ``t`` (UTC) where a job of ``duration`` starts and ends in one window.

    None when no window starting before ``t + horizon`` is long enough.
    """
    tu, d = _utc(t), _duration(duration)
    until = _plus(tu, horizon)
    year = tu.year
    # Hot path of campaign planning: plain loops over the memoised buckets, no generators.
    while year <= _LAST_YEAR and _new_year(year) <= until:
        bucket = _bucket(cal, year)
        if bucket.longest >= d:
            windows = bucket.windows
            for i in range(bisect_right(bucket.ends, tu), len(windows)):
                w = windows[i]
                if w.start > until:
                    return None
                s = w.start if w.start > tu else tu
                if s + d <= w.end or _open_until(cal, w, s + d) >= s + d:
                    return s
        year += 1
    return None
