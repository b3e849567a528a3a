"""Plain factory functions: tenants, approvers with Slack ids, a campaign run with host jobs, and
approval requests, written straight to a store (for the Slack app and notification tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from patchwave.campaign.approvals import create_request
from patchwave.store import Store
from patchwave.store.tables import (
    AdvisoryRow,
    ApproverRow,
    CampaignRunRow,
    FindingRow,
    HostJobRow,
    HostRow,
    SiteRow,
    TenantRow,
)

T0 = datetime(2026, 1, 17, 21, 0, tzinfo=UTC)
TEAM = "TMSP0001"
OTHER_TEAM = "TOTHER001"

# name, role, tenants, Slack user id
APPROVERS: tuple[tuple[str, str, list[str], str], ...] = (
    ("rita", "msp-lead", ["*"], "URITA0001"),  # the requester of every request below
    ("lena", "msp-lead", ["*"], "ULENA0001"),
    ("leo", "msp-lead", ["*"], "ULEO00001"),
    ("ann", "tenant-admin", ["acme"], "UANN00001"),
    ("gus", "tenant-admin", ["globex"], "UGUS00001"),
)
SLACK_IDS = {name: user for name, _, _, user in APPROVERS}


def seed_people(store: Store, *, now: datetime = T0) -> None:
    """Tenants acme (own channel #acme-ops, Paris time) and globex, and the approvers."""
    with store.session() as s:
        s.add_all(
            [
                TenantRow(
                    slug="acme",
                    name="Acme Corp",
                    timezone="Europe/Paris",
                    slack_channel="#acme-ops",
                    created_at=now,
                ),
                TenantRow(
                    slug="globex", name="Globex", timezone="America/New_York", created_at=now
                ),
            ]
        )
        s.add_all(
            ApproverRow(
                name=name,
                role=role,
                tenants=tenants,
                slack_user_id=user,
                slack_team_id=TEAM,
                active=True,
            )
            for name, role, tenants, user in APPROVERS
        )


SPEC: dict[str, Any] = {
    "name": "monthly",
    "owner": "rita",
    "rings": [
        {"name": "lab", "gate": {"min_success_rate": 1.0}},
        {"name": "pilot", "gate": {"min_success_rate": 0.95, "max_failures": 1}},
    ],
    "deployment": {"on_gate_failure": "halt"},
    "notify": {
        "slack": {"channel": "#patching", "channel_per_tenant": True, "progress": True},
        "client_notice": 172800.0,
    },
}


def seed_run(
    store: Store,
    *,
    run_id: str = "run000000001",
    spec: dict[str, Any] | None = None,
    now: datetime = T0,
    status: str = "waiting_approval",
) -> str:
    with store.session() as s:
        s.add(
            CampaignRunRow(
                id=run_id,
                campaign="monthly",
                spec=spec or SPEC,
                spec_hash="f" * 64,
                status=status,
                params={},
                requested_by="rita",
                created_at=now,
                started_at=now,
                summary={"rings": [{"name": "lab", "hosts": 0}, {"name": "pilot", "hosts": 0}]},
            )
        )
    return run_id


def seed_jobs(
    store: Store,
    run_id: str,
    jobs: Sequence[dict[str, Any]],
    *,
    now: datetime = T0,
) -> list[int]:
    """Hosts (created as needed) and their host jobs; each dict names tenant, host, ring, wave,
    state, patches and any other host_jobs column."""
    ids = []
    with store.session() as s:
        tenants = {t.slug: t for t in s.query(TenantRow)}
        advisories = {a.id for a in s.query(AdvisoryRow)}
        for spec in jobs:
            tenant = tenants[spec["tenant"]]
            site = s.query(SiteRow).filter_by(tenant_id=tenant.id).first()
            if site is None:
                site = SiteRow(tenant_id=tenant.id, name="hq", timezone=tenant.timezone)
                s.add(site)
                s.flush()
            host = HostRow(
                tenant_id=tenant.id,
                site_id=site.id,
                name=spec["host"],
                name_key=spec["host"].lower(),
                os_family="debian",
                connector="simulated",
                tags=[],
                criticality="normal",
                created_at=now,
                updated_at=now,
            )
            s.add(host)
            s.flush()
            for advisory in spec.get("patches", ["DSA-5678-1"]):
                if advisory not in advisories:
                    s.add(
                        AdvisoryRow(
                            id=advisory,
                            vendor="debian",
                            title=f"{advisory} security update",
                            classification="security",
                            severity="important",
                            cves=[],
                            packages=[],
                            supersedes=[],
                            kev=advisory.startswith("KEV"),
                            reboot_required=advisory.endswith("R"),
                            updated_at=now,
                        )
                    )
                    s.flush()
                    advisories.add(advisory)
                s.add(
                    FindingRow(
                        host_id=host.id,
                        advisory_id=advisory,
                        first_seen=now,
                        last_seen=now,
                        tier=spec.get("tier", "P2"),
                        score=70,
                        deadline=now.date(),
                    )
                )
            extra = {
                k: v for k, v in spec.items() if k not in ("tenant", "host", "patches", "tier")
            }
            row = HostJobRow(
                run_id=run_id,
                host_id=host.id,
                ring=extra.pop("ring", "pilot"),
                ring_index=extra.pop("ring_index", 1),
                wave=extra.pop("wave", 0),
                state=extra.pop("state", "pending"),
                patches=list(spec.get("patches", ["DSA-5678-1"])),
                installed=extra.pop("installed", []),
                updated_at=extra.pop("updated_at", now),
                **extra,
            )
            s.add(row)
            s.flush()
            ids.append(row.id)
    return ids


def seed_request(
    store: Store,
    run_id: str,
    *,
    ring: str = "pilot",
    tenants: Sequence[str] = ("acme",),
    groups: Sequence[str] = ("tenant-admins", "msp-leads"),
    min_approvers: int = 1,
    critical: bool = False,
    now: datetime | None = None,
    expires_in: timedelta = timedelta(hours=24),
    plan_hash: str = "a" * 64,
) -> str:
    now = now or datetime.now(UTC)
    with store.session() as s:
        request = create_request(
            s,
            run_id=run_id,
            ring=ring,
            plan_hash=plan_hash,
            tenants=list(tenants),
            approver_groups=list(groups),
            min_approvers=min_approvers,
            critical=critical,
            requested_by="rita",
            requested_at=now,
            expires_at=now + expires_in,
            summary={"hosts": 3, "patches": 1, "kev": 0},
        )
    return request.id
