"""The campaign planner: pure. Hosts and their findings in, rings, waves and a
forecast out — no store, no network, no Prefect (gather inputs, decide, then apply).

- Scope: the spec's scope, never quarantined hosts.
- Patches per host: the spec's patch filter over the host's open findings; an advisory superseded
  by another selected one on the same host is left out (installing the newer one covers it).
- Rings: each host goes to the first ring that selects it; ``share`` rings take a share of all
  hosts in scope (rounded up) from those no earlier ring took, preferred tags first, spread
  across tenants and sites. A host that no ring selects is planned as skipped, with the reason.
- Waves: a ring's jobs, riskiest first, in chunks of ``deployment.wave_size``.
- Forecast: a list schedule that respects the per-campaign and per-site limits and each host's
  maintenance windows (a job starts only where its estimated duration fits).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from patchwave.domain.models import Advisory, Host, OsFamily, Risk, Tier
from patchwave.domain.windows import Calendar, next_start
from patchwave.spec import CampaignSpec
from patchwave.spec.rings import SelectRest, SelectShare

CalendarResolver = Callable[[Host], Calendar | None]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A host in the inventory with its open findings: (advisory, risk, in KEV)."""

    host: Host
    findings: tuple[tuple[Advisory, Risk, bool], ...]


@dataclass(frozen=True, slots=True)
class PlannedJob:
    host: Host
    ring: str
    ring_index: int
    wave: int
    patches: tuple[str, ...]
    top_tier: Tier
    top_score: int
    kev: bool
    reboot_expected: bool
    est_seconds: int
    calendar: Calendar | None
    planned_start: datetime | None = None
    planned_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class RingPlan:
    name: str
    index: int
    jobs: tuple[PlannedJob, ...]
    waves: int
    plan_hash: str

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted({j.host.tenant for j in self.jobs}))


@dataclass(frozen=True, slots=True)
class Plan:
    campaign: str
    rings: tuple[RingPlan, ...]
    unassigned: tuple[tuple[Host, str], ...]  # in scope with patches, no ring: skipped
    compliant: tuple[Host, ...]  # in scope, nothing to patch
    scope_hosts: int
    out_of_scope: int
    unschedulable: tuple[str, ...] = field(default=())  # host keys no window fits

    @property
    def jobs(self) -> list[PlannedJob]:
        return [j for r in self.rings for j in r.jobs]


