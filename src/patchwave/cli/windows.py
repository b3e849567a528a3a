"""``patchwave windows show``: the next maintenance windows of a calendar, local and UTC."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from patchwave.calendars import CalendarSpec, resolve_calendar
from patchwave.cli.common import app, console, handle_errors
from patchwave.domain.windows import Window, format_duration, iter_windows, wall_to_utc, zone
from patchwave.errors import UserError

windows_app = typer.Typer(
    help="Maintenance windows: when hosts may be patched.", no_args_is_help=True
)
app.add_typer(windows_app, name="windows")

_FROM_HELP = (
    "Start here: ISO date or date-time (2026-11-01, 2026-11-01T08:00, 2026-11-01T08:00+01:00); "
    "without an offset it is in the calendar's zone. Default: now."
)


def _extra_calendars() -> Mapping[str, CalendarSpec]:
    """Named calendars defined by imported inventories (shipped ones are always known)."""
    from patchwave.settings import get_settings
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import load_calendars

    # A fresh machine with no database yet has no inventory calendars: do not create one here.
    settings = get_settings()
    if settings.database_url is None and not (settings.home / "patchwave.db").exists():
        return {}
    with open_store().session() as session:
        return load_calendars(session)


def _parse_from(text: str | None, tz_name: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f'--from "{text}": expected an ISO date or date-time such as 2026-11-01, '
            "2026-11-01T08:00 or 2026-11-01T08:00+01:00"
        ) from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    if len(text.strip()) == 10:  # a date: local midnight
        parsed = datetime.combine(parsed.date(), time())
    return wall_to_utc(parsed, zone(tz_name))


def _local(t: datetime, since: datetime | None = None) -> str:
    if since is not None and timedelta(0) <= t - since < timedelta(days=6):
        return t.strftime("%a %H:%M %Z")  # the weekday is unambiguous within the week
    return t.strftime("%a %Y-%m-%d %H:%M %Z")


def _utc(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%MZ")


def _row(n: int, w: Window) -> dict[str, Any]:
    return {
        "n": n,
        "local_start": w.local_start().isoformat(),
        "local_end": w.local_end().isoformat(),
        "utc_start": w.start.isoformat().replace("+00:00", "Z"),
        "utc_end": w.end.isoformat().replace("+00:00", "Z"),
        "length_minutes": int(w.length.total_seconds() // 60),
        "notes": list(w.notes()),
    }


@windows_app.command("show")
@handle_errors
def show(
    calendar: Annotated[
        str,
        typer.Argument(
            help="A calendar name (e.g. patch-tuesday-plus-3) or an inline rule such as "
            '"2nd tuesday +3 22:00 4h Europe/Paris".'
        ),
    ],
    from_: Annotated[str | None, typer.Option("--from", help=_FROM_HELP)] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=1000, help="How many.")] = 5,
    tz: Annotated[
        str | None, typer.Option("--tz", help='Zone for calendars whose timezone is "from-site".')
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the next windows of CALENDAR in its local time and in UTC."""
    cal = resolve_calendar(calendar, extra=_extra_calendars(), timezone=tz)
    start = _parse_from(from_, cal.timezone)
    windows = list(iter_windows(cal, start, count))
    if as_json:
        doc = {
            "calendar": cal.name,
            "timezone": cal.timezone,
            "from": start.isoformat().replace("+00:00", "Z"),
            "windows": [_row(n, w) for n, w in enumerate(windows, start=1)],
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    if not windows:
        console.print(f"{cal.name}: no window in the next 10 years after {_utc(start)}")
        return
    table = Table(title=f"{cal.name} ({cal.timezone}) from {_utc(start)}")
    for col in ("#", "local start", "local end", "UTC start", "UTC end", "length", "note"):
        table.add_column(col, overflow="fold")
    for n, w in enumerate(windows, start=1):
        table.add_row(
            str(n),
            _local(w.local_start()),
            _local(w.local_end(), since=w.local_start()),
            _utc(w.start),
            _utc(w.end),
            format_duration(w.length),
            ", ".join(w.notes()),
        )
    console.print(table)
