"""``patchwave serve``: serve the deployments of prefect.yaml with ``flow.serve`` (no work pool)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from patchwave.cli.common import app, console, handle_errors
from patchwave.errors import UserError


@app.command("serve")
@handle_errors
def serve(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Serve only these deployments.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Flow runs at once.")] = 4,
) -> None:
    """Serve the scheduled campaign, scan and report deployments from prefect.yaml."""
    from patchwave.deployments import build_deployments, load_deployments

    if not os.environ.get("PREFECT_API_URL"):
        raise UserError(
            "serving schedules needs a Prefect server (the ephemeral API cannot schedule): run "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    defs = [d for d in load_deployments() if not only or d.name in only]
    if not defs:
        raise UserError(f"no deployment named {', '.join(only or [])} in prefect.yaml")
    from prefect import serve as prefect_serve

    console.print("serving: " + ", ".join(d.name for d in defs))
    prefect_serve(*build_deployments(defs), limit=limit)
