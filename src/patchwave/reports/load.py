"""Reading a campaign run from the store for its report: narrow columns into pandas.

A 10,000-host run has about 200,000 findings: they are read as plain tuples of the few columns
the metrics need (never ORM objects), bounded in SQL to the ones that can matter between the
run's baseline and its end, then filtered to the hosts in scope in pandas.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.orm import Session

from patchwave.domain.models import Connector, Host, OsFamily
from patchwave.errors import NotFound
from patchwave.reports.records import (
    ApprovalRecord,
    DecisionRecord,
    EventRecord,
    RunData,
    RunRecord,
    TenantInfo,
)
from patchwave.store.tables import (
    AdvisoryRow,
    ApprovalDecisionRow,
    ApprovalRow,
    AuditEventRow,
    CampaignRunRow,
    FindingRow,
    HostJobRow,
    HostRow,
    SiteRow,
    TenantRow,
)

CHUNK = 5000  # ids per IN (...) list

JOB_COLUMNS = (
    "host_id",
    "tenant",
    "site",
    "host",
    "ring",
    "ring_index",
    "wave",
    "state",
    "patches",
    "installed",
    "not_before",
    "deferrals",
    "planned_start",
    "started_at",
    "finished_at",
    "failed_step",
    "error",
    "rebooted",
    "reboot_required",
    "attempts",
)
JOB_TIMES = ("not_before", "planned_start", "started_at", "finished_at")
FINDING_COLUMNS = ("host_id", "advisory_id", "tier", "kev", "first_seen", "resolved_at", "deadline")
SCOPE_COLUMNS = ("host_id", "tenant", "site", "host")


def rows_of(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Plain tuples through Core on the session's connection: the ORM's result layer costs
    more than the query itself on 200,000 rows."""
    return [tuple(r) for r in session.connection().execute(stmt).all()]


def utc_series(values: pd.Series) -> pd.Series:
    """A column of aware datetimes (or None) as datetime64 UTC, whatever came back."""
    return pd.to_datetime(values, utc=True)


def load_run(session: Session, run_id: str, *, now: datetime | None = None) -> RunData:
    """Read one run and what its report needs. NotFound when there is no such run."""
    row = session.get(CampaignRunRow, run_id)
    if row is None:
        raise NotFound(f"no campaign run {run_id!r}; check the run id the campaign printed")
    run = RunRecord(
        id=row.id,
        campaign=row.campaign,
        status=row.status,
        dry_run=row.dry_run,
        requested_by=row.requested_by,
        spec=dict(row.spec or {}),
        spec_hash=row.spec_hash,
        clock_kind=row.clock_kind,
        flow_run_id=row.flow_run_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        clock=row.clock,
        summary=dict(row.summary or {}),
        report_path=row.report_path,
        error=row.error,
    )
    now = now or datetime.now(UTC)
    notes: list[str] = []
    jobs = _load_jobs(session, run_id)
    scope = _load_scope(session, run, jobs, notes)
    slugs = sorted(set(scope["tenant"]))
    tenants = load_tenant_info(session, slugs)
    findings = _load_findings(session, scope, start=run.baseline, end=run.end(now))
    return RunData(
        run=run,
        tenants=tenants,
        scope=scope,
        jobs=jobs,
        findings=findings,
        approvals=_load_approvals(session, run_id),
        events=_load_events(session, run_id),
        now=now,
        notes=notes,
    )


def load_tenant_info(session: Session, slugs: list[str] | None = None) -> dict[str, TenantInfo]:
    """Tenants with the zone their reports use: ``tenants.timezone``, except that a tenant left
    at the default UTC whose sites all share one zone uses that zone (CSV inventories give a
    zone per site only, and a Paris client reads Paris time)."""
    stmt = select(TenantRow.slug, TenantRow.name, TenantRow.timezone, SiteRow.timezone).outerjoin(
        SiteRow, SiteRow.tenant_id == TenantRow.id
    )
    if slugs is not None:
        stmt = stmt.where(TenantRow.slug.in_(slugs))
    names: dict[str, tuple[str, str]] = {}
    site_zones: dict[str, set[str]] = {}
    for slug, name, tz, site_tz in session.execute(stmt):
        names[slug] = (name, tz)
        if site_tz:
            site_zones.setdefault(slug, set()).add(site_tz)
    out = {}
    for slug, (name, tz) in names.items():
        zones = site_zones.get(slug, set())
        shown = next(iter(zones)) if tz == "UTC" and len(zones) == 1 else tz
        out[slug] = TenantInfo(slug, name, shown)
    return out


