"""Findings and advisories: bulk writes (thousands of rows per statement), ranked reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from patchwave.domain.models import Advisory, Risk
from patchwave.store.bulk import bulk_insert
from patchwave.store.tables import AdvisoryRow, FindingRow, HostRow, SiteRow, TenantRow

CHUNK = 5000  # rows per statement / ids per IN (...) list: well under SQLite's variable limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def advisory_to_row(adv: Advisory, *, kev: bool, now: datetime) -> dict[str, Any]:
    return {
        "id": adv.id,
        "vendor": adv.vendor,
        "title": adv.title,
        "classification": adv.classification.value,
        "severity": adv.severity.value,
        "cves": list(adv.cves),
        "cvss": adv.cvss,
        "epss": adv.epss,
        "packages": [[p.name, p.fixed_version] for p in adv.packages],
        "released": adv.released,
        "reboot_required": adv.reboot_required,
        "supersedes": list(adv.supersedes),
        "product": adv.product,
        "kev": kev,
        "updated_at": now,
    }


def upsert_advisories(
    session: Session, advisories: Iterable[Advisory], *, kev_ids: set[str], now: datetime
) -> int:
    """Insert advisories not yet stored; refresh the ones whose facts changed. Returns inserts."""
    wanted = {a.id: a for a in advisories}
    if not wanted:
        return 0
    existing: dict[str, AdvisoryRow] = {}
    for part in chunks(list(wanted)):
        existing.update(
            (r.id, r) for r in session.scalars(select(AdvisoryRow).where(AdvisoryRow.id.in_(part)))
        )
    new_rows = []
    for adv_id, adv in wanted.items():
        row = advisory_to_row(adv, kev=adv_id in kev_ids, now=now)
        stored = existing.get(adv_id)
        if stored is None:
            new_rows.append(row)
            continue
        for key, value in row.items():
            if key != "updated_at" and getattr(stored, key) != value:
                setattr(stored, key, value)
    for part in chunks(new_rows):
        session.execute(insert(AdvisoryRow), list(part))
    return len(new_rows)


RiskOf = Callable[[int, str, date], Risk]
"""Scores one finding: (host id, advisory id, first seen) -> Risk. The deadline depends on when
the finding was first seen, which only the store knows for findings seen before."""


@dataclass(frozen=True, slots=True)
class FindingCounts:
    new: int
    reopened: int
    resolved: int
    still_open: int


def record_findings(
    session: Session,
    *,
    scanned_host_ids: Sequence[int],
    observed: Sequence[tuple[int, str]],
    risk_of: RiskOf,
    now: datetime,
) -> FindingCounts:
    """Reconcile the findings of hosts that were scanned successfully.

    New findings are inserted; findings seen again are touched (and re-scored only when their risk
    changed); findings no longer reported are resolved; a resolved finding that returns (a
    rollback, a reinstalled old version) is reopened.
    """
    current: dict[tuple[int, str], tuple[int, str, str, int, date, date]] = {}
    cols = (
        FindingRow.host_id,
        FindingRow.advisory_id,
        FindingRow.id,
        FindingRow.status,
        FindingRow.tier,
        FindingRow.score,
        FindingRow.deadline,
        FindingRow.first_seen,
    )
    for part in chunks(list(scanned_host_ids)):
        for host_id, adv_id, fid, status, tier, score, deadline, first in session.execute(
            select(*cols).where(FindingRow.host_id.in_(part))
        ):
            current[(host_id, adv_id)] = (fid, status, tier, score, deadline, first.date())

    inserts: list[dict[str, Any]] = []
    rescored: list[dict[str, Any]] = []
    reopened: list[dict[str, Any]] = []
    seen_open: set[int] = set()
    today = now.date()
    for key in dict.fromkeys(observed):  # a scan may report an advisory twice
        existing = current.get(key)
        first_seen = today if existing is None or existing[1] != "open" else existing[5]
        risk = risk_of(key[0], key[1], first_seen)
        values = {
            "tier": risk.tier.value,
            "score": risk.score,
            "reasons": risk.reason_text,
            "deadline": risk.deadline,
        }
        if existing is None:
            inserts.append(
                {
                    "host_id": key[0],
                    "advisory_id": key[1],
                    "status": "open",
                    "first_seen": now,
                    "last_seen": now,
                    "resolved_at": None,
                    **values,
                }
            )
            current[key] = (-1, "open", risk.tier.value, risk.score, risk.deadline, today)
            continue
        fid, status, tier, score, deadline, _ = existing
        if status != "open":
            reopened.append({"b_id": fid, **values})
        else:
            seen_open.add(fid)
            if (tier, score, deadline) != (risk.tier.value, risk.score, risk.deadline):
                rescored.append({"b_id": fid, **values})

    open_before = {v[0] for v in current.values() if v[1] == "open" and v[0] != -1}
    gone = sorted(open_before - seen_open - {r["b_id"] for r in reopened})

    table = cast(Table, FindingRow.__table__)
    bulk_insert(session, table, inserts)
    by_id = table.c.id == bindparam("b_id")
    if reopened:
        session.execute(
            update(table)
            .where(by_id)
            .values(status="open", first_seen=now, last_seen=now, resolved_at=None),
            reopened,
        )
    if rescored:
        session.execute(update(table).where(by_id), rescored)
    touched = sorted(seen_open)
    for part in chunks(touched):
        session.execute(update(table).where(table.c.id.in_(part)).values(last_seen=now))
    for part in chunks(gone):
        session.execute(
            update(table).where(table.c.id.in_(part)).values(status="resolved", resolved_at=now)
        )
    return FindingCounts(
        new=len(inserts), reopened=len(reopened), resolved=len(gone), still_open=len(seen_open)
    )


@dataclass(frozen=True, slots=True)
class FindingView:
    """One open finding joined with its host and advisory, for listings and reports."""

    tenant: str
    site: str
    host: str
    host_id: int
    advisory_id: str
    title: str
    classification: str
    severity: str
    cves: tuple[str, ...]
    cvss: float | None
    kev: bool
    tier: str
    score: int
    reasons: str
    deadline: date
    first_seen: datetime
    last_seen: datetime


def query_findings(
    session: Session,
    *,
    tenants: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    kev_only: bool = False,
    overdue_on: date | None = None,
    status: str = "open",
    limit: int | None = None,
) -> list[FindingView]:
    """Findings ranked by risk: tier, then score (highest first), then deadline."""
    stmt = (
        select(FindingRow, TenantRow.slug, SiteRow.name, HostRow.name, AdvisoryRow)
        .join(HostRow, FindingRow.host_id == HostRow.id)
        .join(TenantRow, HostRow.tenant_id == TenantRow.id)
        .join(SiteRow, HostRow.site_id == SiteRow.id)
        .join(AdvisoryRow, FindingRow.advisory_id == AdvisoryRow.id)
        .where(FindingRow.status == status)
        .order_by(
            FindingRow.tier,
            FindingRow.score.desc(),
            FindingRow.deadline,
            TenantRow.slug,
            HostRow.name_key,
            FindingRow.advisory_id,
        )
    )
    if tenants:
        stmt = stmt.where(TenantRow.slug.in_(tenants))
    if hosts:
        from patchwave.inventory import name_key

        stmt = stmt.where(HostRow.name_key.in_([name_key(h) for h in hosts]))
    if tiers:
        stmt = stmt.where(FindingRow.tier.in_(tiers))
    if kev_only:
        stmt = stmt.where(AdvisoryRow.kev.is_(True))
    if overdue_on is not None:
        stmt = stmt.where(FindingRow.deadline < overdue_on)
    if limit:
        stmt = stmt.limit(limit)
    return [
        FindingView(
            tenant=slug,
            site=site,
            host=host,
            host_id=f.host_id,
            advisory_id=f.advisory_id,
            title=a.title,
            classification=a.classification,
            severity=a.severity,
            cves=tuple(a.cves or ()),
            cvss=a.cvss,
            kev=a.kev,
            tier=f.tier,
            score=f.score,
            reasons=f.reasons,
            deadline=f.deadline,
            first_seen=f.first_seen,
            last_seen=f.last_seen,
        )
        for f, slug, site, host, a in session.execute(stmt)
    ]
