"""Slack for campaigns: small sync functions the flow (and the Slack app) call with plain ids.

Each function reads what to say from the store (:mod:`patchwave.notify.campaign_messages`), routes
it (tenant channel, else the spec's ``notify.slack.channel``, else ``slack_default_channel``),
delivers it with a :class:`SlackNotifier` and records every :class:`DeliveryResult` in the
``notifications`` table (a failure also as a ``notify.failed`` audit event). They never raise:
Slack disabled (no ``slack_token_ref``), misconfigured or down is logged and recorded, and the
campaign goes on. Messages carry a subject, so a resumed run does not send an alert twice, and
the wave and approval messages' references are read back from the store, so a resumed run (or
the Slack app in another process) edits the same Slack message.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patchwave.notify import campaign_messages as build
from patchwave.notify import run_messages
from patchwave.notify.messages import (
    ApprovalDecided,
    ApprovalRequest,
    FailureAlert,
    Message,
    WaveProgress,
    progress_key,
)
from patchwave.notify.ratelimit import ChannelPacer
from patchwave.notify.results import DeliveryResult, MessageRef
from patchwave.notify.slack import SlackNotifier
from patchwave.settings import Settings, get_settings
from patchwave.store import Store
from patchwave.store.audit import AuditEvent, append
from patchwave.store.tables import ApprovalRow, CampaignRunRow, NotificationRow

log = logging.getLogger("patchwave.notify.campaign")


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """The Slack part of the settings; ``None`` from :meth:`from_settings` = Slack disabled."""

    token_ref: str
    base_url: str
    default_channel: str
    rate_per_channel: float = 1.0
    public_report_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SlackConfig | None:
        s = settings or get_settings()
        if not s.slack_token_ref:
            return None
        return cls(
            token_ref=s.slack_token_ref,
            base_url=s.slack_base_url,
            default_channel=s.slack_default_channel,
            rate_per_channel=s.slack_rate_per_channel,
            public_report_url=s.public_report_url,
        )


_LOCK = threading.Lock()
# One pacer per workspace and process: every notifier of the process shares Slack's per-channel
# budget, whichever run or tenant mapping it serves.
_PACERS: dict[tuple[str, str], ChannelPacer] = {}
_NOTIFIERS: OrderedDict[tuple[Any, ...], SlackNotifier] = OrderedDict()
_MAX_NOTIFIERS = 32


def notifier_for(
    config: SlackConfig, *, default_channel: str, tenant_channels: dict[str, str]
) -> SlackNotifier:
    """A notifier for this routing, reused within the process (its client and token too)."""
    key = (config, default_channel, tuple(sorted(tenant_channels.items())))
    with _LOCK:
        notifier = _NOTIFIERS.get(key)
        if notifier is not None:
            _NOTIFIERS.move_to_end(key)
            return notifier
        pacer = _PACERS.setdefault(
            (config.token_ref, config.base_url), ChannelPacer(config.rate_per_channel)
        )
        notifier = SlackNotifier(
            token_ref=config.token_ref,
            default_channel=default_channel,
            tenant_channels=tenant_channels,
            base_url=config.base_url,
            pacer=pacer,
        )
        _NOTIFIERS[key] = notifier
        while len(_NOTIFIERS) > _MAX_NOTIFIERS:
            _NOTIFIERS.popitem(last=False)
        return notifier


def reset_notifiers() -> None:
    """Forget cached notifiers and pacers (tests; after the settings changed)."""
    with _LOCK:
        _NOTIFIERS.clear()
        _PACERS.clear()


def _now() -> datetime:
    return datetime.now(UTC)


def _already_sent(session: Session, subject: str) -> bool:
    stmt = select(NotificationRow.id).where(
        NotificationRow.subject == subject, NotificationRow.status == "sent"
    )
    return session.scalar(stmt.limit(1)) is not None


def _stored_ref(session: Session, key: str) -> MessageRef | None:
    """The last message posted under ``key`` (a wave's progress message) that we may edit."""
    row = session.scalar(
        select(NotificationRow)
        .where(
            NotificationRow.ref_key == key,
            NotificationRow.status == "sent",
            NotificationRow.channel_id.is_not(None),
            NotificationRow.slack_ts.is_not(None),
            NotificationRow.thread_ts.is_(None),
        )
        .order_by(NotificationRow.id.desc())
        .limit(1)
    )
    if row is None or row.channel_id is None or row.slack_ts is None:
        return None
    return MessageRef(row.channel, row.channel_id, row.slack_ts)


def _approval_ref(session: Session, request_id: str) -> MessageRef | None:
    row = session.get(ApprovalRow, request_id)
    if row is None or not row.slack_channel or not row.slack_ts:
        return None
    posted = _stored_ref(session, f"approval:{request_id}")
    name = posted.channel if posted else row.slack_channel  # the name paces like the post did
    return MessageRef(name, row.slack_channel, row.slack_ts)


def record(
    store: Store, result: DeliveryResult, *, run_id: str | None, subject: str | None
) -> None:
    """Persist one delivery; a failure is also audited (``notify.failed``). Never raises."""
    status = (
        "sent" if result.ok and not result.coalesced else "coalesced" if result.ok else "failed"
    )
    try:
        with store.session() as session:
            session.add(
                NotificationRow(
                    run_id=run_id,
                    kind=result.kind,
                    channel=result.channel[:100],
                    status=status,
                    attempts=result.attempts,
                    error=result.error,
                    slack_ts=result.ts,
                    at=result.at,
                    subject=subject,
                    ref_key=result.ref_key,
                    channel_id=result.channel_id,
                    thread_ts=result.thread_ts,
                )
            )
            if not result.ok:
                details = {
                    "kind": result.kind,
                    "channel": result.channel,
                    "error": result.error,
                    "attempts": result.attempts,
                    "permanent": result.permanent,
                }
                event = AuditEvent(
                    actor="patchwave",
                    action="notify.failed",
                    run_id=run_id,
                    subject=subject or result.kind,
                    at=result.at,
                    details=details,
                )
                append(session, [event])
    except Exception:  # recording must not fail the campaign either
        log.exception("could not record the %s notification", result.kind)


def _failed(kind: str, channel: str, error: str) -> DeliveryResult:
    return DeliveryResult(
        kind=kind, ok=False, channel=channel, method="none", attempts=0, error=error, permanent=True
    )


Plan = list[tuple[Message, str | None]]
Planner = Callable[[Session, build.Routing], Plan]


def _deliver(
    store: Store,
    run_id: str | None,
    plan: Planner,
    *,
    settings: Settings | None,
    what: str,
    after: Callable[[Store, Message, DeliveryResult], None] | None = None,
) -> list[DeliveryResult]:
    """Build the messages in one read transaction, send each, record each. Never raises."""
    try:
        config = SlackConfig.from_settings(settings)
        if config is None:
            log.debug("Slack is not configured (slack_token_ref): %s not sent", what)
            return []
        with store.session() as session:
            run = session.get(CampaignRunRow, run_id) if run_id else None
            route = build.routing(session, run, config.default_channel)
            messages = plan(session, route)
            refs = _refs_for(session, [m for m, _ in messages])
    except Exception as exc:
        log.exception("Slack %s: could not read what to send", what)
        return [_failed(what, "?", f"build_failed: {type(exc).__name__}: {exc}")]
    results = []
    for message, subject in messages:
        channel = _channel(route, message)
        try:
            notifier = notifier_for(
                config, default_channel=route.default_channel, tenant_channels=route.tenant_channels
            )
            for key, ref in refs.items():
                notifier.remember(key, ref)
            result = notifier.send_sync(message)
        except Exception as exc:  # a SlackConfigError (bad reference) or anything unforeseen
            log.exception("Slack %s to %s could not be sent", message.kind, channel)
            result = _failed(message.kind, channel, f"{type(exc).__name__}: {exc}")
        record(store, result, run_id=run_id, subject=subject)
        if after is not None and result.ok:
            try:
                after(store, message, result)
            except Exception:
                log.exception("after sending %s", message.kind)
        results.append(result)
    return results


def _channel(route: build.Routing, message: Message) -> str:
    tenant = getattr(message, "tenant", None)
    return (
        route.tenant_channels.get(tenant, route.default_channel)
        if tenant
        else route.default_channel
    )


def _refs_for(session: Session, messages: Sequence[Message]) -> dict[str, MessageRef]:
    """Stored message references the messages will edit or thread under."""
    refs: dict[str, MessageRef] = {}
    for message in messages:
        if isinstance(message, WaveProgress):
            key = message.ref_key
        elif isinstance(message, FailureAlert):
            key = message.progress_ref_key
        elif isinstance(message, ApprovalDecided):
            key = message.request_ref_key
        else:
            continue
        if key in refs:
            continue
        if key.startswith("approval:"):
            ref = _approval_ref(session, key.removeprefix("approval:"))
        else:
            ref = _stored_ref(session, key)
        if ref is not None:
            refs[key] = ref
    return refs


def _fresh(session: Session, items: Sequence[tuple[Any, str]]) -> Plan:
    """Drop messages already delivered (a resumed run calls again)."""
    return [(m, s) for m, s in items if not _already_sent(session, s)]


def notify_approval_requested(
    store: Store, run_id: str, request_ids: Sequence[str], *, settings: Settings | None = None
) -> list[DeliveryResult]:
    """Post one approval request per id (Approve/Reject buttons) and remember its message."""

    def plan(session: Session, route: build.Routing) -> Plan:
        items = []
        for rid in request_ids:
            row = session.get(ApprovalRow, rid)
            if row is None or row.status != "pending" or row.slack_ts:
                continue  # decided already, or posted before a resume
            message = build.approval_request(session, rid)
            if message is not None:
                items.append((message, f"approval:{rid}"))
        return _fresh(session, items)

    def attach(store: Store, message: Message, result: DeliveryResult) -> None:
        from patchwave.campaign.approvals import attach_slack_message

        if isinstance(message, ApprovalRequest) and result.channel_id and result.ts:
            with store.session() as session:
                attach_slack_message(
                    session, message.request_id, channel=result.channel_id, ts=result.ts
                )

    return _deliver(store, run_id, plan, settings=settings, what="approval_request", after=attach)


def notify_approval_decided(
    store: Store, request_id: str, *, settings: Settings | None = None
) -> list[DeliveryResult]:
    """Show the decision: the request message is replaced (buttons gone) when final, a "k of n
    approvals" reply goes in its thread otherwise. Each state is announced once."""
    with store.session() as session:
        row = session.get(ApprovalRow, request_id)
        run_id = row.run_id if row else None

    def plan(session: Session, route: build.Routing) -> Plan:
        message = build.approval_decided(session, request_id)
        if message is None:
            return []
        subject = f"decided:{request_id}:{message.approvals}:{message.decision}"
        return _fresh(session, [(message, subject)])

    return _deliver(store, run_id, plan, settings=settings, what="approval_decided")


def notify_wave_progress(
    store: Store, run_id: str, ring: str, wave: int, *, settings: Settings | None = None
) -> list[DeliveryResult]:
    """Post the wave's progress message, or edit it in place (when the spec asks for progress)."""

    def plan(session: Session, route: build.Routing) -> Plan:
        if not route.progress:
            return []
        message = run_messages.wave_progress(session, run_id, ring, wave, now=_now())
        return [(message, progress_key(run_id, ring, wave))] if message else []

    return _deliver(store, run_id, plan, settings=settings, what="wave_progress")


def notify_host_failures(
    store: Store, run_id: str, host_job_ids: Sequence[int], *, settings: Settings | None = None
) -> list[DeliveryResult]:
    """One alert per failed host job, in its wave message's thread when there is one; each
    (job, attempt) once. Nothing when the spec wants failures only in the summary."""

    def plan(session: Session, route: build.Routing) -> Plan:
        if route.failures != "immediate":
            return []
        return _fresh(
            session, run_messages.failure_alerts(session, run_id, host_job_ids, now=_now())
        )

    return _deliver(store, run_id, plan, settings=settings, what="failure_alert")


def notify_gate_halted(
    store: Store, run_id: str, ring: str, *, settings: Settings | None = None
) -> list[DeliveryResult]:
    def plan(session: Session, route: build.Routing) -> Plan:
        message = run_messages.gate_halted(session, run_id, ring)
        return _fresh(session, [(message, f"halted:{run_id}:{ring}")]) if message else []

    return _deliver(store, run_id, plan, settings=settings, what="gate_halted")


def report_link(report_path: str | Path | None, settings: Settings | None = None) -> str | None:
    """The report's public URL (``public_report_url`` + file name); a local path is no link."""
    base = (settings or get_settings()).public_report_url
    if not report_path or not base:
        return None
    return f"{base.rstrip('/')}/{Path(report_path).name}"


def notify_completed(
    store: Store,
    run_id: str,
    report_path: str | Path | None,
    *,
    settings: Settings | None = None,
) -> list[DeliveryResult]:
    """The run's outcome with per-tenant counts and the report link (once per run)."""

    def plan(session: Session, route: build.Routing) -> Plan:
        url = report_link(report_path, settings)
        message = run_messages.campaign_completed(session, run_id, report_url=url, now=_now())
        return _fresh(session, [(message, f"completed:{run_id}")]) if message else []

    return _deliver(store, run_id, plan, settings=settings, what="campaign_completed")


def notify_client_notice(
    store: Store, run_id: str, ring: str, *, settings: Settings | None = None
) -> list[DeliveryResult]:
    """Tell each tenant with hosts in the ring what will be patched in their window (once per
    tenant and ring); nothing when the spec has no ``notify.client_notice``."""

    def plan(session: Session, route: build.Routing) -> Plan:
        run = session.get(CampaignRunRow, run_id)
        if run is None or not build.lookup(run.spec, "notify", "client_notice"):
            return []
        return _fresh(session, build.client_notices(session, run_id, ring))

    return _deliver(store, run_id, plan, settings=settings, what="client_notice")
