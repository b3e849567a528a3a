"""``patchwave windows show`` through typer's CliRunner."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import patchwave.cli.windows  # noqa: F401  (registers the command on app)
from patchwave.cli.common import app

# Wide enough that rich does not wrap table cells.
runner = CliRunner(env={"COLUMNS": "200"})


def show(*args: str) -> Any:
    return runner.invoke(app, ["windows", "show", *args])


def show_json(*args: str) -> dict[str, Any]:
    result = show(*args, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_json_lists_windows_in_local_time_and_utc() -> None:
    doc = show_json("patch-tuesday-plus-3", "--tz", "Europe/Paris", "--from", "2026-10-01",
                    "--count", "2")  # fmt: skip
    assert (doc["calendar"], doc["timezone"]) == ("patch-tuesday-plus-3", "Europe/Paris")
    assert doc["from"] == "2026-09-30T22:00:00Z"  # local midnight, CEST
    oct_, nov = doc["windows"]
    assert oct_ == {
        "n": 1,
        "local_start": "2026-10-16T22:00:00+02:00",
        "local_end": "2026-10-17T02:00:00+02:00",
        "utc_start": "2026-10-16T20:00:00Z",
        "utc_end": "2026-10-17T00:00:00Z",
        "length_minutes": 240,
        "notes": [],
    }
    assert (nov["local_start"], nov["utc_start"], nov["utc_end"]) == (
        "2026-11-13T22:00:00+01:00",
        "2026-11-13T21:00:00Z",
        "2026-11-14T01:00:00Z",
    )


def test_table_shows_dst_notes() -> None:
    result = show("FREQ=DAILY 01:30 2h America/New_York", "--from", "2025-03-08", "--count", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Sun 2025-03-09 01:30 EST" in out and "Sun 03:30 EDT" in out
    assert "2025-03-09 06:30Z" in out and "2025-03-09 07:30Z" in out
    assert "DST: 1h shorter" in out


def test_naive_from_is_in_the_calendar_zone_and_aware_from_is_kept() -> None:
    naive = show_json("FREQ=DAILY 01:30 2h Asia/Tokyo", "--from", "2026-05-01T02:00", "-n", "1")
    assert naive["from"] == "2026-04-30T17:00:00Z"
    assert naive["windows"][0]["utc_start"] == "2026-04-30T16:30:00Z"  # the open window
    aware = show_json("FREQ=DAILY 01:30 2h Asia/Tokyo", "--from", "2026-05-01T02:00Z", "-n", "1")
    assert aware["from"] == "2026-05-01T02:00:00Z"
    assert aware["windows"][0]["utc_start"] == "2026-05-01T16:30:00Z"


def test_always_open_calendar_is_one_window_per_utc_year() -> None:
    doc = show_json("always", "--tz", "UTC", "--from", "2026-06-01", "-n", "2")
    assert [w["utc_start"] for w in doc["windows"]] == ["2026-01-01T00:00:00Z",
                                                         "2027-01-01T00:00:00Z"]  # fmt: skip


def test_default_from_is_now() -> None:
    doc = show_json("always", "--tz", "UTC", "-n", "1")
    assert doc["windows"][0]["length_minutes"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["weekend-night"], 'unknown calendar "weekend-night"'),
        (["weekend-nights"], "pass --tz ZONE"),
        (["weekend-nights", "--tz", "Mars/Base"], 'timezone "Mars/Base"'),
        (["weekend-nights", "--tz", "UTC", "--from", "next week"], '--from "next week": expected'),
        (["2nd tuesday 22:00 4 hours UTC"], 'calendar "2nd tuesday 22:00 4 hours UTC"'),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = show(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_count_must_be_positive() -> None:
    result = show("always", "--tz", "UTC", "--count", "0")
    assert result.exit_code == 2
