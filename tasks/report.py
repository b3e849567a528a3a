"""Report tasks: write a run's report files and publish its Prefect artifacts; render the fleet
compliance report. Thin: the numbers and the HTML come from ``patchwave.reports``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from patchwave.campaign.runs import get_run
from patchwave.reports.artifacts import compliance_artifacts, run_artifacts
from patchwave.reports.files import (
    record_report_path,
    report_dir,
    write_compliance_report,
    write_run_report,
)
from patchwave.reports.load import load_run
from patchwave.reports.run import build_run_metrics
from patchwave.store import open_store
from tasks.common import retry_transient


@task(
    name="render-run-report",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_transient,
    timeout_seconds=600,
)
def render_run_report(run_id: str) -> str:
    """Write the run's report (HTML, jobs CSV, metrics JSON, one HTML per client) and record
    its path on the run. Returns the path of the HTML report.

    Args:
        run_id: The campaign run to report on.
    """
    logger = get_run_logger()
    store = open_store()
    with store.session() as session:
        spec = get_run(session, run_id).spec.get("report") or {}
    # The campaign's report section: its formats (HTML always, it is what the run links to)
    # and its output folder.
    formats = tuple(dict.fromkeys(["html", *spec.get("formats", ["html", "csv", "json"])]))
    out_dir = Path(spec["output_dir"]) if spec.get("output_dir") else None
    files = write_run_report(store, run_id, clients=True, formats=formats, out_dir=out_dir)
    assert files.html is not None
    record_report_path(store, run_id, files.html)
    logger.info(
        "report of run %s: %s (%d client report(s))", run_id, files.html, len(files.clients)
    )
    return str(files.html)


@task(
    name="publish-run-artifacts",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_transient,
    timeout_seconds=300,
)
def publish_run_artifacts(run_id: str) -> None:
    """Publish the run's markdown summary and host-outcome table as Prefect artifacts
    (keys ``campaign-<run>-summary`` and ``campaign-<run>-hosts``).

    Args:
        run_id: The campaign run to summarise.
    """
    store = open_store()
    with store.session() as session:
        data = load_run(session, run_id)
    metrics = build_run_metrics(data)
    html = data.run.report_path
    if html is None and (report_dir(run_id) / "report.html").exists():
        html = str(report_dir(run_id) / "report.html")
    summary, table = run_artifacts(metrics, data.jobs, html)
    create_markdown_artifact(
        key=summary.key, markdown=summary.markdown, description=summary.description
    )
    create_table_artifact(key=table.key, table=table.rows, description=table.description)


@task(
    name="render-compliance-report",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_transient,
    timeout_seconds=600,
)
def render_compliance_report(tenants: list[str] | None = None) -> dict[str, Any]:
    """Write the fleet compliance report; returns its path and the artifacts to publish.

    Args:
        tenants: Tenant slugs to cover; every tenant when empty.
    """
    files = write_compliance_report(open_store(), tenants=tenants or None)
    summary, table = compliance_artifacts(files.fleet, files.html)
    return {
        "html": str(files.html),
        "summary": {
            "key": summary.key,
            "markdown": summary.markdown,
            "description": summary.description,
        },
        "table": {"key": table.key, "rows": table.rows, "description": table.description},
    }
