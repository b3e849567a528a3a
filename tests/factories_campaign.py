"""Campaign runs written straight into the store, as the campaign flow writes them (see
/work/notes/campaign-contract.md): runs, host jobs in every state, approvals and decisions
through the approval service, audit events, and findings that open before and close during the
run.

``seed_small_run`` is a hand-made run whose every number is worked out in ``EXPECTED`` (the
tests assert them); ``seed_large_run`` generates a 10,000-host, ~200,000-finding run for timing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from patchwave.campaign.approvals import auto_approve, create_request, decide, load_approver
from patchwave.spec import CampaignSpec, spec_hash
from patchwave.store import Store
from patchwave.store.audit import AuditEvent, append
from patchwave.store.bulk import bulk_insert
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

SPEC_PATH = "campaigns/demo.yaml"
# The run's spec, validated like a campaign file (kept here so the expected numbers do not move
# when the shipped campaigns change): every tenant, no-patch hosts excluded, three rings.
SPEC: dict[str, Any] = {
    "name": "demo",
    "description": "Demo campaign on the simulated fleet (windows open now)",
    "owner": "dave",
    "scope": {"tenants": "all"},
    "patches": {"classifications": ["security", "critical"], "min_tier": "P4"},
    "windows": {"default": "always"},
    "rings": [
        {
            "name": "lab",
            "select": {"tags": ["lab"]},
            "gate": {"min_success_rate": 0.9},
            "approval": "auto",
        },
        {
            "name": "pilot",
            "select": {"share": "10%", "prefer_tags": ["pilot"]},
            "gate": {"min_success_rate": 0.85},
            "approval": {"required": True, "approvers": ["tenant-admins"], "expires": "1d"},
        },
        {
            "name": "broad",
            "select": {"rest": True},
            "gate": {"min_success_rate": 0.8},
            "approval": {"required": True, "approvers": ["msp-leads"], "expires": "1h"},
        },
    ],
    "deployment": {"max_fail_percentage": 20},
    "report": {"template": "client-monthly", "formats": ["html", "csv", "json"]},
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


CREATED = utc(2026, 11, 12, 21, 0)
DETECTED = utc(2026, 11, 12, 21, 5)
FINISHED = utc(2026, 11, 14, 4, 0)
OLD = utc(2026, 10, 20)  # first seen long before the run (KEV deadline 27 Oct: overdue)
RECENT = utc(2026, 11, 5)


def add_tenant(session: Session, slug: str, name: str, tz: str) -> int:
    row = TenantRow(slug=slug, name=name, timezone=tz, created_at=CREATED - timedelta(days=400))
    session.add(row)
    session.flush()
    return row.id


def add_site(session: Session, tenant_id: int, name: str, tz: str) -> int:
    row = SiteRow(tenant_id=tenant_id, name=name, timezone=tz)
    session.add(row)
    session.flush()
    return row.id


def host_row(tenant_id: int, site_id: int, name: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": tenant_id,
        "site_id": site_id,
        "name": name,
        "name_key": name.lower(),
        "os_family": "debian",
        "os_version": "12",
        "connector": "simulated",
        "address": None,
        "tags": [],
        "ring": None,
        "criticality": "medium",
        "internet_facing": False,
        "rdp_exposed": False,
        "calendar": None,
        "credential_ref": None,
        "quarantined": False,
        "quarantine_reason": None,
        "source": "factory",
        "last_scan_at": DETECTED,
        "last_scan_status": "ok",
        "last_scan_error": None,
        "created_at": CREATED - timedelta(days=300),
        "updated_at": CREATED - timedelta(days=1),
    }
    row.update(extra)
    return row


def add_hosts(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert hosts; returns name -> id."""
    session.execute(insert(HostRow), list(rows))
    names = [r["name"] for r in rows]
    found: dict[str, int] = {}
    for i in range(0, len(names), 5000):
        part = names[i : i + 5000]
        stmt = select(HostRow.name, HostRow.id).where(HostRow.name.in_(part))
        found.update((name, hid) for name, hid in session.execute(stmt))
    return found


