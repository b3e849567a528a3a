"""The compliance-report flow and the run-report tasks under a Prefect test API: files written,
the run's report path recorded, and the artifacts published under their keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from flows.report import compliance_report
from patchwave.settings import get_settings
from patchwave.store import open_store
from patchwave.store.tables import CampaignRunRow
from tasks.report import publish_run_artifacts, render_run_report
from tests.factories_campaign import seed_small_run

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

RUN = "a1b2c3d4e5f6"


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def artifact(key: str) -> Any:
    """The latest version of the artifact called ``key``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert found, f"no artifact {key!r}"
    return found[0]


def table(key: str) -> list[dict[str, Any]]:
    data = artifact(key).data
    return list(json.loads(data) if isinstance(data, str) else data)


@flow(name="report-run-for-test", persist_result=False)
def report_run(run_id: str) -> str:
    path = render_run_report(run_id)
    publish_run_artifacts(run_id)
    return path


def test_run_report_tasks_write_files_record_path_and_publish(prefect_api: None) -> None:
    store = open_store()
    seed_small_run(store, RUN)
    path = Path(report_run(RUN))
    assert path == get_settings().effective_report_dir / RUN / "report.html"
    assert path.is_file() and (path.parent / "jobs.csv").is_file()
    assert (path.parent / "metrics.json").is_file()
    assert sorted(p.name for p in (path.parent / "clients").iterdir()) == [
        "acme.html",
        "globex.html",
    ]
    with store.session() as session:
        run = session.get(CampaignRunRow, RUN)
        assert run is not None and run.report_path == str(path.resolve())
    summary = artifact(f"campaign-{RUN}-summary")
    assert summary.type == "markdown"
    md = str(summary.data)
    assert md.startswith(f"# Campaign `demo` · run `{RUN}` · **halted**")
    assert "| broad | halted | 6 | 1 | 3 | halt (20 %) |" in md
    assert "| ACME Manufacturing | 6 | 2 | 2 | 1 | 1 | 16.7 % → 50 % | 1 |" in md
    assert path.name in md
    rows = table(f"campaign-{RUN}-hosts")
    assert len(rows) == 9
    # Problems first: the three failures and the rollback, then the rest.
    assert {r["state"] for r in rows[:4]} == {"failed", "rolled_back"}
    assert {r["state"] for r in rows[4:]} == {"succeeded", "skipped"}
    db01 = next(r for r in rows if r["host"] == "acme-db01")
    assert (db01["failed_step"], db01["patches"], db01["installed"]) == ("install", 2, 0)


def test_compliance_report_flow(prefect_api: None) -> None:
    seed_small_run(open_store(), RUN)
    path = Path(compliance_report(tenants=["acme", "globex"]))
    assert path.is_file() and path.name == "report.html"
    assert path.parent.parent == get_settings().effective_report_dir / "compliance"
    html = path.read_text("utf-8")
    assert "ACME Manufacturing" in html and "Globex Corporation" in html
    md = str(artifact("fleet-compliance-summary").data)
    assert "of 13 hosts compliant" in md and "ACME Manufacturing" in md
    rows = {r["tenant"]: r for r in table("fleet-compliance-tenants")}
    assert (rows["acme"]["hosts"], rows["acme"]["compliant"]) == (8, 3)
    assert (rows["globex"]["compliant_pct"], rows["globex"]["kev_open"]) == (80.0, 1)
