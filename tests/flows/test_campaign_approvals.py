"""Approval gates of a real paused campaign flow: the requester and a wrong-tenant admin are
refused (and audited), a request left undecided expires and stops the campaign, a decision typed
into the Prefect UI form (the same run input the UI submits) resumes it, and the CLI path records
then resumes. Nothing is ever approved by default."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from flows.campaign import patch_campaign
from patchwave.campaign.approvals import decide_pending, requests_for_run
from patchwave.campaign.runs import load_jobs
from patchwave.store import Store, open_store
from patchwave.store.audit import verify
from patchwave.store.tables import ApprovalRow, AuditEventRow, CampaignRunRow
from tests.flows.campaign_env import (
    ACME_ADMIN,
    GLOBEX_ADMIN,
    LEAD,
    fleet_rows,
    seed,
    write_campaign,
)

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

GATED = """
name: gated
owner: ops
scope: {tenants: all}
windows: {default: always, host_override: false}
rings:
  - {name: lab, select: {tags: [lab]}, approval: auto}
  - name: pilot
    select: {tags: [pilot]}
    approval: {required: true, approvers: [tenant-admins], expires: EXPIRES}
  - name: broad
    select: {rest: true}
    approval: {required: true, approvers: [msp-leads], expires: 1h}
"""
REQUESTER = {"name": "ops", "role": "msp-lead", "tenants": ["*"]}


@pytest.fixture
def store(prefect_api: None) -> Iterator[Store]:
    st = open_store()
    yield st
    st.dispose()


class FlowThread(threading.Thread):
    def __init__(self, **params: Any) -> None:
        super().__init__(daemon=True)
        self.params = params
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = patch_campaign(**self.params)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.error = exc


def _wait(cond: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _pending(store: Store, ring: str) -> list[ApprovalRow]:
    with store.session() as s:
        rows = list(
            s.scalars(
                select(ApprovalRow).where(ApprovalRow.ring == ring, ApprovalRow.status == "pending")
            )
        )
        return rows if rows and all(r.flow_run_id for r in rows) else []


def _start(store: Store, tmp_path: Path, expires: str) -> FlowThread:
    seed(
        store,
        tmp_path,
        fleet_rows({"acme": 5, "globex": 5}),
        [LEAD, REQUESTER, ACME_ADMIN, GLOBEX_ADMIN],
    )
    spec = write_campaign(tmp_path, GATED.replace("EXPIRES", expires))
    thread = FlowThread(campaign=str(spec), approval_poll_seconds=1)
    thread.start()
    return thread


def _paused(flow_run_id: str) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return bool(state and state.is_paused())


def _run_id(store: Store) -> str:
    with store.session() as s:
        return str(s.scalars(select(CampaignRunRow.id)).one())


def test_refusals_are_audited_and_an_undecided_request_expires(
    store: Store, tmp_path: Path
) -> None:
    thread = _start(store, tmp_path, "6s")
    pilot = _wait(lambda: _pending(store, "pilot"))
    assert {tuple(r.tenants) for r in pilot} == {("acme",), ("globex",)}  # one per client
    run_id = _run_id(store)
    now = datetime.now(UTC)
    with store.session() as s:
        by_requester = decide_pending(
            s, run_id=run_id, approver_name="ops", approve=True, channel="cli", now=now
        )
        acme_req = next(r.id for r in pilot if r.tenants == ["acme"])
        globex_req = next(r.id for r in pilot if r.tenants == ["globex"])
        wrong_tenant = decide_pending(
            s,
            run_id=run_id,
            approver_name="globex-admin",
            approve=True,
            channel="slack",
            now=now,
            request_id=acme_req,
        )
        unknown = decide_pending(
            s,
            run_id=run_id,
            approver_name="mallory",
            approve=True,
            channel="cli",
            now=now,
            request_id=globex_req,
        )
    assert all(not r.accepted for _, r in by_requester)
    assert "someone else must approve" in by_requester[0][1].reason
    assert "your own company only, not acme" in wrong_tenant[0][1].reason
    assert "not a known, active approver" in unknown[0][1].reason
    thread.join(timeout=90)
    assert thread.error is None and thread.result is not None
    assert thread.result["status"] == "expired"
    with store.session() as s:
        statuses = {
            r.status for r in s.scalars(select(ApprovalRow).where(ApprovalRow.ring == "pilot"))
        }
        jobs = load_jobs(s, run_id)
        refused = list(
            s.scalars(select(AuditEventRow).where(AuditEventRow.action == "approval.refused"))
        )
        assert verify(s).ok
    assert statuses == {"expired"}
    assert {j.state.value for j in jobs if j.ring == "lab"} == {"succeeded"}
    later = [j for j in jobs if j.ring in ("pilot", "broad")]
    assert later and all(j.state.value == "skipped" for j in later)
    assert all("approval expired" in (j.error or "") for j in later)
    assert {e.actor for e in refused} >= {"ops", "globex-admin", "mallory"}


def test_ui_form_and_cli_decisions_resume_the_paused_flow(store: Store, tmp_path: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    thread = _start(store, tmp_path, "10m")
    pilot = _wait(lambda: _pending(store, "pilot"))
    _wait(lambda: _paused(pilot[0].flow_run_id))
    run_id = _run_id(store)
    # The Prefect UI submits the form's fields as run input; the lead approves every pending
    # pilot request in one go. (Open-source Prefect does not authenticate UI users: the typed
    # name is still checked against the approver list.)
    resume_flow_run(
        UUID(pilot[0].flow_run_id),
        run_input={"approver": "lead", "decision": "approve", "comment": "ui"},
    )
    broad = _wait(lambda: _pending(store, "broad"))
    # The CLI path: record through the same rules, then wake the flow.
    from patchwave.campaign.prefect_resume import resume_paused_run

    with store.session() as s:
        results = decide_pending(
            s,
            run_id=run_id,
            approver_name="lead",
            approve=True,
            channel="cli",
            now=datetime.now(UTC),
        )
    assert [r.accepted for _, r in results] == [True]
    outcome, _ = resume_paused_run(
        broad[0].flow_run_id, approver="lead", approve=True, comment="", request_id=broad[0].id
    )
    assert outcome in ("resumed", "not-paused")
    thread.join(timeout=90)
    assert thread.error is None and thread.result is not None
    assert thread.result["status"] == "completed"
    with store.session() as s:
        views = requests_for_run(s, run_id)
    channels = {(v.request.ring, d.channel) for v in views for d in v.decisions}
    assert channels == {("lab", "auto"), ("pilot", "ui"), ("broad", "cli")}
    assert all(v.request.status.value == "approved" for v in views)


def test_cancel_while_waiting_for_approval_stops_at_once(store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from patchwave.cli import app

    thread = _start(store, tmp_path, "1h")
    pilot = _wait(lambda: _pending(store, "pilot"))
    _wait(lambda: _paused(pilot[0].flow_run_id))
    run_id = _run_id(store)
    started = time.monotonic()
    done = CliRunner().invoke(
        app, ["campaign", "cancel", run_id, "--as", "lead", "--reason", "change freeze"]
    )
    assert done.exit_code == 0, done.output
    thread.join(timeout=60)
    assert thread.error is None and thread.result is not None
    assert thread.result["status"] == "cancelled"
    assert time.monotonic() - started < 30  # woken, not left to its next poll
    with store.session() as s:
        jobs = load_jobs(s, run_id)
        statuses = {
            r.status for r in s.scalars(select(ApprovalRow).where(ApprovalRow.ring == "pilot"))
        }
        assert verify(s).ok
    assert statuses == {"cancelled"}
    later = [j for j in jobs if j.ring in ("pilot", "broad")]
    assert later and all(j.error == "cancelled by lead: change freeze" for j in later)
    assert {j.state.value for j in jobs if j.ring == "lab"} == {"succeeded"}
    # A late approval is refused: the request is closed.
    with store.session() as s:
        late = decide_pending(
            s,
            run_id=run_id,
            approver_name="lead",
            approve=True,
            channel="cli",
            now=datetime.now(UTC),
        )
    assert late == []
    again = CliRunner().invoke(
        app, ["campaign", "cancel", run_id, "--as", "lead", "--reason", "twice"]
    )
    assert again.exit_code == 2 and "already cancelled" in again.output