def add_advisories(session: Session, specs: Sequence[tuple[str, str, bool]]) -> None:
    """(id, classification, kev) advisories."""
    session.execute(
        insert(AdvisoryRow),
        [
            {
                "id": adv_id,
                "vendor": "microsoft" if adv_id.startswith("KB") else "debian",
                "title": f"{adv_id} security update",
                "classification": classification,
                "severity": "important",
                "cves": [f"CVE-2026-{1000 + i}"],
                "cvss": 8.1,
                "epss": 0.2,
                "packages": [],
                "released": date(2026, 10, 14),
                "reboot_required": adv_id.startswith("KB"),
                "supersedes": [],
                "product": "",
                "kev": kev,
                "updated_at": CREATED,
            }
            for i, (adv_id, classification, kev) in enumerate(specs)
        ],
    )


def finding(  # noqa: PLR0917 - rows read as a table of positional values
    host_id: int,
    advisory: str,
    tier: str,
    first_seen: datetime,
    deadline: date,
    resolved_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "host_id": host_id,
        "advisory_id": advisory,
        "status": "resolved" if resolved_at else "open",
        "first_seen": first_seen,
        "last_seen": resolved_at or FINISHED,
        "resolved_at": resolved_at,
        "tier": tier,
        "score": {"P1": 95, "P2": 75, "P3": 50, "P4": 20}[tier],
        "reasons": "factory",
        "deadline": deadline,
    }


def job(
    run_id: str, host_id: int, ring: str, ring_index: int, state: str, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run_id,
        "host_id": host_id,
        "ring": ring,
        "ring_index": ring_index,
        "wave": 0,
        "state": state,
        "attempts": 1 if state not in ("pending", "skipped") else 0,
        "patches": [],
        "installed": [],
        "calendar": "always",
        "not_before": None,
        "planned_start": None,
        "planned_end": None,
        "est_seconds": 900,
        "deferrals": 0,
        "reboot_required": False,
        "rebooted": False,
        "snapshot_id": None,
        "started_at": None,
        "finished_at": None,
        "failed_step": None,
        "error": None,
        "updated_at": FINISHED,
    }
    row.update(extra)
    return row


def add_run(
    session: Session, run_id: str, *, status: str, summary: dict[str, Any], **extra: Any
) -> None:
    spec = CampaignSpec.model_validate(SPEC)
    values: dict[str, Any] = {
        "id": run_id,
        "campaign": spec.name,
        "spec": spec.model_dump(mode="json"),
        "spec_hash": spec_hash(spec),
        "spec_path": SPEC_PATH,
        "status": status,
        "dry_run": False,
        "clock_kind": "simulated",
        "params": {"campaign": SPEC_PATH},
        "requested_by": "dave",
        "flow_run_id": None,
        "current_ring": None,
        "clock": FINISHED,
        "created_at": CREATED,
        "started_at": CREATED,
        "finished_at": FINISHED,
        "summary": summary,
        "report_path": None,
        "error": None,
    }
    values.update(extra)
    session.execute(insert(CampaignRunRow), [values])


def add_approvers(session: Session) -> None:
    session.execute(
        insert(ApproverRow),
        [
            {"name": "alice", "role": "msp-lead", "tenants": ["*"], "active": True},
            {"name": "bob", "role": "tenant-admin", "tenants": ["acme"], "active": True},
            {"name": "erin", "role": "tenant-admin", "tenants": ["globex"], "active": True},
        ],
    )


def ring_summary(  # noqa: PLR0917 - rows read as a table of positional values
    name: str,
    index: int,
    hosts: int,
    status: str,
    start: datetime,
    end: datetime | None,
    gate: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "name": name,
        "index": index,
        "hosts": hosts,
        "status": status,
        "started_at": start.isoformat(),
        "finished_at": end.isoformat() if end else None,
        "gate": gate,
        "rolled_back": False,
    }


def gate(succeeded: int, failed: int, promote: bool, reasons: Sequence[str] = ()) -> dict[str, Any]:
    total = succeeded + failed
    return {
        "promote": promote,
        "success_rate": succeeded / total if total else 1.0,
        "succeeded": succeeded,
        "failed": failed,
        "reasons": list(reasons),
        "health_failures": [],
    }


