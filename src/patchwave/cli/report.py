"""``patchwave report ...``: a campaign run's client report and the fleet compliance report.
Neither starts Prefect: they read the store and write files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patchwave.cli.common import app, console, handle_errors

report_app = typer.Typer(
    help="Reports: a campaign run for the client, and fleet compliance.", no_args_is_help=True
)
app.add_typer(report_app, name="report")


class ReportFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    JSON = "json"


@report_app.command("run")
@handle_errors
def run_report(
    run_id: Annotated[str, typer.Argument(help="The campaign run id.", show_default=False)],
    formats: Annotated[
        list[ReportFormat] | None,
        typer.Option("--format", "-f", help="html, csv (one row per host job), json (metrics)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for <run id>/ (default: report_dir).")
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", "-t", help="One client's own report (nothing about others)."),
    ] = None,
    clients: Annotated[
        bool, typer.Option("--clients", help="Also write clients/<tenant>.html for each client.")
    ] = False,
) -> None:
    """Write a campaign run's report: HTML for the client, CSV of host jobs, JSON metrics."""
    from patchwave.reports.files import write_run_report
    from patchwave.reports.fmt import pct
    from patchwave.store import open_store

    chosen = [f.value for f in formats] if formats else ["html", "csv", "json"]
    files = write_run_report(
        open_store(),
        run_id,
        out_dir=out,
        formats=chosen,  # type: ignore[arg-type]
        tenant=tenant,
        clients=clients,
    )
    m = files.metrics
    assert m is not None
    o = m.msp
    console.print(
        f"run [bold]{m.run_id}[/] ({m.campaign}, {m.status}): {o.hosts_in_scope} host(s) in "
        f"scope, {o.succeeded} patched, {o.failed} failed, {o.deferred} deferred, "
        f"{o.rolled_back} rolled back; compliance {pct(o.compliance_before)} → "
        f"{pct(o.compliance_after)}",
        highlight=False,
        soft_wrap=True,
    )
    for path in (files.html, files.csv, files.json, *files.clients.values()):
        if path is not None:
            console.print(f"  {path}", highlight=False, soft_wrap=True)


@report_app.command("compliance")
@handle_errors
def compliance_report(
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", "-t", help="Tenant slug (repeatable).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for compliance/ (default: report_dir).")
    ] = None,
) -> None:
    """Write the fleet compliance report: per client, where patching stands now."""
    from patchwave.reports.files import write_compliance_report
    from patchwave.reports.fmt import hours, pct
    from patchwave.store import open_store

    files = write_compliance_report(open_store(), tenants=tenant or None, out_dir=out)
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0))
    for col in ("client", "hosts", "compliant", "P1", "P2", "KEV", "overdue", "age", "SLA 30d"):
        table.add_column(col, justify="left" if col == "client" else "right")
    for t in files.fleet.tenants:
        age = hours(t.median_age_days * 24) if t.median_age_days is not None else "—"
        table.add_row(
            t.slug,
            str(t.hosts),
            pct(t.compliance),
            str(t.open_by_tier["P1"]),
            str(t.open_by_tier["P2"]),
            str(t.kev_open),
            str(t.overdue),
            age,
            pct(t.sla_met_rate_30d),
        )
    console.print(table)
    for path in (files.html, files.csv, files.json):
        console.print(f"  {path}", highlight=False, soft_wrap=True)
