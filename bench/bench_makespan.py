"""Makespan on the simulated clock: N hosts whose installs take T each, C at a time, one wave.

The ideal is ceil(N / C) x T; the engine's makespan (first start to last finish, in simulated
time) should stay within 5 % of it (issue 3). Runs the campaign steps directly (no Prefect: the
flow only sequences them) so the figure is the engine's own.

usage: python bench/bench_makespan.py [--hosts 2000] [--concurrency 200] [--minutes 30]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-makespan-"))
    os.environ["PATCHWAVE_HOME"] = str(tmp)

    from sqlalchemy import func, select

    from patchwave.campaign import gating, service
    from patchwave.campaign.context import RunContext
    from patchwave.fleetgen import generate_fleet
    from patchwave.inventory import load_inventory
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import apply_inventory
    from patchwave.store.tables import HostJobRow

    install = args.minutes * 60
    spec_text = (HERE / "campaigns" / "bench-makespan.yaml").read_text()
    spec_path = tmp / "bench-makespan.yaml"
    spec_path.write_text(
        spec_text.replace("per_campaign: 200", f"per_campaign: {args.concurrency}")
    )

    store = open_store()
    inv = tmp / "inventory.csv"
    generate_fleet(hosts=args.hosts, tenants=10, seed=9).write_csv(inv)
    with store.session() as s:
        apply_inventory(s, load_inventory(inv))
    start = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
    run_id = service.start_run(
        campaign=str(spec_path),
        run_id=None,
        requested_by=None,
        dry_run=False,
        clock_kind="simulated",
        start_at=start,
        params={
            "sim_profile": "reliable",
            "latency_scale": 1.0,
            # Every step but the install is instant, so the ideal bound is exact.
            "sim_fixed_install_seconds": install,
            "sim_fixed_reboot_seconds": 0.0,
            "sim_compliant_share": 0.0,
        },
        flow_run_id=None,
    )
    t0 = time.perf_counter()
    service.detect(RunContext.load(run_id))
    service.plan(RunContext.load(run_id))
    ids = gating.ring_requests(RunContext.load(run_id), "all")
    gating.apply_approvals(RunContext.load(run_id), "all", ids)
    t1 = time.perf_counter()
    result = service.deploy_wave(RunContext.load(run_id), "all", 0)
    t2 = time.perf_counter()
    with store.session() as s:
        first, last, n = s.execute(
            select(
                func.min(HostJobRow.started_at), func.max(HostJobRow.finished_at), func.count()
            ).where(HostJobRow.run_id == run_id)
        ).one()
    makespan = last - first
    ideal = timedelta(seconds=math.ceil(n / args.concurrency) * install)
    over = makespan / ideal - 1
    print(f"hosts {n:,}, concurrency {args.concurrency}, install {args.minutes:g} min")
    print(f"succeeded {result.succeeded:,}, failed {result.failed}")
    print(f"makespan   {makespan} (simulated)")
    print(f"ideal      {ideal} = ceil({n}/{args.concurrency}) x {args.minutes:g} min")
    print(
        f"overshoot  {100 * over:.2f} %  (target within 5 %): {'met' if over <= 0.05 else 'MISSED'}"
    )
    print(f"real time  {t2 - t1:.1f} s for the deployment ({t1 - t0:.1f} s detect + plan)")


if __name__ == "__main__":
    main()
