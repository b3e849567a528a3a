"""How reports write numbers, shares, durations and times: with units, in the reader's zone."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patchwave.errors import UserError

DASH = "—"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """An IANA zone; a UserError naming the zone when the store holds a bad one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(
            f"time zone {name!r} (tenants.timezone) is not an IANA zone such as Europe/Paris; "
            "fix it in the inventory and import it again"
        ) from exc


def number(value: int | float | None) -> str:
    """12,345 (thousands separated); a dash for no value."""
    if value is None:
        return DASH
    return f"{value:,.0f}" if isinstance(value, int) or float(value).is_integer() else f"{value:,}"


def pct(value: float | None, digits: int = 1) -> str:
    """A 0..1 share as "97.5 %"; whole numbers lose the decimals ("100 %")."""
    if value is None:
        return DASH
    shown = round(value * 100, digits)
    return f"{shown:.0f} %" if float(shown).is_integer() else f"{shown:.{digits}f} %"


def hours(value: float | None) -> str:
    """A duration in hours, in the unit a person would say: "40 min", "5.5 h", "12.3 days"."""
    if value is None:
        return DASH
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{number(count)} {word if count == 1 else (many or word + 's')}"


def local(value: datetime | None, tz: str, fmt: str = "%d %b %Y %H:%M") -> str:
    """A UTC instant as wall-clock time in ``tz`` with the zone's abbreviation."""
    if value is None:
        return DASH
    here = value.astimezone(zone(tz))
    return f"{here.strftime(fmt)} {here.tzname() or tz}"


def local_date(value: datetime | date | None, tz: str) -> str:
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = value.astimezone(zone(tz)).date()
    return value.strftime("%d %b %Y")


def local_time(value: datetime | None, tz: str) -> str:
    return local(value, tz, "%d %b %H:%M")


def period(start: datetime | None, end: datetime | None, tz: str) -> str:
    """ "12 Nov 2026 22:00 – 14 Nov 2026 03:10 CET" (one zone name when both share it)."""
    if start is None:
        return DASH
    first = local(start, tz)
    if end is None:
        return f"{first} – (running)"
    last = local(end, tz)
    a, _, za = first.rpartition(" ")
    b, _, zb = last.rpartition(" ")
    if za == zb and start.astimezone(zone(tz)).date() == end.astimezone(zone(tz)).date():
        return f"{a} – {b.rsplit(' ', 1)[1]} {za}"
    return f"{a} – {last}" if za == zb else f"{first} – {last}"


def jsonable(value: Any) -> Any:
    """Dataclass dicts made JSON-ready: ISO 8601 times, no NaN."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


FILTERS = {
    "number": number,
    "pct": pct,
    "hours": hours,
    "plural": plural,
    "local": local,
    "local_date": local_date,
    "local_time": local_time,
}
GLOBALS = {"period": period}
