"""The same campaign, on PostgreSQL: bulk paths (COPY, executemany updates), JSON columns,
row locks and the audit chain behave as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from flows.campaign import patch_campaign
from patchwave.campaign.runs import job_counts, load_jobs
from patchwave.endpoints.factory import EndpointFactory
from patchwave.settings import get_settings
from patchwave.store import Store, open_store
from patchwave.store.audit import verify
from patchwave.store.tables import Base
from tests.flows.campaign_env import LEAD, fleet_rows, seed, write_campaign
from tests.flows.test_campaign_flow import GATE, MONDAY, THREE_RINGS

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pg_store(
    prefect_api: None, _pg_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    if _pg_url is None or _pg_url.startswith("unreachable"):
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is {_pg_url}")
    store = open_store(_pg_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    monkeypatch.setenv("PATCHWAVE_DATABASE_URL", _pg_url)
    get_settings.cache_clear()
    yield store
    store.dispose()


def test_three_ring_campaign_on_postgresql(pg_store: Store, tmp_path: Path) -> None:
    seed(pg_store, tmp_path, fleet_rows({"acme": 6, "globex": 4}), [LEAD])
    spec = write_campaign(tmp_path, THREE_RINGS)
    result = patch_campaign(campaign=str(spec), clock="simulated", start_at=MONDAY)
    assert result["status"] == "completed"
    with pg_store.session() as s:
        counts = job_counts(s, result["run_id"])
        jobs = load_jobs(s, result["run_id"])
        assert verify(s).ok
    assert counts == {"succeeded": len(jobs)} and len(jobs) >= 8
    assert all(isinstance(j.patches, tuple) and j.patches for j in jobs)  # JSON round trip
    fleet = EndpointFactory().fleet
    assert all(set(j.patches) <= fleet.installed(j.host.key) for j in jobs)


def test_gate_rollback_on_postgresql(pg_store: Store, tmp_path: Path) -> None:
    rows = fleet_rows({"acme": 5}, lab=3, pilot=0, tags={"acme-h02": "lab;sim:install-fails"})
    seed(pg_store, tmp_path, rows, [LEAD])
    result = patch_campaign(
        campaign=str(write_campaign(tmp_path, GATE)), clock="simulated", start_at=MONDAY
    )
    assert result["status"] == "halted"
    with pg_store.session() as s:
        states = {j.host.name: j.state.value for j in load_jobs(s, result["run_id"])}
        assert verify(s).ok
    assert states["acme-h00"] == states["acme-h01"] == "rolled_back"
    assert states["acme-h02"] == "failed"
