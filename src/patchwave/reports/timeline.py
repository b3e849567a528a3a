"""The story of a run for people: ring timelines from the audit log and the run summary, and the
approvals (who decided what, when, through which channel)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from patchwave.campaign.approvals import AUTO_APPROVER
from patchwave.reports.metrics import RingCount
from patchwave.reports.records import ApprovalRecord, EventRecord

CHANNELS = {"cli": "CLI", "ui": "Prefect UI", "slack": "Slack", "auto": "automatic"}


def person(name: str) -> str:
    return "campaign rule (auto-approval)" if name == AUTO_APPROVER else name


def channel_label(channel: str | None) -> str:
    return CHANNELS.get(channel or "", channel or "")


@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    actor: str
    title: str
    detail: str = ""
    tone: str = ""  # "", "bad", "warn", "good": colour only where it means something
    until: datetime | None = None  # an approval request's expiry


@dataclass(frozen=True, slots=True)
class GateView:
    promote: bool
    success_rate: float | None
    succeeded: int
    failed: int
    reasons: list[str]
    health_failures: list[str]


@dataclass(slots=True)
class RingView:
    name: str
    index: int
    status: str
    hosts: int
    started_at: datetime | None
    finished_at: datetime | None
    gate: GateView | None
    rolled_back: bool
    counts: RingCount | None
    events: list[EventView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DecisionView:
    approver: str
    decision: str
    channel: str
    at: datetime
    comment: str


@dataclass(frozen=True, slots=True)
class ApprovalView:
    id: str
    ring: str
    tenants: list[str]
    status: str
    critical: bool
    min_approvers: int
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    decisions: list[DecisionView]


def approval_views(approvals: Sequence[ApprovalRecord]) -> list[ApprovalView]:
    return [
        ApprovalView(
            id=a.id,
            ring=a.ring,
            tenants=list(a.tenants),
            status=a.status,
            critical=a.critical,
            min_approvers=a.min_approvers,
            requested_by=a.requested_by,
            requested_at=a.requested_at,
            expires_at=a.expires_at,
            decided_at=a.decided_at,
            decisions=[
                DecisionView(
                    approver=person(d.approver),
                    decision="approved" if d.decision == "approve" else "rejected",
                    channel=channel_label(d.channel),
                    at=d.at,
                    comment=d.comment or "",
                )
                for d in a.decisions
            ],
        )
        for a in approvals
    ]


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.1f} %" if isinstance(value, int | float) else "n/a"


def _names(items: Any, limit: int = 6) -> str:
    """Tenant slugs for a sentence, the first few only when there are many."""
    names = [str(i) for i in items] if isinstance(items, list) else []
    if not names:
        return "all clients"
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more clients"


def _join(items: Any) -> str:
    return "; ".join(str(i) for i in items) if isinstance(items, list) else ""


def describe(ev: EventRecord, *, client: bool = False) -> EventView | None:
    """One audit event as a timeline line (None for events that say nothing to a reader).

    ``client``: a client's report leaves out fleet-wide numbers and other tenants' names.
    """
    d, who = ev.details, person(ev.actor)
    ring = (ev.subject or "").split(":", 1)[0]
    simple = {
        "run.created": ("Run created", ""),
        "run.started": ("Run started", ""),
        "run.resumed": ("Run resumed after an interruption", "warn"),
        "plan.created": ("Plan created", ""),
        "ring.started": (f"Ring {ring} started", ""),
        "ring.halted": (f"Ring {ring} halted", "bad"),
        "ring.rolled_back": (f"Ring {ring} rolled back", "bad"),
        "rollback.requested": ("Rollback requested", "warn"),
        "approval.approved": (f"Approval for {ring} granted", "good"),
        "approval.rejected": (f"Approval for {ring} rejected", "bad"),
        "approval.expired": (f"Approval for {ring} expired without a decision", "bad"),
        "notify.failed": ("A notification could not be delivered", "warn"),
    }
    if ev.action in simple:
        title, tone = simple[ev.action]
        detail = str(d.get("reason") or d.get("error") or "")
        return EventView(ev.at, who, title, detail, tone)
    if ev.action == "rollback.completed":
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in d.items() if isinstance(v, int))
        return EventView(ev.at, who, "Rollback completed", "" if client else counts, "warn")
    if ev.action == "run.finished":
        status = str(d.get("status", "finished"))
        tone = "good" if status == "completed" else "bad"
        return EventView(ev.at, who, f"Run finished: {status}", str(d.get("error") or ""), tone)
    if ev.action == "detect.completed":
        bits = [f"{k.replace('_', ' ')} {v}" for k, v in d.items() if isinstance(v, int | float)]
        return EventView(ev.at, who, "Detection completed", "" if client else ", ".join(bits))
    if ev.action == "ring.gate":
        promote = bool(d.get("promote"))
        title = f"Gate of {ring}: {'promote' if promote else 'halt'}"
        # The gate's own reasons already quote the rate when it decided against promotion.
        detail = _join(d.get("reasons")) or f"success rate {_pct(d.get('success_rate'))}"
        return EventView(ev.at, who, title, detail, "good" if promote else "bad")
    if ev.action == "approval.requested":
        need = int(d.get("min_approvers", 1))
        detail = f"{need} approver{'s' if need > 1 else ''} needed"
        if not client:
            detail = f"for {_names(d.get('tenants'))}; {detail}"
        title = f"Approval requested for ring {ring}"
        return EventView(ev.at, who, title, detail, "", _time(d.get("expires_at")))
    if ev.action == "approval.decision":
        word = "approved" if d.get("decision") == "approve" else "rejected"
        if d.get("channel") == "auto":
            title = f"Ring {ring} {word} automatically by the campaign's rule"
            return EventView(ev.at, "patchwave", title, "")
        title = f"{who} {word} ring {ring} via {channel_label(str(d.get('channel', '')))}"
        return EventView(ev.at, who, title, str(d.get("comment") or ""), "")
    if ev.action == "approval.refused":
        title = f"Refused: {who} tried to {d.get('decision', 'decide')} ring {ring}"
        return EventView(ev.at, who, title, str(d.get("reason") or ""), "warn")
    return EventView(ev.at, who, ev.action, "")


def _ring_of(ev: EventRecord, names: set[str]) -> str | None:
    subject = (ev.subject or "").split(":", 1)[0]
    if subject in names:
        return subject
    ring = ev.details.get("ring")
    return str(ring) if isinstance(ring, str) and ring in names else None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ring_views(
    summary: dict[str, Any],
    counts: Sequence[RingCount],
    events: Sequence[EventRecord],
    *,
    keep: Callable[[EventRecord], bool],
    scrub: Callable[[str], str | None],
    client: bool = False,
) -> tuple[list[RingView], list[EventView]]:
    """Rings in order with their events, and the run-level events that belong to no ring.

    ``keep`` drops events a client must not see (another tenant's approvals); ``scrub`` returns
    a text fit for the reader, or None when it names someone else's hosts.
    """
    by_name = {c.ring: c for c in counts}
    rings: list[RingView] = []
    for i, r in enumerate(summary.get("rings") or []):
        name = str(r.get("name", f"ring {i}"))
        gate = r.get("gate")
        rings.append(
            RingView(
                name=name,
                index=int(r.get("index", i)),
                status=str(r.get("status", "pending")),
                hosts=by_name[name].hosts
                if name in by_name
                else (0 if client else int(r.get("hosts", 0))),
                started_at=_time(r.get("started_at")),
                finished_at=_time(r.get("finished_at")),
                gate=GateView(
                    promote=bool(gate.get("promote")),
                    success_rate=gate.get("success_rate"),
                    succeeded=int(gate.get("succeeded", 0)),
                    failed=int(gate.get("failed", 0)),
                    reasons=[t for x in gate.get("reasons") or [] if (t := scrub(str(x)))],
                    health_failures=[
                        t for x in gate.get("health_failures") or [] if (t := scrub(str(x)))
                    ],
                )
                if isinstance(gate, dict)
                else None,
                rolled_back=bool(r.get("rolled_back")),
                counts=by_name.get(name),
            )
        )
    for c in counts:  # rings with jobs that the summary does not (yet) describe
        if c.ring not in {r.name for r in rings}:
            rings.append(RingView(c.ring, c.index, "pending", c.hosts, None, None, None, False, c))
    rings.sort(key=lambda r: r.index)
    index = {r.name: r for r in rings}
    run_level: list[EventView] = []
    for ev in events:
        if not keep(ev):
            continue
        view = describe(ev, client=client)
        if view is None:
            continue
        detail = scrub(view.detail) if view.detail else ""
        if detail is None:  # the detail names another client's hosts
            if ev.action.startswith("rollback."):
                continue  # a rollback of someone else's host is not this client's story
            view = EventView(view.at, view.actor, view.title, "", view.tone, view.until)
        ring = _ring_of(ev, set(index))
        (index[ring].events if ring else run_level).append(view)
    return rings, run_level
