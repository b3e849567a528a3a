"""Campaign runs and host jobs in the store: create, plan, read, summarise."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patchwave.campaign.plan import Candidate, Plan
from patchwave.domain.models import (
    Advisory,
    Classification,
    Host,
    JobState,
    OsFamily,
    PackageFix,
    Risk,
    Severity,
    Tier,
)
from patchwave.domain.windows import Calendar
from patchwave.errors import NotFound
from patchwave.spec import CampaignSpec
from patchwave.store.audit import AuditEvent, append
from patchwave.store.bulk import bulk_insert
from patchwave.store.inventory_repo import list_hosts, list_hosts_by_id
from patchwave.store.tables import AdvisoryRow, CampaignRunRow, FindingRow, HostJobRow

FINAL_RUN_STATES = frozenset({"completed", "halted", "rejected", "expired", "failed", "cancelled"})


def calendar_key(calendar: Calendar | None) -> str | None:
    """How a job remembers its calendar: name and zone ("from-site" calendars differ by site)."""
    return f"{calendar.name}@{calendar.timezone}" if calendar else None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def create_run(
    session: Session,
    *,
    spec: CampaignSpec,
    spec_hash: str,
    spec_path: str | None,
    requested_by: str,
    dry_run: bool,
    clock_kind: str,
    params: Mapping[str, Any],
    now: datetime,
    run_id: str | None = None,
) -> str:
    run_id = run_id or new_run_id()
    session.add(
        CampaignRunRow(
            id=run_id,
            campaign=spec.name,
            spec=spec.model_dump(mode="json"),
            spec_hash=spec_hash,
            spec_path=spec_path,
            status="planned",
            dry_run=dry_run,
            clock_kind=clock_kind,
            params=dict(params),
            requested_by=requested_by,
            created_at=now,
            clock=now,
            summary={
                "rings": [
                    {
                        "name": r.name,
                        "index": i,
                        "hosts": 0,
                        "status": "pending",
                        "started_at": None,
                        "finished_at": None,
                        "gate": None,
                        "rolled_back": False,
                    }
                    for i, r in enumerate(spec.rings)
                ]
            },
        )
    )
    append(
        session,
        [
            AuditEvent(
                actor=requested_by,
                action="run.created",
                run_id=run_id,
                subject=spec.name,
                at=now,
                details={"spec_hash": spec_hash, "dry_run": dry_run, "clock": clock_kind},
            )
        ],
    )
    return run_id


def get_run(session: Session, run_id: str) -> CampaignRunRow:
    run = session.get(CampaignRunRow, run_id)
    if run is None:
        raise NotFound(f"no campaign run {run_id!r}; see `patchwave campaign runs`")
    return run


def update_summary(session: Session, run_id: str, **values: Any) -> dict[str, Any]:
    run = get_run(session, run_id)
    summary = dict(run.summary or {})
    summary.update(values)
    run.summary = summary  # reassign: JSON columns do not track in-place mutation
    return summary


def update_ring(session: Session, run_id: str, ring: str, **values: Any) -> None:
    run = get_run(session, run_id)
    summary = dict(run.summary or {})
    rings = [dict(r) for r in summary.get("rings", [])]
    for r in rings:
        if r["name"] == ring:
            r.update(values)
    summary["rings"] = rings
    run.summary = summary


def ring_state(run: CampaignRunRow, ring: str) -> dict[str, Any]:
    for r in (run.summary or {}).get("rings", []):
        if r["name"] == ring:
            return dict(r)
    return {}


def advisory_from_row(row: AdvisoryRow) -> Advisory:
    return Advisory(
        id=row.id,
        vendor=row.vendor,
        title=row.title,
        classification=Classification(row.classification),
        severity=Severity(row.severity),
        cves=tuple(row.cves or ()),
        cvss=row.cvss,
        epss=row.epss,
        packages=tuple(PackageFix(p[0], p[1]) for p in row.packages or ()),
        released=row.released,
        reboot_required=row.reboot_required,
        supersedes=tuple(row.supersedes or ()),
        product=row.product,
    )


def gather_candidates(session: Session, spec: CampaignSpec) -> list[Candidate]:
    """Every inventory host the spec's scope names, with its open findings (risk as stored)."""
    tenants = None if spec.scope.tenants == "all" else list(spec.scope.tenants)
    hosts = list_hosts(session, tenants=tenants)
    by_id = {h.id: h for h in hosts}
    findings: dict[int, list[tuple[str, Risk]]] = defaultdict(list)
    ids = list(by_id)
    adv_ids: set[str] = set()
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        stmt = select(
            FindingRow.host_id,
            FindingRow.advisory_id,
            FindingRow.tier,
            FindingRow.score,
            FindingRow.reasons,
            FindingRow.deadline,
        ).where(FindingRow.status == "open", FindingRow.host_id.in_(part))
        for host_id, adv_id, tier, score, reasons, deadline in session.execute(stmt):
            reason_t = tuple(r for r in reasons.split(", ") if r)
            findings[host_id].append((adv_id, Risk(Tier(tier), score, reason_t, deadline)))
            adv_ids.add(adv_id)
    advisories: dict[str, tuple[Advisory, bool]] = {}
    adv_list = sorted(adv_ids)
    for start in range(0, len(adv_list), 5000):
        for row in session.scalars(
            select(AdvisoryRow).where(AdvisoryRow.id.in_(adv_list[start : start + 5000]))
        ):
            advisories[row.id] = (advisory_from_row(row), row.kev)
    return [
        Candidate(
            host=h,
            findings=tuple(
                (advisories[a][0], risk, advisories[a][1])
                for a, risk in findings.get(h.id or -1, ())
            ),
        )
        for h in hosts
    ]


