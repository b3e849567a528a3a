"""Roll back what a campaign run installed, on a ring or on named hosts."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from tasks.campaign import rollback_task


@flow(name="campaign-rollback", flow_run_name="rollback-{run_id}")
def rollback_run(
    run_id: str,
    ring: str | None = None,
    hosts: list[str] | None = None,
    requested_by: str = "cli",
    reason: str = "rollback requested",
) -> dict[str, Any]:
    """Roll back a campaign run's installs (recorded in the audit log like everything else).

    Args:
        run_id: The campaign run.
        ring: Only this ring.
        hosts: Only these hosts.
        requested_by: Who asks (audited).
        reason: Why (audited).
    """
    result = rollback_task(run_id, ring, hosts or None, requested_by, reason)
    get_run_logger().info("rollback of run %s: %s", run_id, result)
    return result
