"""What a delivery leaves behind: the result record and the reference of a message we may edit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a message we may edit or thread under lives. ``channel`` is the configured name,
    ``channel_id`` what Slack answered (chat.update needs the id)."""

    channel: str
    channel_id: str
    ts: str


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one message. ``attempts`` counts HTTP calls (0: never sent); ``waited`` is
    the time slept for pacing and Retry-After; ``coalesced`` marks a progress update folded into
    a newer one already on its way (its content is carried by that one)."""

    kind: str
    ok: bool
    channel: str
    method: str
    attempts: int
    error: str | None = None
    permanent: bool = False
    channel_id: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    ref_key: str | None = None
    waited: float = 0.0
    elapsed: float = 0.0
    coalesced: bool = False
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data for the store."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data