def _load_jobs(session: Session, run_id: str) -> pd.DataFrame:
    j = HostJobRow
    stmt = (
        select(
            j.host_id,
            TenantRow.slug,
            SiteRow.name,
            HostRow.name,
            j.ring,
            j.ring_index,
            j.wave,
            j.state,
            j.patches,
            j.installed,
            j.not_before,
            j.deferrals,
            j.planned_start,
            j.started_at,
            j.finished_at,
            j.failed_step,
            j.error,
            j.rebooted,
            j.reboot_required,
            j.attempts,
        )
        .join(HostRow, j.host_id == HostRow.id)
        .join(TenantRow, HostRow.tenant_id == TenantRow.id)
        .join(SiteRow, HostRow.site_id == SiteRow.id)
        .where(j.run_id == run_id)
        .order_by(TenantRow.slug, j.ring_index, j.wave, HostRow.name_key)
    )
    jobs = pd.DataFrame.from_records(rows_of(session, stmt), columns=list(JOB_COLUMNS))
    for col in JOB_TIMES:
        jobs[col] = utc_series(jobs[col])
    for col in ("patches", "installed"):
        jobs[col] = [list(v) if v else [] for v in jobs[col]]
    for col in ("ring_index", "wave", "deferrals", "attempts", "host_id"):
        jobs[col] = jobs[col].astype("int64")
    for col in ("rebooted", "reboot_required"):
        jobs[col] = jobs[col].astype(bool)
    return jobs


