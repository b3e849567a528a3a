"""Campaign steps, Prefect-free: each function does one step of a run against the store and the
hosts. The Prefect tasks in ``tasks/campaign.py`` wrap them one to one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from patchwave.campaign.cancel import cancel_reason, throttled
from patchwave.campaign.context import RunContext, resolve_campaign_path
from patchwave.campaign.crash import crashpoint
from patchwave.campaign.engine import Policy, Slots, WaveResult, WaveRunner
from patchwave.campaign.ledger import JobLedger
from patchwave.campaign.plan import plan_campaign
from patchwave.campaign.runs import (
    FINAL_RUN_STATES,
    JobRecord,
    create_run,
    duration_history,
    gather_candidates,
    get_run,
    iso,
    job_counts,
    load_advisories,
    load_jobs,
    persist_plan,
    ring_state,
    update_ring,
    update_summary,
)
from patchwave.clock import make_clock, run_async
from patchwave.domain.gates import GateDecision, RingCounts, evaluate_gate
from patchwave.domain.models import JobState
from patchwave.scanning import ScanSummary, scan_and_store
from patchwave.spec import load_campaign, spec_hash
from patchwave.store import Store, open_store
from patchwave.store.audit import AuditEvent, append
from patchwave.store.inventory_repo import load_tenants
from patchwave.store.tables import CampaignRunRow, HostJobRow


def start_run(
    *,
    campaign: str,
    run_id: str | None,
    requested_by: str | None,
    dry_run: bool,
    clock_kind: str,
    start_at: datetime | None,
    params: dict[str, Any],
    flow_run_id: str | None,
    store: Store | None = None,
) -> str:
    """Create a run (or pick up an existing one to resume) and mark it running."""
    store = store or open_store()
    if run_id is not None:
        with store.session() as session:
            run = get_run(session, run_id)
            resumed = run.status not in ("planned",)
            # A run that failed on an unexpected error is resumable once the cause is fixed; a
            # decided outcome (completed, halted, rejected, expired, cancelled) is final.
            if run.status in FINAL_RUN_STATES and run.status != "failed":
                return run_id
            run.status = "running"
            run.error = None
            run.finished_at = None
            run.flow_run_id = flow_run_id or run.flow_run_id
            run.started_at = run.started_at or datetime.now(UTC)
            clock_now = run.clock or datetime.now(UTC)
            append(
                session,
                [
                    AuditEvent(
                        actor=run.requested_by,
                        action="run.resumed" if resumed else "run.started",
                        run_id=run_id,
                        subject=run.campaign,
                        at=clock_now,
                        details={"flow_run_id": flow_run_id},
                    )
                ],
            )
        return run_id
    path = resolve_campaign_path(campaign)
    spec = load_campaign(path)
    clock = make_clock(clock_kind, start_at)
    now = clock.now()
    with store.session() as session:
        new_id = create_run(
            session,
            spec=spec,
            spec_hash=spec_hash(spec),
            spec_path=str(path),
            requested_by=requested_by or spec.owner,
            dry_run=dry_run,
            clock_kind=clock_kind,
            params=params,
            now=now,
        )
        run = get_run(session, new_id)
        run.status = "running"
        run.started_at = now
        run.flow_run_id = flow_run_id
        append(
            session,
            [
                AuditEvent(
                    actor=run.requested_by,
                    action="run.started",
                    run_id=new_id,
                    subject=spec.name,
                    at=now,
                    details={"flow_run_id": flow_run_id},
                )
            ],
        )
    return new_id


def run_status(run_id: str, store: Store | None = None) -> tuple[str, dict[str, Any], bool]:
    store = store or open_store()
    with store.session() as session:
        run = get_run(session, run_id)
        return run.status, dict(run.summary or {}), run.dry_run


def set_status(ctx: RunContext, status: str, *, error: str | None = None) -> None:
    with ctx.store.session() as session:
        run = get_run(session, ctx.run_id)
        run.status = status
        if error is not None:
            run.error = error[:4000]
        if status in FINAL_RUN_STATES or (status == "planned" and run.dry_run):
            run.finished_at = ctx.clock.now()
            counts = job_counts(session, ctx.run_id)
            update_summary(session, ctx.run_id, totals=counts)
            append(
                session,
                [
                    AuditEvent(
                        actor="patchwave",
                        action="run.finished",
                        run_id=ctx.run_id,
                        subject=run.campaign,
                        at=ctx.clock.now(),
                        details={"status": status, "jobs": counts, "error": error},
                    )
                ],
            )


def _scan(ctx: RunContext, hosts: list[Any], tenants: Any, *, source: str) -> ScanSummary:
    factory = ctx.endpoints()
    try:
        return scan_and_store(
            ctx.store,
            hosts,
            factory,
            tenants=tenants,
            source=source,
            clock=ctx.clock,
            concurrency=max(50, ctx.spec.deployment.concurrency.per_campaign),
        )
    finally:
        factory.close()


def detect(ctx: RunContext) -> dict[str, Any]:
    """Scan every host in the campaign's scope and store ranked findings (campaign clock)."""
    spec = ctx.spec
    with ctx.store.session() as session:
        candidates = gather_candidates(session, spec)
        tenants = load_tenants(session)
    hosts = [c.host for c in candidates if not c.host.quarantined and spec.scope.matches(c.host)]
    summary = _scan(ctx, hosts, tenants, source=f"campaign:{ctx.run_id}")
    with ctx.store.session() as session:
        update_summary(
            session,
            ctx.run_id,
            detected_at=iso(ctx.clock.now()),
            scope_hosts=len(hosts),
            scan_failed=summary.hosts_failed,
        )
        append(
            session,
            [
                AuditEvent(
                    actor="patchwave",
                    action="detect.completed",
                    run_id=ctx.run_id,
                    at=ctx.clock.now(),
                    details={
                        "hosts": len(hosts),
                        "failed": summary.hosts_failed,
                        "new": summary.findings.new,
                    },
                )
            ],
        )
    ctx.save_clock()
    crashpoint("after-detect")
    return {"hosts": len(hosts), "failed": [list(f) for f in summary.failures]}


