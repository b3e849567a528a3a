"""Scan and rank a simulated fleet end to end: inventory import, scan, risk scoring, bulk store
writes, ranked read-back. Target (issue 2): 10,000 hosts x ~20 findings under 10 s, < 1 GiB.

usage: python bench/bench_scan_rank.py [--hosts 10000] [--tenants 25] [--db URL]
(default database: a fresh SQLite file in a temporary folder; pass a PostgreSQL URL to compare)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-"))
    os.environ["PATCHWAVE_HOME"] = str(tmp)
    os.environ["PATCHWAVE_SIM_LATENCY_SCALE"] = "0"
    t_start = time.perf_counter()

    from patchwave.domain.risk import RiskModel
    from patchwave.endpoints.factory import EndpointFactory
    from patchwave.endpoints.simulated import SimProfile
    from patchwave.feeds.kev import load_kev
    from patchwave.fleetgen import generate_fleet
    from patchwave.inventory import load_inventory
    from patchwave.scanning import persist_scan, scan_hosts
    from patchwave.store import open_store
    from patchwave.store.findings import query_findings
    from patchwave.store.inventory_repo import apply_inventory, list_hosts, load_tenants

    t_import = time.perf_counter()
    store = open_store(args.db or f"sqlite:///{tmp / 'bench.db'}")
    fleet = generate_fleet(hosts=args.hosts, tenants=args.tenants, seed=args.seed)
    csv_path = tmp / "inventory.csv"
    fleet.write_csv(csv_path)
    inv = load_inventory(csv_path)
    with store.session() as s:
        apply_inventory(s, inv)
    with store.session() as s:
        hosts = list_hosts(s)
        tenants = load_tenants(s)
    t_scan = time.perf_counter()

    # Reliable profile: every host answers, so the figure measures the full finding volume.
    factory = EndpointFactory(sim_profile=SimProfile.reliable(), latency_scale=0)
    outcomes = asyncio.run(scan_hosts(hosts, factory, concurrency=500))
    t_rank = time.perf_counter()
    kev = load_kev()
    model = RiskModel(kev)
    summary = persist_scan(
        store, outcomes, risk_model=model, kev=kev, tenants=tenants, source="bench"
    )
    t_store = time.perf_counter()
    with store.session() as s:
        top = query_findings(s, limit=100)
    t_end = time.perf_counter()

    findings = summary.findings.new + summary.findings.still_open + summary.findings.reopened
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scan_and_rank = t_end - t_scan
    print(f"database           {store.dialect}")
    print(f"hosts              {len(hosts):,} in {len(tenants)} tenants")
    print(f"findings           {findings:,} ({findings / max(1, len(hosts)):.1f} per host)")
    print(f"import inventory   {t_scan - t_import:6.2f} s (generate + CSV + validate + insert)")
    print(f"scan (simulated)   {t_rank - t_scan:6.2f} s")
    print(f"score + store      {t_store - t_rank:6.2f} s")
    print(
        f"ranked top 100     {t_end - t_store:6.2f} s  (first: {top[0].tier} {top[0].score} "
        f"{top[0].advisory_id} on {top[0].host}: {top[0].reasons})"
    )
    print(
        f"scan+rank wall     {scan_and_rank:6.2f} s  -> {findings / scan_and_rank:,.0f} findings/s"
    )
    print(f"total wall         {t_end - t_start:6.2f} s (including imports and set-up)")
    print(f"peak RSS           {peak_mib:,.0f} MiB")
    ok = scan_and_rank < 10 and peak_mib < 1024
    print(f"target (<10 s, <1 GiB): {'met' if ok else 'MISSED'}")
    factory.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
