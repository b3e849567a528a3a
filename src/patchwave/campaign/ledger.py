"""Group commit of host-job state changes.

Every transition is durable before the caller goes on to the side effect it announces, and all
transitions made in the same turn of the event loop share one transaction: 200 hosts reaching
"installing" together cost one commit, not 200. Each transition is also an audit event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update

from patchwave.campaign.crash import crashpoint
from patchwave.campaign.runs import JobRecord
from patchwave.domain.models import JobState
from patchwave.store import Store
from patchwave.store.audit import AuditEvent, append
from patchwave.store.bulk import bulk_update
from patchwave.store.tables import CampaignRunRow, HostJobRow


class JobLedger:
    def __init__(
        self,
        store: Store,
        run_id: str,
        *,
        now: Callable[[], datetime],
        actor: str = "patchwave",
        persist_clock: bool = False,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.now = now
        self.actor = actor
        self.persist_clock = persist_clock
        self._rows: dict[int, dict[str, Any]] = {}
        self._events: list[AuditEvent] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._scheduled = False
        self.commits = 0
        self.transitions = 0

    async def transition(self, job: JobRecord, state: JobState, **changes: Any) -> None:
        """Set ``job`` to ``state`` (plus field changes) and wait until it is committed."""
        old = job.state
        for key, value in changes.items():
            setattr(job, key, value)
        job.state = state
        await self._queue(job, old, state)

    async def save(self, job: JobRecord, **changes: Any) -> None:
        """Persist field changes without a state change (a deferral, a new window)."""
        for key, value in changes.items():
            setattr(job, key, value)
        await self._queue(job, job.state, None)

    async def _queue(self, job: JobRecord, old: JobState, new: JobState | None) -> None:
        now = self.now()
        self._rows[job.id] = job.row_values(now)
        if new is not None:
            self.transitions += 1
            details: dict[str, Any] = {"from": old.value, "to": new.value}
            if job.error and new in (JobState.FAILED, JobState.SKIPPED):
                details["error"] = job.error
                details["step"] = job.failed_step
            self._events.append(
                AuditEvent(
                    actor=self.actor,
                    action=f"job.{new.value}",
                    run_id=self.run_id,
                    host=job.host.key,
                    subject=job.ring,
                    details=details,
                    at=now,
                )
            )
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        await fut

    def _flush(self) -> None:
        rows, events, waiters = list(self._rows.values()), self._events, self._waiters
        self._rows, self._events, self._waiters = {}, [], []
        self._scheduled = False
        try:
            with self.store.session() as session:
                bulk_update(session, HostJobRow.__table__, rows, key="id")
                if events:
                    append(session, events)
                if self.persist_clock:
                    session.execute(
                        update(CampaignRunRow)
                        .where(CampaignRunRow.id == self.run_id)
                        .values(clock=self.now())
                    )
        except Exception as exc:  # noqa: BLE001 - every waiter must learn the write failed
            for fut in waiters:
                if not fut.done():
                    fut.set_exception(exc)
            return
        self.commits += 1
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        crashpoint("after-commit")
