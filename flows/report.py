"""The scheduled compliance report: where every client's fleet stands, as an HTML report and
Prefect artifacts."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.report import render_compliance_report


def _run_name() -> str:
    from datetime import UTC, datetime

    from prefect.runtime import flow_run

    tenants = flow_run.parameters.get("tenants") or ["all"]
    return f"compliance-{'-'.join(tenants)[:40]}-{datetime.now(UTC):%Y%m%d-%H%M}"


@flow(name="compliance-report", flow_run_name=_run_name, log_prints=False)
def compliance_report(tenants: list[str] | None = None) -> str:
    """Render the fleet compliance report (per client: compliant hosts, open findings by tier,
    KEV, overdue, age, SLA met over 30 days, hosts in trouble) and publish its summary.

    Args:
        tenants: Tenant slugs to report on; every tenant when empty.
    """
    logger = get_run_logger()
    result = render_compliance_report(tenants or None)
    summary, table = result["summary"], result["table"]
    create_markdown_artifact(
        key=summary["key"], markdown=summary["markdown"], description=summary["description"]
    )
    create_table_artifact(key=table["key"], table=table["rows"], description=table["description"])
    logger.info("compliance report: %s", result["html"])
    return str(result["html"])
