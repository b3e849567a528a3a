"""Maintenance-window calendars as users write them (YAML/CLI), and the named ones we ship.

``CalendarSpec`` is the user-facing shape, shared by campaign specs and inventories::

    patch-tuesday-plus-3:
      rrule: "FREQ=MONTHLY;BYDAY=+2TU"   # RFC 5545 RRULE (without "RRULE:")
      offset_days: 3                     # shift each occurrence (Patch Tuesday + 3 = Friday)
      start: "22:00"                     # local wall-clock start
      duration: 4h                       # 90m, 4h, 2d, 1h30m
      timezone: Europe/Paris             # IANA zone, or "from-site" (the host's site decides)
      blackouts: ["2026-12-24/2027-01-02"]

or the shorthand ``monthly: "2nd tuesday"`` instead of ``rrule``.

Conversion to the pure ``patchwave.domain.windows.Calendar`` happens in ``to_calendar``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CalendarSpec(BaseModel):
    """A maintenance-window calendar as written in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rrule: str | None = Field(default=None, description='RFC 5545 RRULE, e.g. "FREQ=WEEKLY;BYDAY=SA"')
    monthly: str | None = Field(default=None, description='Shorthand, e.g. "2nd tuesday"')
    offset_days: int = Field(default=0, ge=-27, le=27)
    start: str = Field(description='Local start time "HH:MM"')
    duration: str = Field(description="Window length: 90m, 4h, 2d, 1h30m")
    timezone: str = Field(default="from-site", description='IANA zone or "from-site"')
    blackouts: tuple[str, ...] = Field(
        default=(), description='Closed periods: "YYYY-MM-DD/YYYY-MM-DD" or ISO datetimes'
    )