def plan(ctx: RunContext) -> dict[str, Any]:
    """Plan rings and waves from the findings and persist one host job per host."""
    with ctx.store.session() as session:
        existing = job_counts(session, ctx.run_id)
        if existing:
            return {"jobs": sum(existing.values()), "replanned": False}
        candidates = gather_candidates(session, ctx.spec)
        history = duration_history(session)
        run = get_run(session, ctx.run_id)
        requested_by = run.requested_by
        unscanned = _unscanned(session, candidates, since=run.started_at)
    resolver = ctx.calendars()
    the_plan = plan_campaign(
        ctx.spec, candidates, calendar_for=resolver, start=ctx.clock.now(), history=history
    )
    # A host in scope whose detection scan failed and that has no stored findings would look
    # compliant: it becomes a skipped job with the scan's error instead, never left out silently.
    # (One with older findings is planned; the engine then meets its error host by host.)
    planned = {j.host.key for j in the_plan.jobs} | {h.key for h, _ in the_plan.unassigned}
    blind = [
        (h, f"not patched: its detection scan failed ({err})")
        for h, err in unscanned
        if h.key not in planned and not h.quarantined and ctx.spec.scope.matches(h)
    ]
    if blind:
        keys = {h.key for h, _ in blind}
        the_plan = replace(
            the_plan,
            unassigned=the_plan.unassigned + tuple(blind),
            compliant=tuple(h for h in the_plan.compliant if h.key not in keys),
        )
    with ctx.store.session() as session:
        persist_plan(
            session, run_id=ctx.run_id, plan=the_plan, now=ctx.clock.now(), actor=requested_by
        )
        for ring in the_plan.rings:
            update_ring(session, ctx.run_id, ring.name, hosts=len(ring.jobs), waves=ring.waves)
        update_summary(
            session,
            ctx.run_id,
            planned_at=iso(ctx.clock.now()),
            hosts_with_patches=len(the_plan.jobs),
            hosts_compliant_at_start=len(the_plan.compliant),
            unassigned=len(the_plan.unassigned),
            unschedulable=list(the_plan.unschedulable)[:50],
        )
    crashpoint("after-plan")
    return {
        "jobs": len(the_plan.jobs),
        "replanned": True,
        "rings": {r.name: len(r.jobs) for r in the_plan.rings},
    }


