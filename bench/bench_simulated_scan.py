"""Scan-only speed of the simulated fleet (no ranking, no store): hosts/s, findings/s, peak RSS.

    .venv/bin/python bench/bench_simulated_scan.py [--hosts 10000] [--tenants 50] [--seed 7]
        [--profile reliable|default] [--concurrency 200]

Each host is scanned through the Endpoint protocol exactly as ``patchwave.scanning`` does it
(``async with endpoint: await endpoint.scan()`` under a semaphore) with zero latency. The cold
pass draws every host's missing set; the warm pass rescans the same fleet (a second scan in the
same process, as a campaign's verify step or a resumed run would).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from patchwave.domain.models import Host
from patchwave.endpoints.base import ScanResult
from patchwave.endpoints.simulated import SimProfile, SimulatedFleet
from patchwave.errors import EndpointError
from patchwave.fleetgen import generate_fleet


async def _scan_all(fleet: SimulatedFleet, hosts: tuple[Host, ...], concurrency: int) -> list[int]:
    sem = asyncio.Semaphore(concurrency)

    async def one(host: Host) -> int:
        async with sem:
            for _ in range(2):  # one retry, for flaky scans in the default profile
                try:
                    async with fleet.endpoint(host) as endpoint:
                        result: ScanResult = await endpoint.scan()
                        return len(result.missing)
                except EndpointError:
                    continue
            return -1

    return await asyncio.gather(*(one(h) for h in hosts))


def _report(label: str, seconds: float, counts: list[int]) -> None:
    ok = [c for c in counts if c >= 0]
    findings = sum(ok)
    print(
        f"{label:<6} {seconds:6.3f} s  {len(counts) / seconds:>9,.0f} hosts/s  "
        f"{findings / seconds:>11,.0f} findings/s  {findings:,} findings "
        f"({findings / max(len(ok), 1):.1f}/host, {len(counts) - len(ok)} unreachable)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("reliable", "default"), default="reliable")
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    generated = generate_fleet(hosts=args.hosts, tenants=args.tenants, seed=args.seed)
    print(f"fleetgen {time.perf_counter() - started:6.3f} s for {len(generated.hosts):,} hosts")
    profile = SimProfile.reliable() if args.profile == "reliable" else SimProfile()
    with tempfile.TemporaryDirectory() as state:
        fleet = SimulatedFleet(args.seed, Path(state), latency_scale=0.0, profile=profile)
        for label in ("cold", "warm"):
            started = time.perf_counter()
            counts = asyncio.run(_scan_all(fleet, generated.hosts, args.concurrency))
            _report(label, time.perf_counter() - started, counts)
        fleet.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak RSS {peak_kib / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