def _load_scope(
    session: Session, run: RunRecord, jobs: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """Hosts in scope: the spec's scope over the inventory (never quarantined hosts, as the
    planner does), plus every host that has a job in the run (whatever the inventory says now)."""
    from patchwave.spec import CampaignSpec

    job_hosts = jobs[list(SCOPE_COLUMNS)].drop_duplicates("host_id")
    try:
        scope_spec = CampaignSpec.model_validate(run.spec).scope
    except ValidationError:
        notes.append(
            "The stored campaign spec no longer validates: hosts in scope are the hosts with a "
            "job in this run (hosts that had nothing to patch are not counted)."
        )
        return job_hosts.reset_index(drop=True)
    stmt = (
        select(
            HostRow.id,
            TenantRow.slug,
            SiteRow.name,
            HostRow.name,
            HostRow.os_family,
            HostRow.connector,
            HostRow.tags,
        )
        .join(TenantRow, HostRow.tenant_id == TenantRow.id)
        .join(SiteRow, HostRow.site_id == SiteRow.id)
        .where(HostRow.quarantined.is_(False))
    )
    if scope_spec.tenants != "all":
        stmt = stmt.where(TenantRow.slug.in_(scope_spec.tenants))
    matched = []
    for hid, slug, site, name, os_family, connector, tags in session.execute(stmt):
        host = Host(
            tenant=slug,
            site=site,
            name=name,
            os_family=OsFamily(os_family),
            connector=Connector(connector),
            tags=frozenset(tags or ()),
        )
        if scope_spec.matches(host):
            matched.append((hid, slug, site, name))
    inventory = pd.DataFrame.from_records(matched, columns=list(SCOPE_COLUMNS))
    scope = pd.concat([job_hosts, inventory], ignore_index=True).drop_duplicates("host_id")
    scope["host_id"] = scope["host_id"].astype("int64")
    return scope.reset_index(drop=True)


def _load_findings(
    session: Session, scope: pd.DataFrame, *, start: datetime, end: datetime
) -> pd.DataFrame:
    """Findings of the hosts in scope that were open at some point in [start, end]."""
    f = FindingRow
    base = (
        select(*finding_columns())
        .join(AdvisoryRow, f.advisory_id == AdvisoryRow.id)
        .where(f.first_seen <= end, or_(f.resolved_at.is_(None), f.resolved_at > start))
    )
    ids = sorted(int(i) for i in scope["host_id"])
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        rows.extend(rows_of(session, base.where(f.host_id.in_(part))))
    return findings_frame(rows)


def finding_columns() -> tuple[Any, ...]:
    """FINDING_COLUMNS as raw column values: times are stored as naive UTC, and converting
    200,000 rows with pandas at once is far cheaper than a Python type hook per value."""
    f = FindingRow
    return (
        f.host_id,
        f.advisory_id,
        f.tier,
        AdvisoryRow.kev,
        type_coerce(f.first_seen, String),
        type_coerce(f.resolved_at, String),
        type_coerce(f.deadline, String),
    )


def _utc(values: pd.Series) -> pd.Series:
    # SQLite hands back ISO text, PostgreSQL naive datetimes: both are UTC wall time.
    return pd.to_datetime(values, utc=True, format="ISO8601")


def findings_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of ``finding_columns()`` as a typed frame (deadline as a UTC midnight timestamp)."""
    df = pd.DataFrame.from_records(rows, columns=list(FINDING_COLUMNS))
    df["host_id"] = df["host_id"].astype("int64")
    df["kev"] = df["kev"].astype(bool)
    for col in ("first_seen", "resolved_at", "deadline"):
        df[col] = _utc(df[col])
    return df


def _load_approvals(session: Session, run_id: str) -> list[ApprovalRecord]:
    rows = list(
        session.execute(
            select(
                ApprovalRow.id,
                ApprovalRow.ring,
                ApprovalRow.tenants,
                ApprovalRow.status,
                ApprovalRow.critical,
                ApprovalRow.min_approvers,
                ApprovalRow.requested_by,
                ApprovalRow.requested_at,
                ApprovalRow.expires_at,
                ApprovalRow.decided_at,
            )
            .where(ApprovalRow.run_id == run_id)
            .order_by(ApprovalRow.requested_at, ApprovalRow.id)
        )
    )
    decisions: dict[str, list[DecisionRecord]] = {r.id: [] for r in rows}
    if rows:
        d = ApprovalDecisionRow
        stmt = (
            select(d.approval_id, d.approver, d.decision, d.channel, d.comment, d.at)
            .where(d.approval_id.in_(list(decisions)))
            .order_by(d.at, d.id)
        )
        for aid, approver, decision, channel, comment, at in session.execute(stmt):
            decisions[aid].append(DecisionRecord(approver, decision, channel, comment, at))
    return [
        ApprovalRecord(
            id=r.id,
            ring=r.ring,
            tenants=tuple(r.tenants or ()),
            status=r.status,
            critical=r.critical,
            min_approvers=r.min_approvers,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            expires_at=r.expires_at,
            decided_at=r.decided_at,
            decisions=tuple(decisions[r.id]),
        )
        for r in rows
    ]


def _load_events(session: Session, run_id: str) -> list[EventRecord]:
    a = AuditEventRow
    # Per-host job.<state> events are tens of thousands on a big run; the report's timeline is
    # about the run, its rings and approvals (host outcomes come from host_jobs).
    stmt = (
        select(a.seq, a.at, a.actor, a.action, a.host, a.subject, a.details)
        .where(a.run_id == run_id, a.action.not_like("job.%"))
        .order_by(a.seq)
    )
    out = []
    for seq, at, actor, action, host, subject, details in session.execute(stmt):
        try:
            parsed = json.loads(details or "{}")
        except ValueError:
            parsed = {"raw": details}
        out.append(
            EventRecord(
                seq, at, actor, action, host, subject, parsed if isinstance(parsed, dict) else {}
            )
        )
    return out