def _unscanned(
    session: Any, candidates: list[Any], *, since: datetime | None
) -> list[tuple[Any, str]]:
    """In-scope hosts whose latest scan (this run's detection) failed, with the error."""
    from patchwave.store.tables import HostRow

    by_id = {c.host.id: c.host for c in candidates}
    stmt = select(HostRow.id, HostRow.last_scan_error, HostRow.last_scan_at).where(
        HostRow.last_scan_status == "failed"
    )
    return [
        (by_id[hid], err or "unknown error")
        for hid, err, at in session.execute(stmt)
        if hid in by_id and (since is None or (at is not None and at >= since))
    ]


def deploy_wave(ctx: RunContext, ring_name: str, wave: int, on_change: Any = None) -> WaveResult:
    """Run one wave of a ring on the campaign clock."""
    with ctx.store.session() as session:
        jobs = load_jobs(session, ctx.run_id, ring=ring_name, wave=wave)
        advisories = load_advisories(session, [p for j in jobs for p in j.patches])
        update_ring(session, ctx.run_id, ring_name, status="deploying")
        run = get_run(session, ctx.run_id)
        ring_started = ring_state(run, ring_name).get("started_at")
        if ring_started is None:
            update_ring(session, ctx.run_id, ring_name, started_at=iso(ctx.clock.now()))
            append(
                session,
                [
                    AuditEvent(
                        actor="patchwave",
                        action="ring.started",
                        run_id=ctx.run_id,
                        subject=ring_name,
                        at=ctx.clock.now(),
                        details={"hosts": len(jobs)},
                    )
                ],
            )
    resolver = ctx.calendars()
    calendars = {j.calendar: resolver.by_key(j.calendar) for j in jobs if j.calendar}
    policy = Policy.from_spec(ctx.spec)
    ledger = JobLedger(ctx.store, ctx.run_id, now=ctx.clock.now, persist_clock=ctx.clock.simulated)
    factory = ctx.endpoints()

    async def _run() -> WaveResult:
        runner = WaveRunner(
            stop=throttled(lambda: cancel_reason(ctx.run_id, ctx.store)),
            jobs=jobs,
            advisories=advisories,
            calendars=calendars,
            endpoint=factory,
            policy=policy,
            clock=ctx.clock,
            ledger=ledger,
            slots=Slots(policy),
            on_change=on_change,
        )
        return await runner.run()

    try:
        result: WaveResult = run_async(ctx.clock, _run())
    finally:
        factory.close()
    ctx.save_clock()
    return result


def verify_ring(ctx: RunContext, ring_name: str) -> dict[str, Any]:
    """Re-scan the ring's hosts so findings reflect what is really installed now."""
    with ctx.store.session() as session:
        jobs = load_jobs(session, ctx.run_id, ring=ring_name)
        tenants = load_tenants(session)
    hosts = [j.host for j in jobs if j.state is not JobState.SKIPPED]
    summary = _scan(ctx, hosts, tenants, source=f"campaign:{ctx.run_id}:verify")
    ctx.save_clock()
    crashpoint("after-verify")
    return {
        "hosts": len(hosts),
        "resolved": summary.findings.resolved,
        "failed": summary.hosts_failed,
    }