def plan_hash(payload: object) -> str:
    """SHA-256 of a plan's canonical JSON: what an approval is bound to."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def select_patches(spec: CampaignSpec, candidate: Candidate) -> list[tuple[Advisory, Risk, bool]]:
    """The advisories this campaign installs on a host, riskiest first."""
    chosen = [
        (adv, risk, kev)
        for adv, risk, kev in candidate.findings
        if spec.patches.selects(adv, tier=risk.tier, kev=kev)
    ]
    ids = {adv.id for adv, _, _ in chosen}
    covered = {old for adv, _, _ in chosen for old in adv.supersedes if old in ids}
    chosen = [c for c in chosen if c[0].id not in covered]
    chosen.sort(key=lambda c: (c[1].tier.rank, -c[1].score, c[0].id))
    limit = spec.patches.max_patches_per_host
    return chosen[:limit] if limit else chosen


def _stable_spread(host: Host) -> str:
    # Deterministic, order-independent spread across tenants and sites for share rings.
    return hashlib.blake2b(host.key.encode(), digest_size=8).hexdigest()


def _assign_rings(
    spec: CampaignSpec, hosts: Sequence[Host]
) -> tuple[dict[str, list[Host]], list[tuple[Host, str]]]:
    remaining = list(hosts)
    total = len(hosts)
    assigned: dict[str, list[Host]] = {}
    for ring in spec.rings:
        sel = ring.select
        if isinstance(sel, SelectRest):
            taken = remaining
        elif isinstance(sel, SelectShare):
            want = min(len(remaining), math.ceil(total * sel.share / 100)) if remaining else 0
            preferred = set(sel.prefer_tags)
            ordered = sorted(remaining, key=lambda h: (not (h.tags & preferred), _stable_spread(h)))
            taken = ordered[:want]
        else:
            taken = [h for h in remaining if sel.matches(h)]
        taken_keys = {h.key for h in taken}
        assigned[ring.name] = taken
        remaining = [h for h in remaining if h.key not in taken_keys]
    unassigned = [(h, "not selected by any ring") for h in remaining]
    return assigned, unassigned


def plan_campaign(
    spec: CampaignSpec,
    candidates: Sequence[Candidate],
    *,
    calendar_for: CalendarResolver,
    start: datetime,
    history: Mapping[OsFamily, timedelta] | None = None,
) -> Plan:
    """Plan a campaign run from the inventory and its open findings (see module docstring)."""
    in_scope = [c for c in candidates if not c.host.quarantined and spec.scope.matches(c.host)]
    details: dict[str, list[tuple[Advisory, Risk, bool]]] = {}
    with_patches: list[Host] = []
    compliant: list[Host] = []
    for cand in in_scope:
        chosen = select_patches(spec, cand)
        if chosen:
            details[cand.host.key] = chosen
            with_patches.append(cand.host)
        else:
            compliant.append(cand.host)
    assigned, unassigned = _assign_rings(spec, with_patches)
    history = history or {}
    wave_size = spec.deployment.effective_wave_size
    rings: list[RingPlan] = []
    for index, ring in enumerate(spec.rings):
        hosts = sorted(
            assigned.get(ring.name, []),
            key=lambda h: (details[h.key][0][1].tier.rank, -details[h.key][0][1].score, h.key),
        )
        jobs = []
        for pos, host in enumerate(hosts):
            chosen = details[host.key]
            est = history.get(host.os_family) or spec.deployment.estimate(host.os_family)
            jobs.append(
                PlannedJob(
                    host=host,
                    ring=ring.name,
                    ring_index=index,
                    wave=pos // wave_size,
                    patches=tuple(a.id for a, _, _ in chosen),
                    top_tier=chosen[0][1].tier,
                    top_score=chosen[0][1].score,
                    kev=any(k for _, _, k in chosen),
                    reboot_expected=any(a.reboot_required for a, _, _ in chosen),
                    est_seconds=int(est.total_seconds()),
                    calendar=calendar_for(host),
                )
            )
        waves = math.ceil(len(jobs) / wave_size) if jobs else 0
        ring_hash = plan_hash([spec.name, ring.name, sorted((j.host.key, j.patches) for j in jobs)])
        rings.append(RingPlan(ring.name, index, tuple(jobs), waves, ring_hash))
    forecast, unschedulable = forecast_plan(spec, rings, start)
    return Plan(
        campaign=spec.name,
        rings=tuple(forecast),
        unassigned=tuple(unassigned),
        compliant=tuple(compliant),
        scope_hosts=len(in_scope),
        out_of_scope=len(candidates) - len(in_scope),
        unschedulable=tuple(unschedulable),
    )


def forecast_plan(
    spec: CampaignSpec, rings: Sequence[RingPlan], start: datetime
) -> tuple[list[RingPlan], list[str]]:
    """Fill planned_start/planned_end with a list schedule: rings in order (each after the
    previous one's last job plus its soak), waves in order, per-campaign and per-site slots,
    each job at the first instant its window lets it start and finish."""
    out: list[RingPlan] = []
    unschedulable: list[str] = []
    t_ring = start
    for ring_plan, ring in zip(rings, spec.rings, strict=True):
        planned, missed, ring_end = forecast_ring(spec, ring_plan, t_ring)
        out.append(planned)
        unschedulable += missed
        t_ring = ring_end + ring.gate.soak
    return out, unschedulable


def forecast_ring(
    spec: CampaignSpec, ring_plan: RingPlan, start: datetime
) -> tuple[RingPlan, list[str], datetime]:
    """One ring's list schedule from ``start``: (ring with forecasts, hosts no window fits
    within a year, when its last job should be done)."""
    dep = spec.deployment
    unschedulable: list[str] = []
    t_wave = ring_end = start
    planned: list[PlannedJob] = []
    for wave in sorted({j.wave for j in ring_plan.jobs}):
        campaign_slots = [t_wave] * dep.concurrency.per_campaign
        site_slots: dict[tuple[str, str], list[datetime]] = {}
        wave_end = t_wave
        for job in (j for j in ring_plan.jobs if j.wave == wave):
            site = site_slots.setdefault(
                (job.host.tenant, job.host.site), [t_wave] * dep.concurrency.per_site
            )
            ready = max(campaign_slots[0], site[0])
            duration = timedelta(seconds=job.est_seconds)
            begin = ready if job.calendar is None else next_start(job.calendar, ready, duration)
            if begin is None:
                unschedulable.append(job.host.key)
                planned.append(job)
                continue
            end = begin + duration
            heapq.heapreplace(campaign_slots, end)
            heapq.heapreplace(site, end)
            wave_end = max(wave_end, end)
            planned.append(replace(job, planned_start=begin, planned_end=end))
        t_wave = wave_end
        ring_end = max(ring_end, wave_end)
    return replace(ring_plan, jobs=tuple(planned)), unschedulable, ring_end
