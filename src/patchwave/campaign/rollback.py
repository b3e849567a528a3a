"""Rolling back what a campaign installed: a ring (when its gate fails and the spec says so), or
chosen hosts on request. Recorded like everything else: a job goes ``rolling_back`` before the
host is touched and ``rolled_back`` (or ``failed``, step rollback) after."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from patchwave.campaign.context import RunContext
from patchwave.campaign.crash import crashpoint
from patchwave.campaign.ledger import JobLedger
from patchwave.campaign.runs import JobRecord, load_advisories, load_jobs, update_ring
from patchwave.clock import run_async
from patchwave.domain.models import JobState
from patchwave.errors import EndpointError
from patchwave.store.audit import AuditEvent, append


def rollback_candidates(jobs: Sequence[JobRecord]) -> list[JobRecord]:
    """Jobs whose host may hold something this run installed."""
    return [
        j
        for j in jobs
        if j.state is JobState.ROLLING_BACK
        or (j.state in (JobState.SUCCEEDED, JobState.FAILED) and j.installed)
    ]


def rollback(
    ctx: RunContext,
    *,
    ring: str | None = None,
    hosts: Sequence[str] | None = None,
    actor: str,
    reason: str,
) -> dict[str, Any]:
    with ctx.store.session() as session:
        jobs = rollback_candidates(load_jobs(session, ctx.run_id, ring=ring, host_names=hosts))
        advisories = load_advisories(session, [p for j in jobs for p in j.installed])
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="rollback.requested",
                    run_id=ctx.run_id,
                    subject=ring or ",".join(hosts or ()) or "run",
                    at=ctx.clock.now(),
                    details={"reason": reason, "jobs": len(jobs)},
                )
            ],
        )
    ledger = JobLedger(
        ctx.store, ctx.run_id, now=ctx.clock.now, actor=actor, persist_clock=ctx.clock.simulated
    )
    factory = ctx.endpoints()
    limit = asyncio.Semaphore(ctx.spec.deployment.concurrency.per_campaign)
    outcome = {"rolled_back": 0, "failed": 0}

    async def one(job: JobRecord) -> None:
        async with limit:
            await ledger.transition(job, JobState.ROLLING_BACK, error=None, failed_step=None)
            patches = [advisories[p] for p in job.installed if p in advisories]
            try:
                async with factory(job.host) as ep:
                    scan = await ep.scan()
                    present = {p.id for p in patches} - {a.id for a in scan.missing}
                    if present:
                        result = await ep.rollback(
                            [p for p in patches if p.id in present], job.snapshot_id
                        )
                        crashpoint("after-rollback")
                        if not result.ok:
                            raise EndpointError(result.details or "rollback refused by the host")
            except EndpointError as exc:
                outcome["failed"] += 1
                await ledger.transition(
                    job,
                    JobState.FAILED,
                    failed_step="rollback",
                    error=f"rollback failed: {exc}",
                    finished_at=ctx.clock.now(),
                )
                return
            outcome["rolled_back"] += 1
            await ledger.transition(
                job, JobState.ROLLED_BACK, installed=[], finished_at=ctx.clock.now()
            )

    async def all_jobs() -> None:
        await asyncio.gather(*(one(j) for j in jobs))

    try:
        run_async(ctx.clock, all_jobs())
    finally:
        factory.close()
    with ctx.store.session() as session:
        if ring is not None:
            update_ring(session, ctx.run_id, ring, rolled_back=True)
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="rollback.completed",
                    run_id=ctx.run_id,
                    subject=ring or ",".join(hosts or ()) or "run",
                    at=ctx.clock.now(),
                    details=outcome,
                )
            ],
        )
    ctx.save_clock()
    return outcome
