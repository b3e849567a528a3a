"""A full campaign on a simulated fleet: detection, planning, 3 rings with auto-approval, waves,
verification, gates, report. Zero-latency simulated hosts, so what is measured is orchestration:
Prefect, the store, the engine. Target (issue 3): 10,000 hosts under 60 s and 1.5 GiB on 2 cores.

usage: python bench/bench_campaign.py [--hosts 10000] [--tenants 25] [--db URL]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=25)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-campaign-"))
    os.environ["PATCHWAVE_HOME"] = str(tmp)
    os.environ.setdefault("PREFECT_HOME", str(tmp / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if args.db:
        os.environ["PATCHWAVE_DATABASE_URL"] = args.db

    from patchwave.fleetgen import generate_fleet
    from patchwave.inventory import load_inventory
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import apply_inventory

    store = open_store()
    path = tmp / "inventory.csv"
    generate_fleet(hosts=args.hosts, tenants=args.tenants, seed=args.seed).write_csv(path)
    with store.session() as session:
        apply_inventory(session, load_inventory(path))

    from flows.campaign import patch_campaign
    from patchwave.campaign.runs import get_run, job_counts

    t0 = time.perf_counter()
    result = patch_campaign(
        campaign=str(HERE / "campaigns" / "bench-3rings.yaml"),
        clock="simulated",
        sim_profile="reliable",
        latency_scale=0.0,
    )
    wall = time.perf_counter() - t0
    with store.session() as session:
        counts = job_counts(session, result["run_id"])
        run = get_run(session, result["run_id"])
        rings = [(r["name"], r.get("hosts"), r.get("status")) for r in run.summary["rings"]]
    jobs = sum(counts.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database            {store.dialect}")
    print(f"hosts / host jobs   {args.hosts:,} / {jobs:,}  {dict(sorted(counts.items()))}")
    print(f"rings               {rings}")
    print(f"status              {result['status']}")
    print(f"wall time           {wall:.1f} s (flow start to end, incl. Prefect's ephemeral API)")
    print(f"per host            {1000 * wall / max(1, args.hosts):.2f} ms orchestration overhead")
    print(f"peak RSS            {peak:,.0f} MiB")
    ok = wall < 60 and peak < 1536
    print(f"target (<60 s, <1.5 GiB): {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