@dataclass
class SeededRun:
    run_id: str
    host_ids: dict[str, int]
    approvals: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _events(
    session: Session,
    run_id: str,
    items: Sequence[tuple[datetime, str, str, str | None, dict[str, Any]]],
    host: str | None = None,
) -> None:
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action=action,
                run_id=run_id,
                subject=subject,
                details=details,
                host=host,
                at=at,
            )
            for at, actor, action, subject, details in items
        ],
    )


def _h(day: int, hour: int, minute: int = 0) -> datetime:
    return utc(2026, 11, day, hour, minute)


# Worked out by hand from seed_small_run below (see the comments there).
EXPECTED: dict[str, dict[str, Any]] = {
    "msp": {
        "hosts_in_scope": 11,
        "hosts_with_jobs": 9,
        "nothing_to_patch": 2,
        "succeeded": 4,
        "failed": 3,
        "skipped": 1,
        "rolled_back": 1,
        "in_progress": 0,
        "deferred": 2,
        "deferred_waiting": 0,
        "unreachable": 1,
        "compliant_before": 4,
        "compliant_after": 7,
        "findings_in_campaign": 11,
        "findings_resolved": 5,
        "resolved_in_run": 5,
        "sla_met": 4,
        "overdue_open": 2,
        "kev_open_after": 2,
        "hosts_missing_kev": 2,
        "trouble_total": 4,
        "ttp_median_hours": 214.0,
        "ttp_p90_hours": 432.1,
    },
    "acme": {
        "hosts_in_scope": 6,
        "hosts_with_jobs": 5,
        "nothing_to_patch": 1,
        "succeeded": 2,
        "failed": 2,
        "skipped": 0,
        "rolled_back": 1,
        "deferred": 1,
        "unreachable": 0,
        "compliant_before": 1,
        "compliant_after": 3,
        "findings_in_campaign": 7,
        "findings_resolved": 3,
        "resolved_in_run": 3,
        "sla_met": 2,
        "overdue_open": 1,
        "kev_open_after": 1,
        "trouble_total": 3,
        "ttp_median_hours": 214.0,
        "ttp_p90_hours": 502.4,
    },
    "globex": {
        "hosts_in_scope": 5,
        "hosts_with_jobs": 4,
        "nothing_to_patch": 1,
        "succeeded": 2,
        "failed": 1,
        "skipped": 1,
        "rolled_back": 0,
        "deferred": 1,
        "unreachable": 1,
        "compliant_before": 3,
        "compliant_after": 4,
        "findings_in_campaign": 4,
        "findings_resolved": 2,
        "resolved_in_run": 2,
        "sla_met": 2,
        "overdue_open": 1,
        "kev_open_after": 1,
        "trouble_total": 1,
        "ttp_median_hours": (11 + 55 / 60 + 218.5) / 2,
        "ttp_p90_hours": 11 + 55 / 60 + 0.9 * (218.5 - 11 - 55 / 60),
    },
}
DB_ERROR = "dpkg: error processing package openssl (--configure): exit status 1"
WAVE_ABORT = "wave aborted: 3 of 5 failed (> 20%)"