def health_checks(ctx: RunContext, ring_name: str) -> list[str]:
    """Run the ring gate's health checks on its patched hosts; returns "host: check: why"."""
    checks = tuple(ctx.spec.ring_named(ring_name).gate.health_checks)
    if not checks:
        return []
    with ctx.store.session() as session:
        jobs = [
            j
            for j in load_jobs(session, ctx.run_id, ring=ring_name)
            if j.state is JobState.SUCCEEDED
        ]
    factory = ctx.endpoints()

    async def one(job: JobRecord) -> list[str]:
        try:
            async with factory(job.host) as ep:
                result = await ep.postcheck(checks)
        except Exception as exc:  # noqa: BLE001 - an unreachable host fails its health check
            return [f"{job.host.key}: unreachable: {exc}"]
        return [f"{job.host.key}: {k}: {v}" for k, v in result.failures.items()]

    async def all_checks() -> list[str]:
        import asyncio

        sem = asyncio.Semaphore(ctx.spec.deployment.concurrency.per_campaign)

        async def bounded(job: JobRecord) -> list[str]:
            async with sem:
                return await one(job)

        results = await asyncio.gather(*(bounded(j) for j in jobs))
        return [line for r in results for line in r]

    try:
        failures: list[str] = run_async(ctx.clock, all_checks())
    finally:
        factory.close()
    return failures


def gate(
    ctx: RunContext, ring_name: str, *, health_failures: list[str], wave_aborted: bool
) -> GateDecision:
    ring = ctx.spec.ring_named(ring_name)
    with ctx.store.session() as session:
        counts = job_counts(session, ctx.run_id, ring=ring_name)
        rc = RingCounts(
            succeeded=counts.get("succeeded", 0),
            failed=counts.get("failed", 0),
            skipped=counts.get("skipped", 0),
            rolled_back=counts.get("rolled_back", 0),
        )
        decision = evaluate_gate(
            rc,
            min_success_rate=ring.gate.min_success_rate,
            max_failures=ring.gate.max_failures,
            health_failures=health_failures,
            wave_aborted=wave_aborted,
        )
        update_ring(
            session,
            ctx.run_id,
            ring_name,
            finished_at=iso(ctx.clock.now()),
            status="promoted" if decision.promote else "halted",
            gate={
                "promote": decision.promote,
                "success_rate": decision.success_rate,
                "succeeded": rc.succeeded,
                "failed": rc.failed,
                "skipped": rc.skipped,
                "reasons": list(decision.reasons),
                "health_failures": health_failures[:50],
            },
        )
        append(
            session,
            [
                AuditEvent(
                    actor="patchwave",
                    action="ring.gate",
                    run_id=ctx.run_id,
                    subject=ring_name,
                    at=ctx.clock.now(),
                    details={
                        "promote": decision.promote,
                        "success_rate": round(decision.success_rate, 4),
                        "reasons": list(decision.reasons),
                    },
                )
            ],
        )
    crashpoint("after-gate")
    return decision


def current_runs(store: Store | None = None, limit: int = 20) -> list[CampaignRunRow]:
    store = store or open_store()
    with store.session() as session:
        return list(
            session.scalars(
                select(CampaignRunRow).order_by(CampaignRunRow.created_at.desc()).limit(limit)
            )
        )


def set_ring(ctx: RunContext, ring: str, **values: Any) -> None:
    with ctx.store.session() as session:
        update_ring(session, ctx.run_id, ring, **values)


def wave_size(ctx: RunContext, ring: str, wave: int) -> int:
    """How many host jobs a wave holds (a count: the wave task loads the jobs itself)."""
    with ctx.store.session() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    HostJobRow.run_id == ctx.run_id,
                    HostJobRow.ring == ring,
                    HostJobRow.wave == wave,
                )
            )
            or 0
        )


def record_event(
    ctx: RunContext,
    action: str,
    *,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An audit event of the run at the campaign clock's time."""
    with ctx.store.session() as session:
        append(
            session,
            [
                AuditEvent(
                    actor="patchwave",
                    action=action,
                    run_id=ctx.run_id,
                    subject=subject,
                    at=ctx.clock.now(),
                    details=details or {},
                )
            ],
        )
