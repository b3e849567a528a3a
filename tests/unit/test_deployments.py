"""prefect.yaml: the monthly schedule really is "2nd Tuesday + 3 days, 22:00 Europe/Paris", and
every deployment's entrypoint and parameters match its flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from patchwave.calendars import resolve_calendar
from patchwave.deployments import load_deployments, load_flow, schedule_objects
from patchwave.domain.windows import iter_windows

PARIS = ZoneInfo("Europe/Paris")


def test_monthly_schedule_matches_the_patch_tuesday_plus_3_calendar() -> None:
    monthly = next(d for d in load_deployments() if d.name == "monthly-security")
    [schedule] = monthly.schedules
    assert schedule["timezone"] == "Europe/Paris"
    rule = rrulestr(schedule["rrule"])
    runs = [
        dt.replace(tzinfo=PARIS) for dt in rule.between(datetime(2026, 1, 1), datetime(2028, 1, 1))
    ]
    calendar = resolve_calendar("patch-tuesday-plus-3", timezone="Europe/Paris")
    windows = list(iter_windows(calendar, datetime(2026, 1, 1, tzinfo=UTC), 24))
    assert [r.astimezone(UTC) for r in runs] == [w.start for w in windows]
    for run in runs:
        second_tuesday = run - timedelta(days=3)
        assert second_tuesday.weekday() == 1 and 8 <= second_tuesday.day <= 14
        assert (run.hour, run.minute) == (22, 0)


def test_every_deployment_points_at_a_flow_with_those_parameters() -> None:
    defs = load_deployments()
    assert {d.name for d in defs} == {
        "monthly-security",
        "emergency-kev",
        "daily-scan",
        "monthly-report",
    }
    for d in defs:
        flow = load_flow(d.entrypoint)
        accepted = set(flow.parameters.properties)
        assert set(d.parameters) <= accepted, (d.name, set(d.parameters) - accepted)
        schedule_objects(d)  # every schedule is one Prefect accepts
