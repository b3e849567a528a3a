"""``patchwave rollback RUN [--ring R] [--host H]``."""

from __future__ import annotations

from typing import Annotated

import typer

from patchwave.cli.common import app, console, handle_errors
from patchwave.errors import NotFound


@app.command("rollback")
@handle_errors
def rollback(
    run_id: Annotated[str, typer.Argument(help="Campaign run id.")],
    *,
    ring: Annotated[str | None, typer.Option(help="Only this ring.")] = None,
    host: Annotated[list[str] | None, typer.Option(help="Only this host (repeatable).")] = None,
    as_: Annotated[str, typer.Option("--as", help="Who asks (audited).")] = "cli",
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "rollback requested",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Roll back what a run installed (as a Prefect flow, audited)."""
    from patchwave.campaign.rollback import rollback_candidates
    from patchwave.campaign.runs import get_run, load_jobs
    from patchwave.store import open_store

    with open_store().session() as session:
        get_run(session, run_id)
        if ring is not None:
            known = {j.ring for j in load_jobs(session, run_id)}
            if ring not in known:
                raise NotFound(
                    f"run {run_id} has no ring {ring!r}; rings: {', '.join(sorted(known))}"
                )
        jobs = rollback_candidates(load_jobs(session, run_id, ring=ring, host_names=host))
    if not jobs:
        raise NotFound("nothing to roll back: no host of that selection had patches installed")
    console.print(
        f"{len(jobs)} host(s) to roll back: "
        + ", ".join(j.host.key for j in jobs[:10])
        + (" ..." if len(jobs) > 10 else "")
    )
    if not yes and not typer.confirm("roll them back?"):
        raise typer.Exit(1)
    from flows.rollback import rollback_run

    result = rollback_run(run_id=run_id, ring=ring, hosts=host, requested_by=as_, reason=reason)
    console.print(f"rolled back: {result['rolled_back']}, failed: {result['failed']}")
