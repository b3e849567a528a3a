"""The plain records a report is computed from (read by ``load.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TenantInfo:
    slug: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    campaign: str
    status: str
    dry_run: bool
    requested_by: str
    spec: dict[str, Any]
    spec_hash: str
    clock_kind: str
    flow_run_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    clock: datetime | None
    summary: dict[str, Any]
    report_path: str | None
    error: str | None

    @property
    def baseline(self) -> datetime:
        """When "before" is measured: the detection scan (findings it first saw count as open
        before the campaign), else the start of the run."""
        detected = _parse_time(self.summary.get("detected_at"))
        start = self.started_at or self.created_at
        return max(start, detected) if detected else start

    def end(self, now: datetime) -> datetime:
        """When "after" is measured: the end of the run (or its clock / now while it runs)."""
        return self.finished_at or self.clock or now


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    approver: str
    decision: str
    channel: str
    comment: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    id: str
    ring: str
    tenants: tuple[str, ...]
    status: str
    critical: bool
    min_approvers: int
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    decisions: tuple[DecisionRecord, ...]


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    host: str | None
    subject: str | None
    details: dict[str, Any]


@dataclass(slots=True)
class RunData:
    """Everything a run report needs, as narrow frames and small records."""

    run: RunRecord
    tenants: dict[str, TenantInfo]
    scope: pd.DataFrame  # SCOPE_COLUMNS: every host in scope, with or without a job
    jobs: pd.DataFrame  # JOB_COLUMNS
    findings: pd.DataFrame  # FINDING_COLUMNS, hosts in scope, possibly open in the run
    approvals: list[ApprovalRecord]
    events: list[EventRecord]  # the run's audit events, except per-host job.* ones
    now: datetime
    notes: list[str] = field(default_factory=list)
