"""Detection on the simulated fleet into the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from patchwave.domain.models import Advisory, Host
from patchwave.domain.risk import RiskModel
from patchwave.endpoints.factory import EndpointFactory
from patchwave.endpoints.simulated import SimProfile
from patchwave.feeds.kev import load_kev
from patchwave.fleetgen import generate_fleet
from patchwave.inventory import load_inventory
from patchwave.scanning import ScanSummary, persist_scan, scan_hosts
from patchwave.store import Store
from patchwave.store.findings import query_findings
from patchwave.store.inventory_repo import apply_inventory, list_hosts, load_tenants
from patchwave.store.tables import FindingRow, HostRow

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _import_fleet(store: Store, tmp_path: Path, hosts: int = 60) -> None:
    path = tmp_path / "fleet.csv"
    generate_fleet(hosts=hosts, tenants=3, seed=11).write_csv(path)
    with store.session() as s:
        apply_inventory(s, load_inventory(path))


def _scan(store: Store, factory: EndpointFactory, now: datetime) -> ScanSummary:
    with store.session() as s:
        hosts = list_hosts(s)
        tenants = load_tenants(s)
    outcomes = asyncio.run(scan_hosts(hosts, factory, retry_delay=0))
    kev = load_kev()
    return persist_scan(
        store, outcomes, risk_model=RiskModel(kev), kev=kev, tenants=tenants, source="test", now=now
    )


def test_scan_ranks_and_reconciles(store: Store, tmp_path: Path) -> None:
    _import_fleet(store, tmp_path)
    factory = EndpointFactory(sim_profile=SimProfile.reliable(), latency_scale=0)
    first = _scan(store, factory, T0)
    assert first.hosts_ok == 60 and first.hosts_failed == 0
    with store.session() as s:
        ranked = query_findings(s)
    assert len(ranked) == first.findings.new > 600
    keys = [(f.tier, -f.score, f.deadline) for f in ranked]
    assert keys == sorted(keys)  # ranked by tier, then score, then deadline
    assert all(f.reasons for f in ranked if f.tier in ("P1", "P2"))
    assert any(f.kev for f in ranked)

    # Patch one host out-of-band: its findings resolve on the next scan, nothing else moves.
    victim = ranked[0]
    with store.session() as s:
        host = next(h for h in list_hosts(s) if h.id == victim.host_id)
    fixed = list(factory.fleet.current_missing(host))
    asyncio.run(_install(factory, host, fixed))
    second = _scan(store, factory, T0 + timedelta(days=1))
    assert second.findings.resolved == len(fixed)
    assert second.findings.new == 0
    with store.session() as s:
        left = s.scalar(
            select(func.count()).where(
                FindingRow.host_id == victim.host_id, FindingRow.status == "open"
            )
        )
        assert left == 0
        # first_seen stays from the first scan for findings still open: deadlines do not slide.
        still = query_findings(s)
        assert all(f.first_seen == T0 for f in still)

    # A rollback brings them back: reopened, not duplicated.
    asyncio.run(_rollback(factory, host, fixed))
    third = _scan(store, factory, T0 + timedelta(days=2))
    assert third.findings.reopened == len(fixed)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(FindingRow)) == first.findings.new


async def _install(factory: EndpointFactory, host: Host, patches: list[Advisory]) -> None:
    async with factory(host) as ep:
        await ep.install(patches)


async def _rollback(factory: EndpointFactory, host: Host, patches: list[Advisory]) -> None:
    async with factory(host) as ep:
        await ep.rollback(patches, None)


def test_failed_scan_keeps_findings_and_records_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(
        "tenant,site,name,os_family,os_version,tags\n"
        "acme,paris,ok1,debian,12,sim:clean\n"
        "acme,paris,down1,windows,Server 2022,sim:unreachable\n"
        "acme,paris,flaky1,windows,Server 2022,sim:flaky-scan\n"
        "acme,paris,odd1,beos,5,\n"
    )
    with store.session() as s:
        apply_inventory(s, load_inventory(path))
    factory = EndpointFactory(latency_scale=0)
    summary = _scan(store, factory, T0)
    # The quarantined host is not scanned; the flaky one succeeds on retry.
    assert summary.hosts_total == 3 and summary.hosts_failed == 1
    assert summary.failures[0][0] == "acme/down1"
    with store.session() as s:
        rows = {h.name: h for h in s.scalars(select(HostRow))}
    assert rows["down1"].last_scan_status == "failed"
    assert "HostUnreachable" in (rows["down1"].last_scan_error or "")
    assert rows["flaky1"].last_scan_status == "ok"
    assert rows["odd1"].last_scan_status is None
