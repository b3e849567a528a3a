"""The scheduled fleet scan: detect what is missing everywhere, rank it, publish a summary."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from patchwave.store import open_store
from patchwave.store.findings import query_findings
from patchwave.store.inventory_repo import list_hosts
from tasks.detect import scan_chunk


def _run_name() -> str:
    from datetime import UTC, datetime

    from prefect.runtime import flow_run

    tenants = flow_run.parameters.get("tenants") or ["all"]
    return f"scan-{'-'.join(tenants)[:40]}-{datetime.now(UTC):%Y%m%d-%H%M}"


@flow(
    name="fleet-scan",
    flow_run_name=_run_name,
    log_prints=False,
)
def scan_fleet(
    tenants: list[str] | None = None,
    hosts: list[str] | None = None,
    chunk_size: int = 2000,
    concurrency: int = 50,
) -> dict[str, Any]:
    """Scan the fleet (or some tenants or hosts) and rank the findings by risk.

    Args:
        tenants: Tenant slugs to scan; all when empty.
        hosts: Host names to scan; all in scope when empty.
        chunk_size: Hosts per scan task (one Prefect task drives a chunk with async I/O).
        concurrency: Hosts scanned at once inside a chunk.
    """
    logger = get_run_logger()
    store = open_store()
    with store.session() as session:
        selected = list_hosts(
            session, tenants=tenants or None, names=hosts or None, include_quarantined=False
        )
    ids = [h.id for h in selected if h.id is not None]
    logger.info("scanning %d host(s) in chunks of %d", len(ids), chunk_size)
    # Chunks run one after the other in the flow's thread (so task timeouts can interrupt them);
    # each chunk already drives its hosts concurrently.
    results = [
        scan_chunk(ids[i : i + chunk_size], concurrency=concurrency, source="flow")
        for i in range(0, len(ids), chunk_size)
    ]
    totals = {k: sum(r[k] for r in results) for k in ("hosts", "ok", "failed", "new", "resolved")}
    with store.session() as session:
        top = query_findings(session, tenants=tenants or None, limit=20)
    create_table_artifact(
        key="fleet-scan-top-findings",
        table=[
            {
                "tier": f.tier,
                "score": f.score,
                "tenant": f.tenant,
                "host": f.host,
                "patch": f.advisory_id,
                "why": f.reasons,
                "due": f.deadline.isoformat(),
            }
            for f in top
        ],
        description="The 20 riskiest open findings after this scan.",
    )
    create_markdown_artifact(
        key="fleet-scan-summary",
        markdown=(
            f"# Fleet scan\n\n{totals['hosts']} hosts scanned: {totals['ok']} ok, "
            f"{totals['failed']} failed. {totals['new']} new finding(s), "
            f"{totals['resolved']} resolved.\n"
        ),
    )
    return totals
