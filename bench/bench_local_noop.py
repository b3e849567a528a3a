"""Orchestration overhead per host: a whole campaign on 1,000 hosts of the local endpoint whose
driver commands are all ``true`` (PATCHWAVE_NOOP_DRIVER=1), so what is measured is patchwave
itself: Prefect, the store, the engine, the endpoint and driver code, and one real process per
driver command. Compare with another tool running the same few no-op commands per host (Ansible:
about 1 s per host, DESIGN.md).

    .venv/bin/python bench/bench_local_noop.py [--hosts 1000] [--concurrency 50]

Every host goes the path a real one does: detection scan, plan, auto-approval, a wave with
prechecks (``ping`` runs ``true``; ``no-pending-reboot`` reads facts, which the no-op driver
takes from the inventory), install (the version check after it runs ``true``), verify
(``true``), then the ring's verification scan (``true``) and the gate. The number of ``true``
processes per host is counted and printed. Prefect's ephemeral API is started by a warm-up flow
first and timed apart; it is a once-per-process cost, not a per-host one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

CAMPAIGN = """
name: bench-local-noop
owner: bench
scope: {{tenants: all, exclude_tags: []}}
windows: {{default: always, host_override: false}}
rings:
  - {{name: all, select: {{rest: true}}, approval: auto, gate: {{min_success_rate: 1.0}}}}
deployment:
  concurrency: {{per_campaign: {concurrency}, per_site: {concurrency}}}
  wave_size: 100000
  max_fail_percentage: 10
  host_timeout: 10m
  retries: {{count: 0, delay: 1s}}
  reboot: if-required
  prechecks: [{prechecks}]
  postchecks: []
"""


class Timings:
    """Wall time of each campaign step (measurement only: wraps the service functions the
    Prefect tasks call)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, module: Any, name: str) -> None:
        func: Callable[..., Any] = getattr(module, name)

        @wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        setattr(module, name, timed)


def count_commands() -> dict[str, int]:
    """Count every command the local transport starts (measurement only)."""
    from patchwave.endpoints.transport import LocalTransport

    counts: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    run = LocalTransport.run

    async def counted(self: LocalTransport, argv: Any, **kwargs: Any) -> Any:
        with lock:
            counts[" ".join(argv)] += 1
        return await run(self, argv, **kwargs)

    LocalTransport.run = counted  # type: ignore[method-assign]
    return counts


async def spawn_floor(n: int, concurrency: int) -> float:
    """Seconds this machine needs to start and reap ``n`` ``true`` processes, ``concurrency`` at a
    time, with nothing else around: the floor under the campaign's command cost."""
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            proc = await asyncio.create_subprocess_exec(
                "true", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            await proc.communicate()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - started


def write_inventory(path: Path, hosts: int, tenants: int) -> None:
    # Every host is this machine: the local connector needs no address, and a host name is only
    # a label for its job (the endpoint runs plain subprocesses, whatever the name).
    lines = ["tenant,site,site_timezone,name,os_family,os_version,connector"]
    for i in range(hosts):
        lines.append(f"t{i % tenants:02d},hq,UTC,local-{i:05d},debian,12,local")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--prechecks", default="ping, no-pending-reboot", help="comma-separated precheck names"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-noop-"))
    os.environ["PATCHWAVE_HOME"] = str(tmp)
    os.environ["PATCHWAVE_NOOP_DRIVER"] = "1"
    os.environ.pop("PATCHWAVE_DRIVER_OPTIONS_FILE", None)
    os.environ.setdefault("PREFECT_HOME", str(tmp / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

    from patchwave.inventory import load_inventory
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import apply_inventory

    store = open_store()
    inventory = tmp / "inventory.csv"
    write_inventory(inventory, args.hosts, args.tenants)
    with store.session() as session:
        apply_inventory(session, load_inventory(inventory))
    campaign = tmp / "bench-local-noop.yaml"
    campaign.write_text(
        textwrap.dedent(CAMPAIGN).format(concurrency=args.concurrency, prechecks=args.prechecks)
    )

    from prefect import flow

    from flows.campaign import patch_campaign
    from patchwave.campaign import service
    from patchwave.campaign.runs import get_run, job_counts

    @flow(name="warm-up")
    def warm_up() -> None:
        return None

    t0 = time.perf_counter()
    warm_up()
    prefect_start = time.perf_counter() - t0

    timings = Timings()
    for step in ("detect", "plan", "deploy_wave", "verify_ring", "gate"):
        timings.wrap(service, step)
    commands = count_commands()
    t0 = time.perf_counter()
    result = patch_campaign(campaign=str(campaign))
    wall = time.perf_counter() - t0
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    with store.session() as session:
        counts = job_counts(session, result["run_id"])
        run = get_run(session, result["run_id"])
    total = sum(commands.values())
    floor = asyncio.run(spawn_floor(total, args.concurrency))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_host = 1000 * wall / args.hosts

    print(f"hosts               {args.hosts:,} local endpoints (noop driver), 1 ring, auto")
    print(f"concurrency         {args.concurrency} per campaign and per site")
    print(f"status              {result['status']}  jobs {dict(sorted(counts.items()))}")
    print(f"prefect start-up    {prefect_start:.1f} s (ephemeral API, once per process; apart)")
    print(f"campaign wall time  {wall:.1f} s")
    print(f"per host            {per_host:.1f} ms (wall / hosts); Ansible: ~1000 ms")
    for step, seconds in timings.seconds.items():
        print(f"  {step:<17} {seconds:6.2f} s")
    other = wall - sum(timings.seconds.values())
    print(f"  {'rest':<17} {other:6.2f} s (approval, report, artifacts, Prefect)")
    print(f"commands run        {total:,} = {total / args.hosts:.2f} per host: {dict(commands)}")
    print(
        f"spawn floor         {floor:.2f} s to start the same {total:,} `true` at "
        f"{args.concurrency} at a time with nothing else ({1000 * floor / args.hosts:.1f} ms/host)"
    )
    print(
        f"process CPU         {cpu.ru_utime + cpu.ru_stime:.1f} s "
        f"(user {cpu.ru_utime:.1f}, sys {cpu.ru_stime:.1f}); peak RSS {peak:,.0f} MiB"
    )
    print(f"hosts with patches  {(run.summary or {}).get('hosts_with_patches')}")
    store.dispose()


if __name__ == "__main__":
    main()
