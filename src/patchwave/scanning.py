"""Detection: scan hosts concurrently, then rank and store what they miss in bulk.

Used by ``patchwave scan``, the scheduled scan flow and a campaign's detect step. Host I/O is
bounded async; the store sees one transaction per scan with thousands of rows per statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import update

from patchwave.clock import Clock
from patchwave.credentials import CredentialError
from patchwave.domain.models import Host, KevEntry, Risk, Sla, Tenant
from patchwave.domain.risk import RiskModel
from patchwave.endpoints.base import Endpoint, ScanResult
from patchwave.errors import EndpointError, is_transient
from patchwave.store import Store
from patchwave.store.audit import AuditEvent, append
from patchwave.store.findings import (
    FindingCounts,
    chunks,
    record_findings,
    upsert_advisories,
)
from patchwave.store.tables import HostRow, ScanRow

EndpointFactory = Callable[[Host], Endpoint]
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    host: Host
    result: ScanResult | None
    error: str | None = None
    attempts: int = 1


async def _scan_one(
    host: Host,
    make_endpoint: EndpointFactory,
    sem: asyncio.Semaphore,
    retries: int,
    retry_delay: float,
) -> ScanOutcome:
    attempt = 0
    async with sem:
        while True:
            attempt += 1
            try:
                async with make_endpoint(host) as endpoint:
                    return ScanOutcome(host, await endpoint.scan(), attempts=attempt)
            except (EndpointError, CredentialError) as exc:
                if is_transient(exc) and attempt <= retries:
                    await asyncio.sleep(retry_delay * attempt)
                    continue
                return ScanOutcome(host, None, f"{type(exc).__name__}: {exc}", attempt)


async def scan_hosts(
    hosts: Sequence[Host],
    make_endpoint: EndpointFactory,
    *,
    concurrency: int = 50,
    retries: int = 2,
    retry_delay: float = 1.0,
    progress: Progress | None = None,
) -> list[ScanOutcome]:
    """Scan every host (skipping quarantined ones), retrying transient errors; never raises for a
    host: a failed scan is an outcome with its error."""
    sem = asyncio.Semaphore(max(1, concurrency))
    tasks = [
        asyncio.ensure_future(_scan_one(h, make_endpoint, sem, retries, retry_delay))
        for h in hosts
        if not h.quarantined
    ]
    outcomes: list[ScanOutcome] = []
    for fut in asyncio.as_completed(tasks):
        outcomes.append(await fut)
        if progress:
            progress(1)
    return outcomes


@dataclass(frozen=True, slots=True)
class ScanSummary:
    scan_id: int
    hosts_total: int
    hosts_ok: int
    hosts_failed: int
    findings: FindingCounts
    failures: tuple[tuple[str, str], ...]  # (host key, error)


def persist_scan(
    store: Store,
    outcomes: Sequence[ScanOutcome],
    *,
    risk_model: RiskModel,
    kev: Mapping[str, KevEntry],
    tenants: dict[str, Tenant],
    source: str,
    now: datetime | None = None,
    actor: str = "patchwave",
) -> ScanSummary:
    """Store one scan: advisories, findings (new/seen/resolved/reopened), host scan status."""
    now = now or datetime.now(UTC)
    ok = [o for o in outcomes if o.result is not None]
    failed = [o for o in outcomes if o.result is None]
    hosts_by_id: dict[int, Host] = {}
    advisories = {}
    observed: list[tuple[int, str]] = []
    for o in ok:
        assert o.host.id is not None and o.result is not None
        hosts_by_id[o.host.id] = o.host
        for adv in o.result.missing:
            advisories[adv.id] = adv
            observed.append((o.host.id, adv.id))
    kev_ids = {a.id for a in advisories.values() if any(c in kev for c in a.cves)}
    default_sla = Sla()

    def risk_of(host_id: int, advisory_id: str, first_seen: date) -> Risk:
        host = hosts_by_id[host_id]
        tenant = tenants.get(host.tenant)
        sla = tenant.sla if tenant else default_sla
        return risk_model.score(advisories[advisory_id], host, sla=sla, first_seen=first_seen)

    with store.session() as session:
        scan = ScanRow(
            started_at=now,
            finished_at=datetime.now(UTC),
            source=source,
            hosts_total=len(outcomes),
            hosts_ok=len(ok),
            hosts_failed=len(failed),
        )
        session.add(scan)
        upsert_advisories(session, advisories.values(), kev_ids=kev_ids, now=now)
        counts = record_findings(
            session,
            scanned_host_ids=list(hosts_by_id),
            observed=observed,
            risk_of=risk_of,
            now=now,
        )
        scan.findings_new = counts.new + counts.reopened
        scan.findings_resolved = counts.resolved
        scan.findings_open = counts.new + counts.reopened + counts.still_open
        for part in chunks(list(hosts_by_id)):
            session.execute(
                update(HostRow)
                .where(HostRow.id.in_(part))
                .values(last_scan_at=now, last_scan_status="ok", last_scan_error=None)
            )
        for o in failed:
            session.execute(
                update(HostRow)
                .where(HostRow.id == o.host.id)
                .values(last_scan_at=now, last_scan_status="failed", last_scan_error=o.error)
            )
        session.flush()
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="scan.completed",
                    subject=source,
                    at=now,
                    details={
                        "scan": scan.id,
                        "ok": len(ok),
                        "failed": len(failed),
                        "new": counts.new,
                        "resolved": counts.resolved,
                    },
                )
            ],
        )
        scan_id = scan.id
    return ScanSummary(
        scan_id=scan_id,
        hosts_total=len(outcomes),
        hosts_ok=len(ok),
        hosts_failed=len(failed),
        findings=counts,
        failures=tuple((o.host.key, o.error or "") for o in failed),
    )


def scan_and_store(
    store: Store,
    hosts: Sequence[Host],
    make_endpoint: EndpointFactory,
    *,
    tenants: dict[str, Tenant],
    source: str,
    clock: Clock | None = None,
    concurrency: int = 50,
    progress: Progress | None = None,
    actor: str = "patchwave",
) -> ScanSummary:
    """Scan ``hosts`` on the clock's event loop and store the outcome, ranked against the KEV
    catalogue in use: the one detection path of the CLI, the fleet-scan flow and campaigns."""
    from patchwave.clock import SystemClock, run_async
    from patchwave.feeds.kev import load_kev

    clock = clock or SystemClock()
    outcomes = run_async(
        clock, scan_hosts(hosts, make_endpoint, concurrency=concurrency, progress=progress)
    )
    kev = load_kev()
    return persist_scan(
        store,
        outcomes,
        risk_model=RiskModel(kev),
        kev=kev,
        tenants=tenants,
        source=source,
        now=clock.now(),
        actor=actor,
    )