def load_advisories(session: Session, ids: Sequence[str]) -> dict[str, Advisory]:
    out: dict[str, Advisory] = {}
    id_list = sorted(set(ids))
    for start in range(0, len(id_list), 5000):
        for row in session.scalars(
            select(AdvisoryRow).where(AdvisoryRow.id.in_(id_list[start : start + 5000]))
        ):
            out[row.id] = advisory_from_row(row)
    return out


def duration_history(session: Session, *, limit: int = 2000) -> dict[OsFamily, timedelta]:
    """Median duration of recent successful host jobs per OS family: better estimates than the
    spec's defaults once a fleet has history."""
    from patchwave.store.tables import HostRow

    stmt = (
        select(HostRow.os_family, HostJobRow.started_at, HostJobRow.finished_at)
        .join(HostRow, HostJobRow.host_id == HostRow.id)
        .where(HostJobRow.state == JobState.SUCCEEDED.value, HostJobRow.started_at.is_not(None))
        .order_by(HostJobRow.id.desc())
        .limit(limit)
    )
    samples: dict[OsFamily, list[float]] = defaultdict(list)
    for family, started, finished in session.execute(stmt):
        if started and finished and finished > started:
            samples[OsFamily(family)].append((finished - started).total_seconds())
    return {
        fam: timedelta(seconds=statistics.median(vals))
        for fam, vals in samples.items()
        if len(vals) >= 5
    }


def persist_plan(session: Session, *, run_id: str, plan: Plan, now: datetime, actor: str) -> int:
    """Write one host job per planned host (pending) and per unassigned host (skipped, with its
    reason), in bulk. Returns the number of jobs."""
    rows: list[dict[str, Any]] = []
    base = {
        "attempts": 0,
        "installed": [],
        "deferrals": 0,
        "reboot_required": False,
        "rebooted": False,
        "snapshot_id": None,
        "started_at": None,
        "finished_at": None,
        "failed_step": None,
        "not_before": None,
        "updated_at": now,
    }
    for job in plan.jobs:
        rows.append(
            {
                **base,
                "run_id": run_id,
                "host_id": job.host.id,
                "ring": job.ring,
                "ring_index": job.ring_index,
                "wave": job.wave,
                "state": JobState.PENDING.value,
                "patches": list(job.patches),
                "calendar": calendar_key(job.calendar),
                "planned_start": job.planned_start,
                "planned_end": job.planned_end,
                "est_seconds": job.est_seconds,
                "error": None,
            }
        )
    for host, reason in plan.unassigned:
        rows.append(
            {
                **base,
                "run_id": run_id,
                "host_id": host.id,
                "ring": "-",
                "ring_index": -1,
                "wave": 0,
                "state": JobState.SKIPPED.value,
                "patches": [],
                "calendar": None,
                "planned_start": None,
                "planned_end": None,
                "est_seconds": 0,
                "error": reason,
                "finished_at": now,
            }
        )
    bulk_insert(session, HostJobRow.__table__, rows)
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="plan.created",
                run_id=run_id,
                at=now,
                details={
                    "jobs": len(plan.jobs),
                    "skipped": len(plan.unassigned),
                    "compliant": len(plan.compliant),
                    "rings": {r.name: len(r.jobs) for r in plan.rings},
                },
            )
        ],
    )
    return len(rows)


