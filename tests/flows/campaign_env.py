"""Helpers for campaign flow tests: a small simulated fleet, approvers, campaign files."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import select

from patchwave.campaign.runs import load_jobs
from patchwave.inventory import load_inventory
from patchwave.store import Store
from patchwave.store.inventory_repo import apply_inventory
from patchwave.store.tables import ApproverRow

INVENTORY_HEADER = "tenant,site,site_timezone,name,os_family,os_version,tags,ring,criticality"


def write_inventory(path: Path, rows: list[str]) -> Path:
    path.write_text(INVENTORY_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def fleet_rows(
    tenants: dict[str, int], *, lab: int = 2, pilot: int = 2, tags: dict[str, str] | None = None
) -> list[str]:
    """``count`` Debian hosts per tenant; the first ``lab`` are tagged lab, the next ``pilot``
    pilot; ``tags`` adds tags to named hosts (e.g. sim:install-fails)."""
    rows = []
    extra = tags or {}
    for tenant, count in tenants.items():
        for i in range(count):
            name = f"{tenant}-h{i:02d}"
            ring_tag = "lab" if i < lab else "pilot" if i < lab + pilot else ""
            host_tags = ";".join(t for t in (ring_tag, "sim:clean", extra.get(name, "")) if t)
            if extra.get(name):
                host_tags = ";".join(t for t in (ring_tag, extra[name]) if t)
            rows.append(f"{tenant},hq,Europe/Paris,{name},debian,12,{host_tags},,medium")
    return rows


def seed(store: Store, tmp: Path, rows: list[str], approvers: list[dict[str, Any]]) -> None:
    inv = write_inventory(tmp / "inventory.csv", rows)
    with store.session() as session:
        apply_inventory(session, load_inventory(inv))
        known = set(session.scalars(select(ApproverRow.name)))
        for a in approvers:
            if a["name"] not in known:
                session.add(ApproverRow(active=True, **a))


def write_campaign(tmp: Path, body: str, name: str = "test-campaign") -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def states(store: Store, run_id: str) -> dict[str, str]:
    with store.session() as session:
        return {j.host.name: j.state.value for j in load_jobs(session, run_id)}


LEAD = {"name": "lead", "role": "msp-lead", "tenants": ["*"]}
ACME_ADMIN = {"name": "acme-admin", "role": "tenant-admin", "tenants": ["acme"]}
GLOBEX_ADMIN = {"name": "globex-admin", "role": "tenant-admin", "tenants": ["globex"]}
