"""A run report's content: the MSP-wide outcome, one outcome per tenant, rings, approvals.

``build_run_metrics(data)`` is the MSP view (every tenant); ``build_run_metrics(data,
tenant="acme")`` is a client's own report: only that tenant's hosts, approvals and names, so it
can be handed to the client without showing anyone else's fleet.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from patchwave.errors import NotFound
from patchwave.reports.definitions import DEFINITIONS
from patchwave.reports.fmt import jsonable
from patchwave.reports.metrics import Outcome, compute_outcome, prepare
from patchwave.reports.records import EventRecord, RunData, TenantInfo
from patchwave.reports.timeline import (
    ApprovalView,
    EventView,
    RingView,
    approval_views,
    person,
    ring_views,
)

FINAL_STATUSES = ("completed", "halted", "rejected", "expired", "failed", "cancelled")
_TOKENS = re.compile(r"[\w.\-/]+")


def _token(name: str) -> str:
    return name.lower().rstrip(".")


def _foreign_names(data: RunData, tenant: str) -> set[str]:
    """Names (and tenant/name keys) of the run's hosts that belong to other clients."""
    others = data.jobs[data.jobs["tenant"] != tenant]
    keys = others["tenant"] + "/" + others["host"]
    return {_token(n) for n in others["host"]} | {_token(k) for k in keys}


@dataclass(slots=True)
class TenantReport:
    slug: str
    name: str
    timezone: str
    outcome: Outcome


@dataclass(slots=True)
class RunMetrics:
    run_id: str
    campaign: str
    description: str
    status: str
    final: bool
    dry_run: bool
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    baseline: datetime
    end: datetime
    generated_at: datetime
    timezone: str  # the zone run-level times are shown in
    client: TenantInfo | None  # set for a client's own report
    msp: Outcome
    tenants: list[TenantReport]
    rings: list[RingView]
    run_events: list[EventView]
    approvals: list[ApprovalView]
    error: str | None
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready data (times as ISO 8601 UTC)."""
        return dict(jsonable(asdict(self)))


def _only_tenant(data: RunData, slug: str) -> RunData:
    if slug not in data.tenants:
        known = ", ".join(sorted(data.tenants)) or "none"
        raise NotFound(f"tenant {slug!r} has no hosts in run {data.run.id} (tenants: {known})")
    scope = data.scope[data.scope["tenant"] == slug]
    return RunData(
        run=data.run,
        tenants={slug: data.tenants[slug]},
        scope=scope,
        jobs=data.jobs[data.jobs["tenant"] == slug],
        findings=data.findings[data.findings["host_id"].isin(scope["host_id"])],
        approvals=[a for a in data.approvals if slug in a.tenants],
        events=data.events,
        now=data.now,
        notes=list(data.notes),
    )


def build_run_metrics(data: RunData, *, tenant: str | None = None) -> RunMetrics:
    """Compute a run report (see module docstring)."""
    full = data
    if tenant is not None:
        data = _only_tenant(data, tenant)
    run = data.run
    baseline, end = run.baseline, run.end(data.now)
    tenant_of = dict(zip(data.scope["host_id"], data.scope["tenant"], strict=True))
    findings = data.findings.assign(tenant=data.findings["host_id"].map(tenant_of))
    prep = prepare(data.jobs, findings, baseline=baseline, end=end)
    msp = compute_outcome(
        scope=data.scope,
        jobs=data.jobs,
        findings=prep.findings,
        pairs=prep.pairs,
        with_tenant=tenant is None,
    )
    parts = {
        name: dict(tuple(frame.groupby("tenant")))
        for name, frame in (
            ("scope", data.scope),
            ("jobs", data.jobs),
            ("findings", prep.findings),
            ("pairs", prep.pairs),
        )
    }
    empty = {
        "scope": data.scope.iloc[0:0],
        "jobs": data.jobs.iloc[0:0],
        "findings": prep.findings.iloc[0:0],
        "pairs": prep.pairs.iloc[0:0],
    }
    tenants = []
    for slug in sorted(data.tenants, key=lambda s: data.tenants[s].name.lower()):
        info = data.tenants[slug]
        own = {name: parts[name].get(slug, empty[name]) for name in parts}
        outcome = compute_outcome(**own, with_tenant=False)
        tenants.append(TenantReport(slug, info.name, info.timezone, outcome))

    approval_ids = {a.id for a in data.approvals}
    foreign = _foreign_names(full, tenant) if tenant is not None else set()
    ring_names = {str(r.get("name")) for r in run.summary.get("rings") or []}

    def keep(ev: EventRecord) -> bool:
        if tenant is None:
            return True
        if ev.action.startswith("approval."):
            # "ring:approval-id": a client sees only the requests that cover them.
            return (ev.subject or "").rpartition(":")[2] in approval_ids
        hosts = ev.details.get("hosts")
        if not isinstance(hosts, list) and ev.action.startswith("rollback."):
            # A host-level rollback names its hosts in the subject ("acme/web01,acme/web02").
            subject = ev.subject or ""
            hosts = [] if subject in ring_names or subject == "run" else subject.split(",")
        if isinstance(hosts, list) and hosts and all(_token(str(h)) in foreign for h in hosts):
            return False  # e.g. a rollback of another client's hosts
        return ev.action != "notify.failed"

    def scrub(text: str) -> str | None:
        if not foreign:
            return text
        return None if any(_token(t) in foreign for t in _TOKENS.findall(text)) else text

    rings, run_events = ring_views(
        run.summary,
        msp.rings,
        data.events,
        keep=keep,
        scrub=scrub,
        client=tenant is not None,
    )
    approvals = approval_views(data.approvals)
    if tenant is not None:
        # Shared requests (one per ring for several clients) show only this client.
        for a in approvals:
            a.tenants[:] = [t for t in a.tenants if t == tenant]
    zones = {t.timezone for t in data.tenants.values()}
    spec_description = str(run.spec.get("description") or "")
    return RunMetrics(
        run_id=run.id,
        campaign=run.campaign,
        description=spec_description,
        status=run.status,
        final=run.status in FINAL_STATUSES,
        dry_run=run.dry_run,
        requested_by=person(run.requested_by),
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        baseline=baseline,
        end=end,
        generated_at=data.now,
        # One zone for run-level times: the clients' own when they share one, else UTC.
        timezone=zones.pop() if len(zones) == 1 else "UTC",
        client=data.tenants[tenant] if tenant is not None else None,
        msp=msp,
        tenants=tenants,
        rings=rings,
        run_events=run_events,
        approvals=approvals,
        error=run.error if tenant is None else None,
        notes=list(data.notes),
    )