def seed_small_run(store: Store, run_id: str = "a1b2c3d4e5f6") -> SeededRun:
    """Two tenants, three rings, a halted run with every outcome; numbers in EXPECTED.

    acme (Europe/Paris): web01 lab patched (KEV fixed late, P2 on time), web02 pilot patched
    after a deferral, db01/db02 broad failed at install, dc01 broad rolled back (KEV still open,
    overdue), ws01 only a P4 bugfix (compliant, no job), ws99 no-patch and old01 quarantined
    (out of scope). globex (America/New_York): app01 pilot patched (P2 first seen at detection),
    app02 broad unreachable (KEV open, overdue), app03 skipped by the wave abort (P3 open),
    app04 broad patched after two deferrals, ws01 clean (no job).
    """
    with store.session() as s:
        acme = add_tenant(s, "acme", "ACME Manufacturing", "Europe/Paris")
        globex = add_tenant(s, "globex", "Globex Corporation", "America/New_York")
        paris = add_site(s, acme, "paris", "Europe/Paris")
        nyc = add_site(s, globex, "nyc", "America/New_York")
        ids = add_hosts(
            s,
            [
                host_row(acme, paris, "acme-web01", tags=["lab"]),
                host_row(acme, paris, "acme-web02", tags=["pilot"]),
                host_row(acme, paris, "acme-db01"),
                host_row(acme, paris, "acme-db02"),
                host_row(acme, paris, "acme-dc01", os_family="windows"),
                host_row(acme, paris, "acme-ws01", os_family="windows"),
                host_row(acme, paris, "acme-ws99", tags=["no-patch"]),
                host_row(acme, paris, "acme-old01", os_family="unknown", quarantined=True),
                host_row(globex, nyc, "globex-app01", tags=["pilot"]),
                host_row(
                    globex,
                    nyc,
                    "globex-app02",
                    last_scan_status="failed",
                    last_scan_error="connection timed out",
                ),
                host_row(globex, nyc, "globex-app03"),
                host_row(globex, nyc, "globex-app04"),
                host_row(globex, nyc, "globex-ws01"),
            ],
        )
        add_advisories(
            s,
            [
                ("KB5050001", "security", True),
                ("KB5050002", "security", False),
                ("DSA-5800-1", "security", False),
                ("DSA-5801-1", "bugfix", False),
            ],
        )
        kev, p2, p3, p4 = "KB5050001", "KB5050002", "DSA-5800-1", "DSA-5801-1"
        old_dl, recent_dl, p3_dl = date(2026, 10, 27), date(2026, 11, 19), date(2026, 12, 5)
        bulk_insert(
            s,
            FindingRow.__table__,
            [
                finding(ids["acme-web01"], kev, "P1", OLD, old_dl, _h(12, 22, 30)),
                finding(ids["acme-web01"], p2, "P2", RECENT, recent_dl, _h(12, 22, 30)),
                finding(ids["acme-web02"], p2, "P2", RECENT, recent_dl, _h(13, 22)),
                finding(ids["acme-db01"], p2, "P2", RECENT, recent_dl),
                finding(ids["acme-db01"], p3, "P3", RECENT, p3_dl),
                finding(ids["acme-db02"], p2, "P2", RECENT, recent_dl),
                finding(ids["acme-dc01"], kev, "P1", OLD, old_dl),
                finding(ids["acme-ws01"], p4, "P4", utc(2026, 10, 1), date(2026, 12, 30)),
                finding(ids["acme-ws99"], kev, "P1", OLD, old_dl),
                finding(ids["acme-old01"], kev, "P1", OLD, old_dl),
                finding(ids["globex-app01"], p2, "P2", DETECTED, date(2026, 11, 26), _h(13, 9)),
                finding(ids["globex-app02"], kev, "P1", OLD, old_dl),
                finding(ids["globex-app03"], p3, "P3", RECENT, p3_dl),
                finding(ids["globex-app04"], p3, "P3", RECENT, p3_dl, _h(14, 2, 30)),
                # Fixed before this run: never counted in it.
                finding(
                    ids["globex-ws01"],
                    p2,
                    "P2",
                    utc(2026, 9, 1),
                    date(2026, 9, 15),
                    utc(2026, 9, 10),
                ),
            ],
        )
        summary = {
            "rings": [
                ring_summary(
                    "lab", 0, 1, "promoted", _h(12, 21, 8), _h(12, 22, 45), gate(1, 0, True)
                ),
                ring_summary(
                    "pilot", 1, 2, "promoted", _h(13, 8, 20), _h(13, 22, 15), gate(2, 0, True)
                ),
                ring_summary(
                    "broad",
                    2,
                    6,
                    "halted",
                    _h(13, 22, 30),
                    _h(14, 3, 30),
                    gate(1, 4, False, ["success rate 20.0 % is below the 80.0 % gate"]),
                ),
            ],
            "detected_at": DETECTED.isoformat(),
            "planned_at": _h(12, 21, 6).isoformat(),
            "scope_hosts": 11,
            "hosts_with_patches": 9,
            "hosts_compliant_at_start": 2,
            "totals": {"succeeded": 4, "failed": 3, "skipped": 1, "rolled_back": 1, "deferred": 2},
        }
        add_run(s, run_id, status="halted", summary=summary)
        add_approvers(s)
        j = [
            job(
                run_id,
                ids["acme-web01"],
                "lab",
                0,
                "succeeded",
                patches=[kev, p2],
                installed=[kev, p2],
                started_at=_h(12, 21, 10),
                finished_at=_h(12, 22, 30),
                rebooted=True,
                reboot_required=True,
            ),
            job(
                run_id,
                ids["acme-web02"],
                "pilot",
                1,
                "succeeded",
                patches=[p2],
                installed=[p2],
                deferrals=1,
                not_before=_h(13, 21),
                started_at=_h(13, 21),
                finished_at=_h(13, 22),
            ),
            job(
                run_id,
                ids["globex-app01"],
                "pilot",
                1,
                "succeeded",
                patches=[p2],
                installed=[p2],
                started_at=_h(13, 8, 30),
                finished_at=_h(13, 9),
            ),
            job(
                run_id,
                ids["acme-db01"],
                "broad",
                2,
                "failed",
                patches=[p2, p3],
                started_at=_h(13, 22, 40),
                finished_at=_h(13, 23, 10),
                failed_step="install",
                error=DB_ERROR,
                attempts=3,
            ),
            job(
                run_id,
                ids["acme-db02"],
                "broad",
                2,
                "failed",
                patches=[p2],
                started_at=_h(13, 22, 40),
                finished_at=_h(13, 23, 12),
                failed_step="install",
                error=DB_ERROR,
                attempts=3,
            ),
            job(
                run_id,
                ids["acme-dc01"],
                "broad",
                2,
                "rolled_back",
                patches=[kev],
                installed=[],
                started_at=_h(13, 22, 40),
                finished_at=_h(13, 23, 40),
                failed_step="postcheck",
                error="postcheck services-up failed: NTDS did not start",
                snapshot_id="snap-dc01",
            ),
            job(
                run_id,
                ids["globex-app02"],
                "broad",
                2,
                "failed",
                patches=[kev],
                started_at=_h(13, 22, 40),
                finished_at=_h(13, 23),
                failed_step="connect",
                error="host unreachable: connection timed out",
                attempts=3,
            ),
            job(
                run_id,
                ids["globex-app03"],
                "broad",
                2,
                "skipped",
                patches=[p3],
                wave=1,
                error=WAVE_ABORT,
                finished_at=_h(13, 23, 15),
            ),
            job(
                run_id,
                ids["globex-app04"],
                "broad",
                2,
                "succeeded",
                patches=[p3],
                installed=[p3],
                deferrals=2,
                not_before=_h(14, 2),
                started_at=_h(14, 2),
                finished_at=_h(14, 2, 30),
            ),
        ]
        s.execute(insert(HostJobRow), j)

        def ev(
            at: datetime,
            action: str,
            subject: str | None = None,
            actor: str = "patchwave",
            **details: Any,
        ) -> None:
            _events(s, run_id, [(at, actor, action, subject, details)])

        ev(CREATED, "run.created", actor="dave")
        ev(CREATED, "run.started")
        ev(DETECTED, "detect.completed", hosts=11, findings=14)
        ev(_h(12, 21, 6), "plan.created", hosts=9)
        approvals = []
        lab = create_request(
            s,
            run_id=run_id,
            ring="lab",
            plan_hash="h-lab",
            tenants=["acme"],
            approver_groups=["msp-leads"],
            min_approvers=1,
            critical=True,
            requested_by="dave",
            requested_at=_h(12, 21, 7),
            expires_at=_h(12, 22, 7),
            summary={},
        )
        auto_approve(
            s, request_id=lab.id, now=_h(12, 21, 7), reason="approval: auto in the campaign"
        )
        ev(_h(12, 21, 8), "ring.started", "lab")
        _events(
            s,
            run_id,
            [
                (
                    _h(12, 21, 10),
                    "patchwave",
                    "job.installing",
                    "lab",
                    {"from": "queued", "to": "installing"},
                ),
                (
                    _h(12, 22, 30),
                    "patchwave",
                    "job.succeeded",
                    "lab",
                    {"from": "verifying", "to": "succeeded"},
                ),
            ],
            host="acme/acme-web01",
        )
        ev(_h(12, 22, 45), "ring.gate", "lab", promote=True, success_rate=1.0, reasons=[])
        pilot = []
        for tenant in ("acme", "globex"):
            pilot.append(
                create_request(
                    s,
                    run_id=run_id,
                    ring="pilot",
                    plan_hash=f"h-pilot-{tenant}",
                    tenants=[tenant],
                    approver_groups=["tenant-admins"],
                    min_approvers=1,
                    critical=False,
                    requested_by="dave",
                    requested_at=_h(12, 22, 46),
                    expires_at=_h(13, 22, 46),
                    summary={},
                )
            )
        # erin administers globex only: her attempt on acme's request is refused (and audited).
        decide(
            s,
            request_id=pilot[0].id,
            approver=load_approver(s, "erin"),
            approver_label="erin",
            approve=True,
            channel="slack",
            now=_h(12, 23, 5),
        )
        decide(
            s,
            request_id=pilot[0].id,
            approver=load_approver(s, "bob"),
            approver_label="bob",
            approve=True,
            channel="slack",
            now=_h(12, 23, 10),
        )
        decide(
            s,
            request_id=pilot[1].id,
            approver=load_approver(s, "alice"),
            approver_label="alice",
            approve=True,
            channel="ui",
            now=_h(13, 8, 15),
            comment="Globex change board agreed",
        )
        ev(_h(13, 8, 20), "ring.started", "pilot")
        ev(_h(13, 22, 15), "ring.gate", "pilot", promote=True, success_rate=1.0, reasons=[])
        broad = create_request(
            s,
            run_id=run_id,
            ring="broad",
            plan_hash="h-broad",
            tenants=["acme", "globex"],
            approver_groups=["msp-leads"],
            min_approvers=1,
            critical=True,
            requested_by="dave",
            requested_at=_h(13, 22, 20),
            expires_at=_h(13, 23, 20),
            summary={},
        )
        decide(
            s,
            request_id=broad.id,
            approver=load_approver(s, "alice"),
            approver_label="alice",
            approve=True,
            channel="cli",
            now=_h(13, 22, 25),
        )
        ev(_h(13, 22, 30), "ring.started", "broad")
        ev(
            _h(13, 23, 35),
            "rollback.requested",
            "broad",
            reason="postcheck services-up failed on acme-dc01",
        )
        ev(_h(13, 23, 40), "rollback.completed", "broad", hosts=["acme/acme-dc01"])
        ev(_h(13, 23, 50), "notify.failed", error="Slack answered 503")
        ev(
            _h(14, 3, 30),
            "ring.gate",
            "broad",
            promote=False,
            success_rate=0.2,
            reasons=["success rate 20.0 % is below the 80.0 % gate"],
        )
        ev(_h(14, 3, 31), "ring.halted", "broad")
        ev(FINISHED, "run.finished", status="halted")
        approvals = [lab.id, pilot[0].id, pilot[1].id, broad.id]
    return SeededRun(run_id, ids, approvals)


