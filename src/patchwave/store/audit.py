"""The hash-chained, append-only audit log.

Each event's hash is SHA-256 over the previous hash and the event's canonical content (its
sequence number included), so an edited, deleted or reordered row breaks the chain from that point;
the head row remembers the last sequence and hash, so deleting the newest rows shows too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from patchwave.store.bulk import bulk_insert
from patchwave.store.tables import AuditEventRow, AuditHeadRow

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str
    action: str
    run_id: str | None = None
    host: str | None = None
    subject: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def _canonical(seq: int, at: datetime, ev: AuditEvent, details: str) -> bytes:
    body = [
        seq,
        at.astimezone(UTC).isoformat(),
        ev.actor,
        ev.action,
        ev.run_id,
        ev.host,
        ev.subject,
        details,
    ]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _hash(prev: str, payload: bytes) -> str:
    return hashlib.sha256(prev.encode() + payload).hexdigest()


def append(session: Session, events: Sequence[AuditEvent] | Iterable[AuditEvent]) -> int:
    """Append events in order, in the caller's transaction. Returns the last sequence number."""
    events = list(events)
    if not events:
        return 0
    # Take the lock first (UPDATE), then read: two writers can never chain onto the same head.
    locked = session.execute(
        update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq)
    ).rowcount  # type: ignore[attr-defined]
    if not locked:
        session.execute(insert(AuditHeadRow).values(id=1, seq=0, hash=GENESIS))
    head = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    ).one()
    seq, prev = int(head.seq), str(head.hash)
    now = datetime.now(UTC)
    rows = []
    for ev in events:
        seq += 1
        at = ev.at or now
        details = json.dumps(ev.details, sort_keys=True, separators=(",", ":"), default=str)
        digest = _hash(prev, _canonical(seq, at, ev, details))
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": ev.actor,
                "action": ev.action,
                "run_id": ev.run_id,
                "host": ev.host,
                "subject": ev.subject,
                "details": details,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    bulk_insert(session, AuditEventRow.__table__, rows)
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=seq, hash=prev))
    return seq


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    events: int
    problems: tuple[str, ...]


def verify(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the chain and report every broken link: edited, deleted or reordered rows."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    stmt = select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=batch)
    for row in session.scalars(stmt):
        count += 1
        if row.seq != expected_seq:
            problems.append(f"rows {expected_seq}..{row.seq - 1} are missing (deleted)")
        if row.prev_hash != prev:
            problems.append(
                f"row {row.seq}: does not follow row {row.seq - 1} (reordered or "
                "a row before it was changed)"
            )
        ev = AuditEvent(row.actor, row.action, row.run_id, row.host, row.subject)
        digest = _hash(row.prev_hash, _canonical(row.seq, row.at, ev, row.details))
        if digest != row.hash:
            problems.append(f"row {row.seq}: content was edited ({row.action} by {row.actor})")
        prev, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
        if len(problems) > 50:
            problems.append("... stopping after 50 problems")
            break
    head = session.get(AuditHeadRow, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev) and len(problems) <= 50:
        problems.append(
            f"the newest rows after {last_seq} are missing: the chain head says row {head.seq}"
        )
    return ChainReport(ok=not problems, events=count, problems=tuple(problems))
