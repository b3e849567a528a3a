"""What each Slack message says (plain dataclasses) and how it becomes Block Kit JSON.

One dataclass per message; each names its template in ``templates/slack/`` (``<kind>.json.j2``)
and the tenant whose channel receives it (``None``: the default channel). Rendering uses Jinja2
with ``StrictUndefined`` and the mrkdwn + JSON escaping of :mod:`patchwave.notify.blocks`, then
parses the JSON and enforces Block Kit's limits, so a bad template fails loudly in tests and a
long error text never makes Slack refuse a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import jinja2

from patchwave.domain.models import Tier
from patchwave.notify import blocks

APPROVE_ACTION_ID = "approve"
REJECT_ACTION_ID = "reject"


def default_template_dir() -> Path:
    """``templates/slack`` at the top of the checkout (templates are data, outside the package)."""
    return Path(__file__).resolve().parents[3] / "templates" / "slack"


def _aware(name: str, value: datetime | None) -> None:
    # A naive time in a client notice is a wrong hour in someone's calendar: refuse it early.
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class PatchLine:
    """One patch in a list: its tier, KEV flags and how many hosts miss it."""

    advisory_id: str
    title: str
    tier: Tier
    kev: bool = False
    ransomware: bool = False
    hosts: int = 0
    reboot: bool = False


def rank_patches(patches: tuple[PatchLine, ...]) -> tuple[PatchLine, ...]:
    """Most urgent first: KEV, then tier, then the most hosts."""
    return tuple(sorted(patches, key=lambda p: (not p.kev, p.tier.rank, -p.hosts, p.advisory_id)))


@dataclass(frozen=True, slots=True)
class ClientNotice:
    """Tells a client, before their window opens, what will be patched and whether it reboots."""

    kind: ClassVar[str] = "client_notice"
    tenant: str
    tenant_name: str
    campaign: str
    window_start: datetime
    window_end: datetime
    host_count: int
    patches: tuple[PatchLine, ...]
    reboot_expected: bool
    hosts: tuple[str, ...] = ()
    contact: str = ""

    def __post_init__(self) -> None:
        _aware("window_start", self.window_start)
        _aware("window_end", self.window_end)


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """Asks for approval of one ring; the buttons carry the request id and the plan hash so a
    click on a stale message (the plan changed since) can be refused."""

    kind: ClassVar[str] = "approval_request"
    request_id: str
    campaign: str
    run_id: str
    ring: str
    host_count: int
    patches: tuple[PatchLine, ...]
    window_start: datetime
    window_end: datetime
    expires_at: datetime
    plan_hash: str
    requested_by: str
    tenants: tuple[str, ...] = ()
    approvers: str = ""
    required_approvals: int = 1
    tenant: str | None = None

    def __post_init__(self) -> None:
        for name in ("window_start", "window_end", "expires_at"):
            _aware(name, getattr(self, name))

    @property
    def ref_key(self) -> str:
        return f"approval:{self.request_id}"

    @property
    def button_value(self) -> str:
        return approval_button_value(self.request_id, self.plan_hash)


def approval_button_value(request_id: str, plan_hash: str) -> str:
    """The ``value`` of the Approve/Reject buttons: compact JSON, well under Slack's 2,000."""
    return json.dumps({"request_id": request_id, "plan_hash": plan_hash}, separators=(",", ":"))


