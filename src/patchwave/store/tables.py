"""Tables. Typed SQLAlchemy 2 models; bulk paths use their ``__table__`` with Core statements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from patchwave.store.types import Json, UtcDateTime

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: Json,
        list[Any]: Json,
    }


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    calendar: Mapped[str | None] = mapped_column(String(100))
    sla_p1_days: Mapped[int] = mapped_column(Integer, default=7)
    sla_p2_days: Mapped[int] = mapped_column(Integer, default=14)
    sla_p3_days: Mapped[int] = mapped_column(Integer, default=30)
    sla_p4_days: Mapped[int] = mapped_column(Integer, default=90)
    slack_channel: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class SiteRow(Base):
    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_sites_tenant_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    calendar: Mapped[str | None] = mapped_column(String(100))


class CalendarRow(Base):
    """Named maintenance-window calendars defined in an inventory (a CalendarSpec as JSON)."""

    __tablename__ = "calendars"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec: Mapped[dict[str, Any]]


class HostRow(Base):
    __tablename__ = "hosts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name_key", name="uq_hosts_tenant_name_key"),
        Index("ix_hosts_tenant_address", "tenant_id", "address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(253))
    # Short, lower-case name without trailing dot: catches "DC01", "dc01." and "dc01.acme.lan".
    name_key: Mapped[str] = mapped_column(String(253))
    os_family: Mapped[str] = mapped_column(String(20))
    os_version: Mapped[str] = mapped_column(String(100), default="")
    connector: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(253))
    tags: Mapped[list[Any]]
    ring: Mapped[str | None] = mapped_column(String(50))
    criticality: Mapped[str] = mapped_column(String(20))
    internet_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    rdp_exposed: Mapped[bool] = mapped_column(Boolean, default=False)
    calendar: Mapped[str | None] = mapped_column(String(100))
    credential_ref: Mapped[str | None] = mapped_column(String(200))
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(300))
    last_scan_at: Mapped[datetime | None]
    last_scan_status: Mapped[str | None] = mapped_column(String(20))
    last_scan_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AdvisoryRow(Base):
    __tablename__ = "advisories"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    cves: Mapped[list[Any]]
    cvss: Mapped[float | None] = mapped_column(Float)
    epss: Mapped[float | None] = mapped_column(Float)
    packages: Mapped[list[Any]]
    released: Mapped[date | None] = mapped_column(Date)
    reboot_required: Mapped[bool] = mapped_column(Boolean, default=False)
    supersedes: Mapped[list[Any]]
    product: Mapped[str] = mapped_column(String(200), default="")
    kev: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("host_id", "advisory_id", name="uq_findings_host_advisory"),
        Index("ix_findings_status_tier", "status", "tier"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    advisory_id: Mapped[str] = mapped_column(ForeignKey("advisories.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    tier: Mapped[str] = mapped_column(String(2))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)


class ScanRow(Base):
    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(50))
    hosts_total: Mapped[int] = mapped_column(Integer, default=0)
    hosts_ok: Mapped[int] = mapped_column(Integer, default=0)
    hosts_failed: Mapped[int] = mapped_column(Integer, default=0)
    findings_new: Mapped[int] = mapped_column(Integer, default=0)
    findings_resolved: Mapped[int] = mapped_column(Integer, default=0)
    findings_open: Mapped[int] = mapped_column(Integer, default=0)


class ApproverRow(Base):
    """People allowed to approve. ``tenants`` is a list of slugs, or ["*"] for MSP-wide roles."""

    __tablename__ = "approvers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(30))
    tenants: Mapped[list[Any]]
    email: Mapped[str | None] = mapped_column(String(200))
    slack_user_id: Mapped[str | None] = mapped_column(String(50))
    slack_team_id: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CampaignRunRow(Base):
    __tablename__ = "campaign_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]]
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(30))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_kind: Mapped[str] = mapped_column(String(20), default="system")
    params: Mapped[dict[str, Any]]
    requested_by: Mapped[str] = mapped_column(String(100))
    flow_run_id: Mapped[str | None] = mapped_column(String(40))
    current_ring: Mapped[str | None] = mapped_column(String(50))
    clock: Mapped[datetime | None]  # last simulated-clock instant, so a resumed run keeps time
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    report_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)


class HostJobRow(Base):
    __tablename__ = "host_jobs"
    __table_args__ = (
        UniqueConstraint("run_id", "host_id", name="uq_host_jobs_run_host"),
        Index("ix_host_jobs_run_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"))
    ring: Mapped[str] = mapped_column(String(50))
    ring_index: Mapped[int] = mapped_column(Integer)
    wave: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    patches: Mapped[list[Any]]
    installed: Mapped[list[Any]]
    calendar: Mapped[str | None] = mapped_column(String(100))  # resolved name, None = no windows
    not_before: Mapped[datetime | None]  # earliest start (next window that fits), when deferred
    planned_start: Mapped[datetime | None]  # the plan's forecast
    planned_end: Mapped[datetime | None]
    est_seconds: Mapped[int] = mapped_column(Integer, default=0)
    deferrals: Mapped[int] = mapped_column(Integer, default=0)
    reboot_required: Mapped[bool] = mapped_column(Boolean, default=False)
    rebooted: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    failed_step: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ApprovalRow(Base):
    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    ring: Mapped[str] = mapped_column(String(50))
    plan_hash: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    min_approvers: Mapped[int] = mapped_column(Integer, default=1)
    approver_roles: Mapped[list[Any]]
    tenants: Mapped[list[Any]]
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    flow_run_id: Mapped[str | None] = mapped_column(String(40))
    slack_channel: Mapped[str | None] = mapped_column(String(100))
    slack_ts: Mapped[str | None] = mapped_column(String(40))


class ApprovalDecisionRow(Base):
    __tablename__ = "approval_decisions"
    __table_args__ = (
        UniqueConstraint("approval_id", "approver", name="uq_approval_decisions_approver"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.id", ondelete="CASCADE"))
    approver: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class AuditEventRow(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    run_id: Mapped[str | None] = mapped_column(String(40), index=True)
    host: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """One row: the last sequence number and hash of the audit chain. Appenders update it first,
    which serialises them (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))


class NotificationRow(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime]
    # What the message is about ("failure:<job>:<attempt>", ...): a resumed run does not send it
    # twice. ref_key + channel_id + slack_ts let a resumed run edit the same wave message.
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    ref_key: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(40))
    thread_ts: Mapped[str | None] = mapped_column(String(40))
