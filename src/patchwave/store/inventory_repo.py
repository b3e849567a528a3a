"""Applying a parsed inventory to the store (one transaction), and reading hosts back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patchwave.calendars import CalendarSpec
from patchwave.domain.models import (
    Connector,
    Criticality,
    Host,
    OsFamily,
    Site,
    Sla,
    Tenant,
    parse_os_family,
)
from patchwave.errors import InventoryError, NotFound
from patchwave.inventory import Inventory, name_key
from patchwave.store.audit import AuditEvent, append
from patchwave.store.tables import ApproverRow, CalendarRow, HostRow, SiteRow, TenantRow


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int
    quarantined: int
    tenants: int
    sites: int

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged "
            f"({self.quarantined} quarantined) in {self.tenants} tenant(s), {self.sites} site(s)"
        )


def _set_changed(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def apply_inventory(session: Session, inv: Inventory, *, actor: str = "cli") -> ImportSummary:
    """Create or update everything in ``inv``. Importing the same file twice changes nothing.

    Raises InventoryError (and the caller's transaction rolls back) when a host clashes with one
    already in the store (same address under another name).
    """
    now = datetime.now(UTC)
    tenants = {t.slug: t for t in session.scalars(select(TenantRow))}
    for rec in inv.tenants.values():
        explicit = rec.model_dump(include=rec.model_fields_set - {"slug", "sla"})
        if "sla" in rec.model_fields_set:
            explicit.update({f"sla_{k}_days": v for k, v in rec.sla.model_dump().items()})
        row = tenants.get(rec.slug)
        if row is None:
            row = TenantRow(slug=rec.slug, name=rec.name or rec.slug, created_at=now)
            session.add(row)
            tenants[rec.slug] = row
        _set_changed(row, explicit)
    session.flush()

    sites = {(s.tenant_id, s.name): s for s in session.scalars(select(SiteRow))}
    site_ids: dict[tuple[str, str], int] = {}
    for (slug, site_name), srec in inv.sites.items():
        tenant = tenants[slug]
        srow = sites.get((tenant.id, site_name))
        values = srec.model_dump(include=srec.model_fields_set - {"tenant", "name"})
        if srow is None:
            srow = SiteRow(tenant_id=tenant.id, name=site_name, timezone=srec.timezone)
            session.add(srow)
            sites[(tenant.id, site_name)] = srow
        _set_changed(srow, values)
    session.flush()
    for slug, site_name in inv.sites:
        site_ids[(slug, site_name)] = sites[(tenants[slug].id, site_name)].id

    for cal_name, spec in inv.calendars.items():
        crow = session.get(CalendarRow, cal_name)
        spec_json = spec.model_dump(mode="json")
        if crow is None:
            session.add(CalendarRow(name=cal_name, spec=spec_json))
        elif crow.spec != spec_json:
            crow.spec = spec_json

    approvers = {a.name: a for a in session.scalars(select(ApproverRow))}
    for arec in inv.approvers:
        values = arec.model_dump()
        values["tenants"] = list(arec.tenants) or (["*"] if arec.role != "tenant-admin" else [])
        arow = approvers.get(arec.name)
        if arow is None:
            session.add(ApproverRow(active=True, **values))
        else:
            _set_changed(arow, values)

    created = updated = unchanged = quarantined = 0
    tenant_ids = {tenants[s].id for s in inv.tenants}
    existing = list(session.scalars(select(HostRow).where(HostRow.tenant_id.in_(tenant_ids))))
    by_key = {(h.tenant_id, h.name_key): h for h in existing}
    by_address = {(h.tenant_id, h.address): h for h in existing if h.address}
    problems: list[str] = []
    new_rows: list[HostRow] = []
    for hrec, origin in inv.hosts:
        tenant_id = tenants[hrec.tenant].id
        family = parse_os_family(hrec.os_family)
        is_quarantined = family is OsFamily.UNKNOWN
        quarantined += is_quarantined
        values = {
            "site_id": site_ids[(hrec.tenant, hrec.site)],
            "name": hrec.name,
            "os_family": family.value,
            "os_version": hrec.os_version,
            "connector": hrec.connector.value,
            "address": hrec.address,
            "tags": list(hrec.tags),
            "ring": hrec.ring,
            "criticality": hrec.criticality.value,
            "internet_facing": hrec.internet_facing,
            "rdp_exposed": hrec.rdp_exposed,
            "calendar": hrec.calendar,
            "credential_ref": hrec.credential_ref,
            "quarantined": is_quarantined,
            "quarantine_reason": f"unknown OS {hrec.os_family!r}" if is_quarantined else None,
        }
        key = (tenant_id, name_key(hrec.name))
        hrow = by_key.get(key)
        if hrec.address:
            other = by_address.get((tenant_id, hrec.address))
            if other is not None and other is not hrow:
                problems.append(
                    f"{inv.path}: {origin}: address {hrec.address} of {hrec.name!r} belongs to "
                    f"host {other.name!r} already in tenant {hrec.tenant}; fix the address or "
                    "the name"
                )
                continue
        if hrow is None:
            hrow = HostRow(
                tenant_id=tenant_id,
                name_key=key[1],
                source=f"{inv.path}:{origin}",
                created_at=now,
                updated_at=now,
                **values,
            )
            new_rows.append(hrow)
            by_key[key] = hrow
            if hrec.address:
                by_address[(tenant_id, hrec.address)] = hrow
            created += 1
        elif _set_changed(hrow, values):
            hrow.updated_at = now
            updated += 1
        else:
            unchanged += 1
    if problems:
        raise InventoryError(
            f"{len(problems)} problem(s), nothing imported:\n" + "\n".join(problems)
        )
    session.add_all(new_rows)
    session.flush()
    summary = ImportSummary(
        created, updated, unchanged, quarantined, len(inv.tenants), len(inv.sites)
    )
    if created or updated:
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="inventory.import",
                    subject=str(inv.path),
                    details={"created": created, "updated": updated, "quarantined": quarantined},
                )
            ],
        )
    return summary


def row_to_host(row: HostRow, tenant_slug: str, site_name: str) -> Host:
    return Host(
        id=row.id,
        tenant=tenant_slug,
        site=site_name,
        name=row.name,
        os_family=OsFamily(row.os_family),
        os_version=row.os_version,
        connector=Connector(row.connector),
        address=row.address,
        tags=frozenset(row.tags or ()),
        ring=row.ring,
        criticality=Criticality(row.criticality),
        internet_facing=row.internet_facing,
        rdp_exposed=row.rdp_exposed,
        calendar=row.calendar,
        credential_ref=row.credential_ref,
        quarantined=row.quarantined,
    )


def list_hosts(
    session: Session,
    *,
    tenants: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    rings: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    include_quarantined: bool = True,
) -> list[Host]:
    """Hosts as domain objects, filtered; a host must carry every tag given."""
    stmt = (
        select(HostRow, TenantRow.slug, SiteRow.name)
        .join(TenantRow, HostRow.tenant_id == TenantRow.id)
        .join(SiteRow, HostRow.site_id == SiteRow.id)
        .order_by(TenantRow.slug, SiteRow.name, HostRow.name_key)
    )
    if tenants:
        stmt = stmt.where(TenantRow.slug.in_(tenants))
    if sites:
        stmt = stmt.where(SiteRow.name.in_(sites))
    if rings:
        stmt = stmt.where(HostRow.ring.in_(rings))
    if names:
        stmt = stmt.where(HostRow.name_key.in_([name_key(n) for n in names]))
    if not include_quarantined:
        stmt = stmt.where(HostRow.quarantined.is_(False))
    wanted = set(tags or ())
    hosts = []
    for row, slug, site_name in session.execute(stmt):
        if wanted and not wanted.issubset(row.tags or ()):
            continue
        hosts.append(row_to_host(row, slug, site_name))
    return hosts


def find_host(session: Session, name: str, *, tenant: str | None = None) -> Host:
    """One host by name (any spelling of it); NotFound or an ambiguity error otherwise."""
    matches = list_hosts(session, names=[name], tenants=[tenant] if tenant else None)
    if not matches:
        raise NotFound(f"no host named {name!r} in the inventory; see `patchwave inventory list`")
    if len(matches) > 1:
        where = ", ".join(h.key for h in matches)
        raise NotFound(f"host name {name!r} is in several tenants ({where}); add --tenant")
    return matches[0]


def load_tenants(session: Session) -> dict[str, Tenant]:
    out = {}
    for t in session.scalars(select(TenantRow)):
        sla = Sla(t.sla_p1_days, t.sla_p2_days, t.sla_p3_days, t.sla_p4_days)
        out[t.slug] = Tenant(
            slug=t.slug,
            name=t.name,
            timezone=t.timezone,
            sla=sla,
            calendar=t.calendar,
            slack_channel=t.slack_channel,
        )
    return out


def load_sites(session: Session) -> dict[tuple[str, str], Site]:
    stmt = select(SiteRow, TenantRow.slug).join(TenantRow, SiteRow.tenant_id == TenantRow.id)
    return {
        (slug, s.name): Site(tenant=slug, name=s.name, timezone=s.timezone, calendar=s.calendar)
        for s, slug in session.execute(stmt)
    }


def load_calendars(session: Session) -> dict[str, CalendarSpec]:
    return {
        c.name: CalendarSpec.model_validate(c.spec) for c in session.scalars(select(CalendarRow))
    }


def list_hosts_by_id(session: Session, host_ids: Sequence[int]) -> list[Host]:
    """Hosts by inventory id, in the order given (unknown ids are left out)."""
    wanted = set(host_ids)
    stmt = (
        select(HostRow, TenantRow.slug, SiteRow.name)
        .join(TenantRow, HostRow.tenant_id == TenantRow.id)
        .join(SiteRow, HostRow.site_id == SiteRow.id)
    )
    found: dict[int, Host] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        for row, slug, site_name in session.execute(stmt.where(HostRow.id.in_(part))):
            found[row.id] = row_to_host(row, slug, site_name)
    return [found[i] for i in host_ids if i in found]