def parse_approval_value(value: str) -> tuple[str, str]:
    """``(request_id, plan_hash)`` from a button value; ValueError when it is not ours."""
    try:
        data = json.loads(value)
        request_id, plan_hash = data["request_id"], data["plan_hash"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a patchwave approval button value: {value[:80]!r}") from exc
    if not isinstance(request_id, str) or not isinstance(plan_hash, str):
        raise ValueError(f"not a patchwave approval button value: {value[:80]!r}")
    return request_id, plan_hash


@dataclass(frozen=True, slots=True)
class WaveProgress:
    """Counts of one wave; posted once, then edited in place as hosts finish."""

    kind: ClassVar[str] = "wave_progress"
    run_id: str
    campaign: str
    ring: str
    wave: int
    total: int
    started_at: datetime
    updated_at: datetime
    succeeded: int = 0
    failed: int = 0
    running: int = 0
    skipped: int = 0
    deferred: int = 0
    rolled_back: int = 0
    state: Literal["running", "finished", "aborted"] = "running"
    tenant: str | None = None

    def __post_init__(self) -> None:
        _aware("started_at", self.started_at)
        _aware("updated_at", self.updated_at)
        if self.pending < 0:
            raise ValueError(f"wave {self.wave} counts add up to more than its {self.total} hosts")

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.rolled_back

    @property
    def pending(self) -> int:
        return self.total - self.done - self.running - self.deferred

    @property
    def ref_key(self) -> str:
        return progress_key(self.run_id, self.ring, self.wave)


def progress_key(run_id: str, ring: str, wave: int) -> str:
    return f"progress:{run_id}:{ring}:{wave}"


@dataclass(frozen=True, slots=True)
class FailureAlert:
    """One host failed: posted at once, in the thread of its wave's progress message."""

    kind: ClassVar[str] = "failure_alert"
    run_id: str
    campaign: str
    ring: str
    wave: int
    host: str
    patch: str
    step: str
    error: str
    remedy: str
    occurred_at: datetime
    attempts: int = 1
    tenant: str | None = None

    def __post_init__(self) -> None:
        _aware("occurred_at", self.occurred_at)

    @property
    def progress_ref_key(self) -> str:
        return progress_key(self.run_id, self.ring, self.wave)


@dataclass(frozen=True, slots=True)
class GateHalted:
    """A ring's gate failed: the campaign stopped before promoting to the next ring."""

    kind: ClassVar[str] = "gate_halted"
    run_id: str
    campaign: str
    ring: str
    reasons: tuple[str, ...]
    hosts: int
    succeeded: int
    failures: int
    success_rate: float
    min_success_rate: float
    next_step: str
    max_failures: int | None = None
    rolling_back: bool = False
    tenant: str | None = None


@dataclass(frozen=True, slots=True)
class TenantSummary:
    tenant: str
    succeeded: int
    failed: int
    deferred: int = 0


@dataclass(frozen=True, slots=True)
class CampaignCompleted:
    """The end of a run, whatever its outcome, with the report link."""

    kind: ClassVar[str] = "campaign_completed"
    run_id: str
    campaign: str
    status: Literal["completed", "halted", "rejected", "expired", "failed", "cancelled"]
    started_at: datetime
    finished_at: datetime
    hosts: int
    succeeded: int
    failed: int
    skipped: int = 0
    deferred: int = 0
    rolled_back: int = 0
    tenants: tuple[TenantSummary, ...] = ()
    report_url: str | None = None
    compliance_before: float | None = None
    compliance_after: float | None = None
    tenant: str | None = None

    def __post_init__(self) -> None:
        _aware("started_at", self.started_at)
        _aware("finished_at", self.finished_at)


@dataclass(frozen=True, slots=True)
class ApprovalDecided:
    """A decision on an approval request. A final decision replaces the request message (its
    buttons disappear); a first approval of two is added to the request's thread instead."""

    kind: ClassVar[str] = "approval_decided"
    request_id: str
    campaign: str
    run_id: str
    ring: str
    decision: Literal["approved", "rejected", "expired", "cancelled"]
    decided_by: str
    decided_at: datetime
    via: Literal["slack", "prefect-ui", "cli", "auto"]
    plan_hash: str
    comment: str = ""
    approvals: int = 1
    required_approvals: int = 1
    tenant: str | None = None

    def __post_init__(self) -> None:
        _aware("decided_at", self.decided_at)

    @property
    def final(self) -> bool:
        return self.decision != "approved" or self.approvals >= self.required_approvals

    @property
    def request_ref_key(self) -> str:
        return f"approval:{self.request_id}"


Message = (
    ClientNotice
    | ApprovalRequest
    | WaveProgress
    | FailureAlert
    | GateHalted
    | CampaignCompleted
    | ApprovalDecided
)
MESSAGE_TYPES: tuple[type[Message], ...] = (
    ClientNotice,
    ApprovalRequest,
    WaveProgress,
    FailureAlert,
    GateHalted,
    CampaignCompleted,
    ApprovalDecided,
)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """What chat.postMessage / chat.update receive: fallback ``text`` and ``blocks``."""

    kind: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


class MessageRenderer:
    """Renders message dataclasses with the Block Kit templates.

    Args:
        template_dir: folder of ``<kind>.json.j2`` files (default: the checkout's templates/slack).
        max_patches: patches listed before "and K more".
        max_items: other lists (hosts, tenants, reasons) shown before "and K more".
    """

    def __init__(
        self, template_dir: Path | None = None, *, max_patches: int = 10, max_items: int = 10
    ) -> None:
        self.template_dir = template_dir or default_template_dir()
        self.max_patches = max_patches
        self.max_items = max_items
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.template_dir),
            undefined=jinja2.StrictUndefined,
            # HTML autoescaping would turn ' into &#39;, which Slack shows verbatim: the finalize
            # hook escapes exactly Slack's three characters instead (see blocks.py).
            autoescape=False,
            finalize=blocks.finalize,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(blocks.FILTERS)
        self._env.globals.update(blocks.GLOBALS)

    def render(self, message: Message) -> RenderedMessage:
        """Render, parse and fit one message; raises jinja2/ValueError errors on template bugs."""
        template = self._env.get_template(f"{message.kind}.json.j2")
        source = template.render(
            ctx=message,
            max_patches=self.max_patches,
            max_items=self.max_items,
            ranked_patches=rank_patches(getattr(message, "patches", ())),
            approve_action_id=APPROVE_ACTION_ID,
            reject_action_id=REJECT_ACTION_ID,
        )
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{template.filename} rendered invalid JSON: {exc}") from exc
        data = blocks.fit_limits(data)
        return RenderedMessage(kind=message.kind, text=data["text"], blocks=data["blocks"])
