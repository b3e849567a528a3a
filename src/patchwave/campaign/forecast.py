"""Forecasts: a campaign planned from stored findings without touching a host, a ring
re-forecast from now (approvals may take days), and a ceiling for a wave task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from patchwave.campaign.context import RunContext, resolve_campaign_path
from patchwave.campaign.plan import plan_campaign
from patchwave.campaign.runs import duration_history, gather_candidates, load_jobs
from patchwave.domain.models import JobState
from patchwave.spec import load_campaign
from patchwave.store import Store, open_store
from patchwave.store.bulk import bulk_update
from patchwave.store.inventory_repo import load_tenants
from patchwave.store.tables import HostJobRow


def forecast(spec_ref: str, *, start: datetime | None = None, store: Store | None = None) -> Any:
    """Plan a campaign from the findings already in the store, touching no host."""
    from patchwave.campaign.context import CalendarResolverCache
    from patchwave.store.inventory_repo import load_calendars, load_sites

    store = store or open_store()
    spec = load_campaign(resolve_campaign_path(spec_ref))
    with store.session() as session:
        candidates = gather_candidates(session, spec)
        history = duration_history(session)
        extra = {**load_calendars(session), **spec.calendars}
        resolver = CalendarResolverCache(spec, extra, load_sites(session), load_tenants(session))
    return spec, plan_campaign(
        spec, candidates, calendar_for=resolver, start=start or datetime.now(UTC), history=history
    )


def wave_timeout_seconds(ctx: RunContext, ring: str, wave: int) -> int:
    """A ceiling for one wave task: until the latest forecast finish of its hosts (windows
    included), plus two host timeouts and six hours of slack; one hour of real time on the
    simulated clock. Per-host timeouts inside the wave are the real limits; this only stops a
    wave task that hangs."""
    if ctx.clock.simulated:
        return 3600
    with ctx.store.session() as session:
        latest = session.scalar(
            select(func.max(HostJobRow.planned_end)).where(
                HostJobRow.run_id == ctx.run_id, HostJobRow.ring == ring, HostJobRow.wave == wave
            )
        )
    horizon = max(0.0, (latest - ctx.clock.now()).total_seconds()) if latest else 0.0
    slack = 2 * ctx.spec.deployment.host_timeout.total_seconds() + 6 * 3600
    return int(horizon + slack)


def refresh_forecast(ctx: RunContext, ring: str) -> datetime | None:
    """Re-forecast a ring's approved jobs from now (approvals may have taken days since the
    plan) and store it; returns when the ring's first host should start."""
    from patchwave.campaign.plan import PlannedJob, RingPlan, forecast_ring
    from patchwave.domain.models import Tier

    with ctx.store.session() as session:
        jobs = [
            j for j in load_jobs(session, ctx.run_id, ring=ring) if j.state is JobState.APPROVED
        ]
    if not jobs:
        return None
    resolver = ctx.calendars()
    planned = tuple(
        PlannedJob(
            host=j.host,
            ring=ring,
            ring_index=j.ring_index,
            wave=j.wave,
            patches=j.patches,
            top_tier=Tier.P4,
            top_score=0,
            kev=False,
            reboot_expected=j.reboot_required,
            est_seconds=j.est_seconds,
            calendar=resolver.by_key(j.calendar) if j.calendar else None,
        )
        for j in jobs
    )
    ring_plan = RingPlan(ring, jobs[0].ring_index, planned, 0, "")
    forecast, _, _ = forecast_ring(ctx.spec, ring_plan, ctx.clock.now())
    ids = {j.host.key: j.id for j in jobs}
    rows = [
        {"id": ids[p.host.key], "planned_start": p.planned_start, "planned_end": p.planned_end}
        for p in forecast.jobs
    ]
    with ctx.store.session() as session:
        bulk_update(session, HostJobRow.__table__, rows, key="id")
    starts = [p.planned_start for p in forecast.jobs if p.planned_start]
    return min(starts) if starts else None
