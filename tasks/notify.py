"""Slack notification tasks: one thin wrapper per campaign message.

They never fail the flow: the library functions record a failed delivery instead of raising, and
these wrappers turn anything unforeseen into a logged warning. No Prefect retries (the notifier
already retries 429, 5xx and dropped connections, bounded by its own timeouts) and no caching (a
second call must send what changed since).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from patchwave.notify import campaign as slack
from patchwave.notify.results import DeliveryResult
from patchwave.store import open_store


def _summarise(what: str, send: Callable[[], Sequence[DeliveryResult]]) -> dict[str, Any]:
    logger = get_run_logger()
    try:
        results = list(send())
    except Exception as exc:  # noqa: BLE001 - a notification must never fail a campaign
        logger.warning("Slack %s not sent: %s: %s", what, type(exc).__name__, exc)
        return {"sent": 0, "failed": 1, "errors": [f"{type(exc).__name__}: {exc}"]}
    failed = [r for r in results if not r.ok]
    for r in failed:
        logger.warning("Slack %s to %s failed: %s", r.kind, r.channel, r.error)
    return {
        "sent": len(results) - len(failed),
        "failed": len(failed),
        "errors": [str(r.error) for r in failed],
    }


@task(name="notify-approval-requested", cache_policy=NO_CACHE)
def announce_approval_requests(run_id: str, request_ids: list[str]) -> dict[str, Any]:
    """Post the approval requests with Approve / Reject buttons.

    Args:
        run_id: The campaign run.
        request_ids: Pending approval requests to post (already posted ones are skipped).
    """
    return _summarise(
        "approval request",
        lambda: slack.notify_approval_requested(open_store(), run_id, request_ids),
    )


@task(name="notify-approval-decided", cache_policy=NO_CACHE)
def announce_approval_decision(request_id: str) -> dict[str, Any]:
    """Replace the request message with the decision (or add "1 of 2" to its thread).

    Args:
        request_id: The decided approval request.
    """
    return _summarise(
        "approval decision", lambda: slack.notify_approval_decided(open_store(), request_id)
    )


@task(name="notify-wave-progress", cache_policy=NO_CACHE)
def update_wave_progress(run_id: str, ring: str, wave: int) -> dict[str, Any]:
    """Post or edit in place the wave's progress message.

    Args:
        run_id: The campaign run.
        ring: Ring name.
        wave: 0-based wave number within the ring.
    """
    return _summarise(
        "wave progress", lambda: slack.notify_wave_progress(open_store(), run_id, ring, wave)
    )


@task(name="notify-host-failures", cache_policy=NO_CACHE)
def alert_host_failures(run_id: str, host_job_ids: list[int]) -> dict[str, Any]:
    """Alert at once on failed hosts, in the thread of their wave's message.

    Args:
        run_id: The campaign run.
        host_job_ids: Failed host jobs (each job and attempt is alerted once).
    """
    return _summarise(
        "failure alert", lambda: slack.notify_host_failures(open_store(), run_id, host_job_ids)
    )


@task(name="notify-gate-halted", cache_policy=NO_CACHE)
def announce_gate_halted(run_id: str, ring: str) -> dict[str, Any]:
    """Say that a ring's gate failed and what to do next.

    Args:
        run_id: The campaign run.
        ring: The ring whose gate failed.
    """
    return _summarise("gate halted", lambda: slack.notify_gate_halted(open_store(), run_id, ring))


@task(name="notify-completed", cache_policy=NO_CACHE)
def announce_completion(run_id: str, report_path: str | None = None) -> dict[str, Any]:
    """Post the run's outcome with its report link.

    Args:
        run_id: The campaign run.
        report_path: The HTML report written for the run, if any.
    """
    return _summarise(
        "completion", lambda: slack.notify_completed(open_store(), run_id, report_path)
    )


@task(name="notify-client-notice", cache_policy=NO_CACHE)
def send_client_notices(run_id: str, ring: str) -> dict[str, Any]:
    """Tell each tenant of the ring what will be patched in their window.

    Args:
        run_id: The campaign run.
        ring: The ring about to be deployed.
    """
    return _summarise(
        "client notice", lambda: slack.notify_client_notice(open_store(), run_id, ring)
    )