@dataclass(slots=True)
class JobRecord:
    """A host job as the engine works on it (mutable copy of the row)."""

    id: int
    host: Host
    ring: str
    ring_index: int
    wave: int
    state: JobState
    patches: tuple[str, ...]
    installed: list[str] = field(default_factory=list)
    attempts: int = 0
    calendar: str | None = None
    not_before: datetime | None = None
    est_seconds: int = 0
    deferrals: int = 0
    reboot_required: bool = False
    rebooted: bool = False
    snapshot_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failed_step: str | None = None
    error: str | None = None

    def row_values(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state.value,
            "installed": list(self.installed),
            "attempts": self.attempts,
            "not_before": self.not_before,
            "deferrals": self.deferrals,
            "reboot_required": self.reboot_required,
            "rebooted": self.rebooted,
            "snapshot_id": self.snapshot_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "failed_step": self.failed_step,
            "error": self.error,
            "updated_at": now,
        }


def load_jobs(
    session: Session,
    run_id: str,
    *,
    ring: str | None = None,
    wave: int | None = None,
    host_names: Sequence[str] | None = None,
) -> list[JobRecord]:
    stmt = select(HostJobRow).where(HostJobRow.run_id == run_id)
    if ring is not None:
        stmt = stmt.where(HostJobRow.ring == ring)
    if wave is not None:
        stmt = stmt.where(HostJobRow.wave == wave)
    rows = list(session.scalars(stmt.order_by(HostJobRow.id)))
    hosts = {h.id: h for h in list_hosts_by_id(session, [r.host_id for r in rows])}
    jobs = [
        JobRecord(
            id=r.id,
            host=hosts[r.host_id],
            ring=r.ring,
            ring_index=r.ring_index,
            wave=r.wave,
            state=JobState(r.state),
            patches=tuple(r.patches or ()),
            installed=list(r.installed or ()),
            attempts=r.attempts,
            calendar=r.calendar,
            not_before=r.not_before,
            est_seconds=r.est_seconds,
            deferrals=r.deferrals,
            reboot_required=r.reboot_required,
            rebooted=r.rebooted,
            snapshot_id=r.snapshot_id,
            started_at=r.started_at,
            finished_at=r.finished_at,
            failed_step=r.failed_step,
            error=r.error,
        )
        for r in rows
        if r.host_id in hosts
    ]
    if host_names:
        from patchwave.inventory import name_key

        wanted = {name_key(n) for n in host_names}
        jobs = [j for j in jobs if name_key(j.host.name) in wanted]
    return jobs


def job_counts(session: Session, run_id: str, *, ring: str | None = None) -> dict[str, int]:
    stmt = select(HostJobRow.state, func.count()).where(HostJobRow.run_id == run_id)
    if ring is not None:
        stmt = stmt.where(HostJobRow.ring == ring)
    return {state: int(n) for state, n in session.execute(stmt.group_by(HostJobRow.state))}


def ring_waves(session: Session, run_id: str, ring: str) -> list[int]:
    stmt = (
        select(HostJobRow.wave)
        .where(HostJobRow.run_id == run_id, HostJobRow.ring == ring)
        .distinct()
        .order_by(HostJobRow.wave)
    )
    return [int(w) for w in session.scalars(stmt)]


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None
