"""Detection tasks: scan a chunk of hosts and store what they miss."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from patchwave.endpoints.factory import EndpointFactory
from patchwave.scanning import scan_and_store
from patchwave.store import open_store
from patchwave.store.inventory_repo import list_hosts_by_id, load_tenants
from tasks.common import retry_transient


@task(
    name="scan-hosts",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_transient,
    timeout_seconds=3600,
)
def scan_chunk(host_ids: list[int], concurrency: int = 50, source: str = "flow") -> dict[str, Any]:
    """Scan a chunk of hosts and reconcile their findings in one transaction.

    Args:
        host_ids: Inventory ids of the hosts to scan.
        concurrency: Hosts scanned at once.
        source: Recorded on the scan row (flow, campaign:<run>, cli).
    """
    logger = get_run_logger()
    store = open_store()
    with store.session() as session:
        hosts = list_hosts_by_id(session, host_ids)
        tenants = load_tenants(session)
    factory = EndpointFactory()
    try:
        summary = scan_and_store(
            store, hosts, factory, tenants=tenants, source=source, concurrency=concurrency
        )
    finally:
        factory.close()
    for host, error in summary.failures:
        logger.warning("scan of %s failed: %s", host, error)
    logger.info(
        "scanned %d host(s): %d ok, %d failed; %d new finding(s), %d resolved",
        summary.hosts_total,
        summary.hosts_ok,
        summary.hosts_failed,
        summary.findings.new,
        summary.findings.resolved,
    )
    return {
        "hosts": summary.hosts_total,
        "ok": summary.hosts_ok,
        "failed": summary.hosts_failed,
        "new": summary.findings.new,
        "resolved": summary.findings.resolved,
        "reopened": summary.findings.reopened,
        "failures": [list(f) for f in summary.failures],
    }
