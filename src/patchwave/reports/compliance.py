"""The fleet compliance report: per tenant, where the fleet stands now.

Same definition of a compliant host as the run report (no open P1/P2 and no open KEV finding),
plus: a host that was never scanned is not counted as compliant (nothing is known about it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from patchwave.errors import NotFound
from patchwave.reports.definitions import FLEET_DEFINITIONS
from patchwave.reports.fmt import jsonable
from patchwave.reports.load import (
    CHUNK,
    finding_columns,
    findings_frame,
    load_tenant_info,
    rows_of,
)
from patchwave.reports.metrics import HIGH_TIERS
from patchwave.store.tables import AdvisoryRow, FindingRow, HostRow, SiteRow, TenantRow

TIERS = ("P1", "P2", "P3", "P4")
SLA_WINDOW_DAYS = 30
TROUBLE_CAP = 25
OVERDUE_CAP = 10


@dataclass(frozen=True, slots=True)
class TroubleHost:
    host: str
    site: str
    problem: str
    days: int | None = None  # how long it has been a problem, when known


@dataclass(frozen=True, slots=True)
class OverdueFinding:
    host: str
    advisory: str
    tier: str
    kev: bool
    deadline: datetime
    days_overdue: int


@dataclass(slots=True)
class TenantCompliance:
    slug: str
    name: str
    timezone: str
    hosts: int = 0
    never_scanned: int = 0
    scan_failed: int = 0
    quarantined: int = 0
    compliant: int = 0
    compliance: float | None = None
    open_by_tier: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    open_total: int = 0
    kev_open: int = 0
    kev_hosts: int = 0
    overdue: int = 0
    median_age_days: float | None = None
    resolved_30d: int = 0
    sla_met_30d: int = 0
    sla_met_rate_30d: float | None = None
    trouble: list[TroubleHost] = field(default_factory=list)
    trouble_total: int = 0
    oldest_overdue: list[OverdueFinding] = field(default_factory=list)


@dataclass(slots=True)
class FleetCompliance:
    generated_at: datetime
    timezone: str
    all: TenantCompliance
    tenants: list[TenantCompliance]
    window_days: int = SLA_WINDOW_DAYS
    definitions: dict[str, str] = field(default_factory=lambda: dict(FLEET_DEFINITIONS))

    def to_json(self) -> dict[str, Any]:
        return dict(jsonable(asdict(self)))


@dataclass(slots=True)
class FleetData:
    tenants: dict[str, tuple[str, str]]  # slug -> (name, timezone)
    hosts: pd.DataFrame
    open: pd.DataFrame
    resolved: pd.DataFrame
    now: datetime


def load_fleet(
    session: Session, *, tenants: list[str] | None = None, now: datetime | None = None
) -> FleetData:
    """Hosts and findings (open, and resolved in the SLA window) of some or all tenants."""
    now = now or datetime.now(UTC)
    info = load_tenant_info(session, list(tenants) if tenants else None)
    known = {slug: (t.name, t.timezone) for slug, t in info.items()}
    missing = sorted(set(tenants or ()) - set(known))
    if missing:
        raise NotFound(
            f"no tenant {', '.join(missing)}; see `patchwave inventory list` for the tenants"
        )
    h = HostRow
    hosts_stmt = (
        select(
            h.id,
            TenantRow.slug,
            SiteRow.name,
            h.name,
            h.quarantined,
            h.quarantine_reason,
            h.last_scan_at,
            h.last_scan_status,
            h.last_scan_error,
        )
        .join(TenantRow, h.tenant_id == TenantRow.id)
        .join(SiteRow, h.site_id == SiteRow.id)
        .where(TenantRow.slug.in_(list(known)))
    )
    hosts = pd.DataFrame.from_records(
        rows_of(session, hosts_stmt),
        columns=[
            "host_id",
            "tenant",
            "site",
            "host",
            "quarantined",
            "quarantine_reason",
            "last_scan_at",
            "last_scan_status",
            "last_scan_error",
        ],
    )
    hosts["last_scan_at"] = pd.to_datetime(hosts["last_scan_at"], utc=True)
    f = FindingRow
    base = select(*finding_columns()).join(AdvisoryRow, f.advisory_id == AdvisoryRow.id)
    since = now - timedelta(days=SLA_WINDOW_DAYS)
    ids = sorted(int(i) for i in hosts["host_id"])
    open_rows: list[tuple[Any, ...]] = []
    resolved_rows: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), CHUNK):
        part = f.host_id.in_(ids[i : i + CHUNK])
        open_rows.extend(rows_of(session, base.where(part, f.status == "open")))
        recent = base.where(part, f.status == "resolved", f.resolved_at >= since)
        resolved_rows.extend(rows_of(session, recent))
    return FleetData(known, hosts, findings_frame(open_rows), findings_frame(resolved_rows), now)


def _tenant_numbers(
    out: TenantCompliance,
    hosts: pd.DataFrame,
    open_: pd.DataFrame,
    resolved: pd.DataFrame,
    now: datetime,
) -> None:
    now_ts = pd.Timestamp(now)
    today = now_ts.floor("D")
    out.hosts = len(hosts)
    scanned = hosts["last_scan_at"].notna()
    out.never_scanned = int((~scanned).sum())
    out.scan_failed = int((hosts["last_scan_status"] == "failed").sum())
    out.quarantined = int(hosts["quarantined"].astype(bool).sum())
    serious = open_[open_["tier"].isin(HIGH_TIERS) | open_["kev"]]
    bad = set(serious["host_id"])
    out.compliant = int((scanned & ~hosts["host_id"].isin(bad)).sum())
    out.compliance = out.compliant / out.hosts if out.hosts else None
    counts = open_["tier"].value_counts()
    out.open_by_tier = {t: int(counts.get(t, 0)) for t in TIERS}
    out.open_total = len(open_)
    kev = open_[open_["kev"]]
    out.kev_open, out.kev_hosts = len(kev), int(kev["host_id"].nunique())
    late = open_[open_["deadline"] < today]
    out.overdue = len(late)
    if not open_.empty:
        out.median_age_days = float(
            ((now_ts - open_["first_seen"]).dt.total_seconds() / 86400).median()
        )
    out.resolved_30d = len(resolved)
    if not resolved.empty:
        out.sla_met_30d = int((resolved["resolved_at"].dt.floor("D") <= resolved["deadline"]).sum())
        out.sla_met_rate_30d = out.sla_met_30d / out.resolved_30d
    names = hosts.set_index("host_id")
    _trouble(out, hosts, late, today)
    top = late.sort_values(["deadline", "tier", "host_id"]).head(OVERDUE_CAP)
    out.oldest_overdue = [
        OverdueFinding(
            host=str(names.at[hid, "host"]),
            advisory=str(adv),
            tier=str(tier),
            kev=bool(k),
            deadline=pd.Timestamp(dl).to_pydatetime(),
            days_overdue=int((today - dl).days),
        )
        for hid, adv, tier, k, dl in zip(
            top["host_id"],
            top["advisory_id"],
            top["tier"],
            top["kev"],
            top["deadline"],
            strict=True,
        )
    ]


def _trouble(
    out: TenantCompliance, hosts: pd.DataFrame, late: pd.DataFrame, today: pd.Timestamp
) -> None:
    """Hosts whose last scan failed, never scanned, quarantined, or with overdue findings."""
    rank: list[tuple[int, int, TroubleHost]] = []
    oldest = (
        late.groupby("host_id")["deadline"].min() if not late.empty else pd.Series(dtype=object)
    )
    n_late = late["host_id"].value_counts() if not late.empty else pd.Series(dtype=int)
    for hid, site, name, quarantined, reason, at, status, error in zip(
        hosts["host_id"],
        hosts["site"],
        hosts["host"],
        hosts["quarantined"],
        hosts["quarantine_reason"],
        hosts["last_scan_at"],
        hosts["last_scan_status"],
        hosts["last_scan_error"],
        strict=True,
    ):
        problems: list[str] = []
        days: int | None = None
        order = 3
        if status == "failed":
            problems.append(f"last scan failed: {error or 'no reason recorded'}")
            order = 0
        if pd.isna(at):
            problems.append("never scanned")
            order = min(order, 1)
        if quarantined:
            problems.append(f"quarantined: {reason or 'no reason recorded'}")
            order = min(order, 1)
        if hid in oldest.index:
            due = oldest[hid]
            days = int((today - due).days)
            count = int(n_late[hid])
            problems.append(
                f"{count} overdue finding{'s' if count > 1 else ''}, oldest due {due:%d %b %Y}"
            )
            order = min(order, 2)
        if problems:
            rank.append(
                (order, -(days or 0), TroubleHost(str(name), str(site), "; ".join(problems), days))
            )
    rank.sort(key=lambda r: (r[0], r[1], r[2].host))
    out.trouble_total = len(rank)
    out.trouble = [r[2] for r in rank[:TROUBLE_CAP]]


def build_fleet_compliance(data: FleetData) -> FleetCompliance:
    """Per-tenant compliance now, and the same numbers over every selected tenant."""
    tenant_of = dict(zip(data.hosts["host_id"], data.hosts["tenant"], strict=True))
    open_ = data.open.assign(tenant=data.open["host_id"].map(tenant_of))
    resolved = data.resolved.assign(tenant=data.resolved["host_id"].map(tenant_of))
    hosts_by = dict(tuple(data.hosts.groupby("tenant")))
    open_by = dict(tuple(open_.groupby("tenant")))
    resolved_by = dict(tuple(resolved.groupby("tenant")))
    tenants = []
    for slug, (name, tz) in sorted(data.tenants.items(), key=lambda kv: kv[1][0].lower()):
        t = TenantCompliance(slug, name, tz)
        _tenant_numbers(
            t,
            hosts_by.get(slug, data.hosts.iloc[0:0]),
            open_by.get(slug, open_.iloc[0:0]),
            resolved_by.get(slug, resolved.iloc[0:0]),
            data.now,
        )
        tenants.append(t)
    zones = {tz for _, tz in data.tenants.values()}
    tz = zones.pop() if len(zones) == 1 else "UTC"
    total = TenantCompliance("all", "All clients", tz)
    _tenant_numbers(total, data.hosts, open_, resolved, data.now)
    total.trouble, total.oldest_overdue = [], []  # per tenant only: host names need their client
    return FleetCompliance(generated_at=data.now, timezone=tz, all=total, tenants=tenants)


def _round(value: float | None, scale: float = 1.0) -> float | None:
    return None if value is None else round(value * scale, 1)


def tenant_rows(fleet: FleetCompliance) -> list[dict[str, Any]]:
    """One plain row per tenant (the CSV file and the Prefect table)."""
    return [
        {
            "tenant": t.slug,
            "name": t.name,
            "hosts": t.hosts,
            "compliant": t.compliant,
            "compliant_pct": _round(t.compliance, 100),
            **{f"open_{k.lower()}": v for k, v in t.open_by_tier.items()},
            "kev_open": t.kev_open,
            "overdue": t.overdue,
            "median_age_days": _round(t.median_age_days),
            "sla_met_pct_30d": _round(t.sla_met_rate_30d, 100),
            "hosts_in_trouble": t.trouble_total,
        }
        for t in fleet.tenants
    ]