LARGE_START = utc(2026, 11, 10, 21, 0)
LARGE_END = utc(2026, 11, 13, 5, 0)
ZONES = ("Europe/Paris", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC")
ERRORS = (
    ("install", "Windows Update returned 0x80070643 (installation failure)"),
    ("install", "dpkg: error processing package openssl (--configure)"),
    ("connect", "host unreachable: connection timed out"),
    ("reboot", "host did not come back within 20 minutes after reboot"),
    ("precheck", "free-disk-2g: only 1.1 GiB free on /"),
)


def seed_large_run(
    store: Store,
    *,
    hosts: int = 10_000,
    findings_per_host: int = 20,
    tenants: int = 25,
    run_id: str = "0123456789ab",
    seed: int = 7,
) -> SeededRun:
    """A completed three-ring run over ``hosts`` hosts with about hosts x findings_per_host
    findings: ~85% patched, 5% failed, 3% skipped, 2% rolled back, 8% deferred, 5% no job."""
    rnd = random.Random(seed)
    advisories = [(f"KB50{i:05d}", "security", i % 20 == 0) for i in range(300)]
    kev_ids = {a for a, _, k in advisories if k}
    counts: dict[str, int] = {}
    with store.session() as s:
        add_advisories(s, advisories)
        rows = []
        for t in range(tenants):
            tz = ZONES[t % len(ZONES)]
            tid = add_tenant(s, f"client{t:02d}", f"Client {t:02d} Ltd", tz)
            sites = [add_site(s, tid, f"site{k}", tz) for k in range(2)]
            for h in range(hosts // tenants):
                rows.append(
                    host_row(
                        tid, sites[h % 2], f"c{t:02d}-host{h:05d}", tags=["lab"] if h < 3 else []
                    )
                )
        ids = add_hosts(s, rows)
        add_run(
            s,
            run_id,
            status="completed",
            created_at=LARGE_START,
            started_at=LARGE_START,
            finished_at=LARGE_END,
            clock=LARGE_END,
            summary={
                "rings": [
                    ring_summary(
                        n,
                        i,
                        0,
                        "promoted",
                        LARGE_START + timedelta(hours=8 * i),
                        LARGE_START + timedelta(hours=8 * i + 7),
                        gate(1, 0, True),
                    )
                    for i, n in enumerate(("lab", "pilot", "broad"))
                ],
                "detected_at": LARGE_START.isoformat(),
            },
        )
        found, jobs, events = [], [], []
        states = (
            ["succeeded"] * 85
            + ["failed"] * 5
            + ["skipped"] * 3
            + ["rolled_back"] * 2
            + ["none"] * 5
        )
        for name, hid in ids.items():
            state = rnd.choice(states)
            advs = rnd.sample(advisories, findings_per_host)
            patches = []
            for adv, _, is_kev in advs:
                tier = "P1" if is_kev else rnd.choice(("P2", "P3", "P3", "P4"))
                if state == "none" and tier != "P4":
                    tier = "P4"
                first = LARGE_START - timedelta(hours=rnd.randint(0, 24 * 60))
                deadline = (
                    first + timedelta(days={"P1": 7, "P2": 14, "P3": 30, "P4": 90}[tier])
                ).date()
                selected = tier != "P4"
                resolved = None
                if selected and state == "succeeded":
                    resolved = LARGE_START + timedelta(minutes=rnd.randint(30, 55 * 60))
                if selected:
                    patches.append(adv)
                found.append(finding(hid, adv, tier, first, deadline, resolved))
            counts[state] = counts.get(state, 0) + 1
            if state == "none":
                continue
            ring = (
                0
                if name.endswith(("host00000", "host00001", "host00002"))
                else rnd.choice((1, 2, 2, 2))
            )
            step, error = rnd.choice(ERRORS) if state == "failed" else (None, None)
            deferred = rnd.random() < 0.08
            jobs.append(
                job(
                    run_id,
                    hid,
                    ("lab", "pilot", "broad")[ring],
                    ring,
                    state,
                    patches=patches,
                    installed=patches if state == "succeeded" else [],
                    wave=rnd.randint(0, 3),
                    failed_step=step,
                    error=error
                    if state == "failed"
                    else (WAVE_ABORT if state == "skipped" else None),
                    deferrals=1 if deferred else 0,
                    not_before=LARGE_START + timedelta(days=1) if deferred else None,
                    started_at=LARGE_START + timedelta(hours=1),
                    finished_at=LARGE_END - timedelta(hours=1),
                )
            )
            events.extend(
                AuditEvent(
                    "patchwave",
                    f"job.{st}",
                    run_id=run_id,
                    host=name,
                    subject=("lab", "pilot", "broad")[ring],
                    details={"to": st},
                    at=LARGE_START + timedelta(hours=2),
                )
                for st in ("queued", "installing", state)
            )
        bulk_insert(s, FindingRow.__table__, found)
        for i in range(0, len(jobs), 5000):
            s.execute(insert(HostJobRow), jobs[i : i + 5000])
        append(s, events)
        add_approvers(s)
        req = create_request(
            s,
            run_id=run_id,
            ring="broad",
            plan_hash="h",
            tenants=[f"client{t:02d}" for t in range(tenants)],
            approver_groups=["msp-leads"],
            min_approvers=1,
            critical=True,
            requested_by="dave",
            requested_at=LARGE_START,
            expires_at=LARGE_END,
            summary={},
        )
        decide(
            s,
            request_id=req.id,
            approver=load_approver(s, "alice"),
            approver_label="alice",
            approve=True,
            channel="slack",
            now=LARGE_START + timedelta(minutes=5),
        )
    counts["findings"] = len(found)
    counts["kev_advisories"] = len(kev_ids)
    return SeededRun(run_id, ids, [req.id], counts)
