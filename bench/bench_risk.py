"""Benchmark the risk model: score and rank 200,000 findings (10,000 hosts x 20 patches).

Run: ``.venv/bin/python bench/bench_risk.py [--hosts N] [--per-host K] [--seed S]``

The catalogue mimics a month of patches: Windows KBs and Linux advisories carrying real CVEs
from the shipped CISA KEV catalogue (about one advisory in six) plus non-KEV CVEs, with CVSS and
EPSS values. Hosts belong to 50 tenants (one SLA object each) and have mixed exposure. 70% of
findings are first seen today (a fresh scan), the rest on one of the previous 60 days.

Prints: KEV load time, cold and warm scoring rates, ranking time, peak RSS. Target: more than
500,000 findings/s once the per-profile cache is warm.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import Counter
from datetime import date, timedelta

from patchwave.domain.models import (
    Advisory,
    Classification,
    Criticality,
    Host,
    OsFamily,
    Risk,
    Severity,
    Sla,
)
from patchwave.domain.risk import RiskModel, sort_key
from patchwave.feeds.kev import KevCatalogue, shipped_kev

TODAY = date(2025, 8, 26)
LINUX = (OsFamily.DEBIAN, OsFamily.UBUNTU, OsFamily.RHEL, OsFamily.SUSE)


def build_catalogue(kev: KevCatalogue, rng: random.Random) -> dict[str, list[Advisory]]:
    """Advisories per OS family ("windows", "linux"); ~1 in 6 carries a real KEV CVE."""
    microsoft = sorted(c for c, e in kev.items() if e.vendor == "Microsoft")
    others = sorted(c for c, e in kev.items() if e.vendor != "Microsoft")
    catalogue: dict[str, list[Advisory]] = {"windows": [], "linux": []}
    for family, prefix, kev_pool, count in (
        ("windows", "KB50", microsoft, 120),
        ("linux", "DSA-", others, 180),
    ):
        for i in range(count):
            cves = [f"CVE-2025-{90000 + len(catalogue[family]) * 10 + j}" for j in range(3)]
            if rng.random() < 1 / 6:
                cves.append(rng.choice(kev_pool))
            security = rng.random() < 0.85
            catalogue[family].append(
                Advisory(
                    id=f"{prefix}{40000 + i}",
                    vendor=family,
                    title=f"update {i}",
                    classification=Classification.SECURITY if security else Classification.BUGFIX,
                    severity=rng.choice(list(Severity)),
                    cves=tuple(cves) if security else (),
                    cvss=round(rng.uniform(3.0, 10.0), 1) if rng.random() < 0.8 else None,
                    epss=round(rng.random() ** 4, 5) if rng.random() < 0.5 else None,
                )
            )
    return catalogue


def build_findings(
    hosts: int, per_host: int, catalogue: dict[str, list[Advisory]], rng: random.Random
) -> list[tuple[Advisory, Host, Sla, date]]:
    slas = [Sla(p1_days=rng.choice((3, 7)), p3_days=rng.choice((30, 45))) for _ in range(50)]
    findings = []
    for n in range(hosts):
        windows = rng.random() < 0.6
        host = Host(
            tenant=f"tenant{n % 50:02d}",
            site="main",
            name=f"host{n:05d}",
            os_family=OsFamily.WINDOWS if windows else rng.choice(LINUX),
            criticality=rng.choices(list(Criticality), weights=(2, 6, 2, 1))[0],
            internet_facing=rng.random() < 0.08,
            rdp_exposed=windows and rng.random() < 0.04,
        )
        sla = slas[n % 50]
        for advisory in rng.sample(catalogue["windows" if windows else "linux"], per_host):
            age = 0 if rng.random() < 0.7 else rng.randrange(1, 61)
            findings.append((advisory, host, sla, TODAY - timedelta(days=age)))
    return findings


def score_all(model: RiskModel, findings: list[tuple[Advisory, Host, Sla, date]]) -> list[Risk]:
    score = model.score
    return [score(a, h, sla=s, first_seen=d) for a, h, s, d in findings]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--per-host", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    kev = shipped_kev()
    kev_seconds = time.perf_counter() - started
    catalogue = build_catalogue(kev, rng)
    findings = build_findings(args.hosts, args.per_host, catalogue, rng)
    count = len(findings)

    model = RiskModel(kev)
    started = time.perf_counter()
    risks = score_all(model, findings)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    score_all(model, findings)
    warm = time.perf_counter() - started
    started = time.perf_counter()
    order = sorted(range(count), key=lambda i: sort_key(risks[i]))
    rank = time.perf_counter() - started

    tiers = Counter(risk.tier.value for risk in risks)
    top_advisory, top_host, _, _ = findings[order[0]]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"KEV catalogue {kev.version}: {len(kev)} entries loaded in {kev_seconds * 1000:.0f} ms")
    print(f"findings: {count:,} ({args.hosts:,} hosts x {args.per_host})")
    print(f"memoised profiles: {model.cache_size:,}")
    print(f"score, cold cache: {cold:.3f} s = {count / cold:,.0f} findings/s")
    print(f"score, warm cache: {warm:.3f} s = {count / warm:,.0f} findings/s")
    print(f"rank (sort by tier, -score, deadline): {rank:.3f} s")
    print(f"score + rank, cold: {cold + rank:.3f} s")
    print("tiers: " + ", ".join(f"{tier} {tiers[tier]:,}" for tier in sorted(tiers)))
    print(f"most urgent: {top_advisory.id} on {top_host.key}: {risks[order[0]].reason_text}")
    print(f"peak RSS: {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
