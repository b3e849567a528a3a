"""``patchwave scan`` (detection only) and ``patchwave findings`` (ranked by risk)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from patchwave.cli.common import app, console, err_console, handle_errors
from patchwave.errors import NotFound

TIER_STYLE = {"P1": "bold red", "P2": "red", "P3": "yellow", "P4": "dim"}


@app.command("scan")
@handle_errors
def scan(
    *,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", "-t", help="Tenant slug.")] = None,
    host: Annotated[list[str] | None, typer.Option("--host", help="Host name.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=2000, help="Hosts at once.")] = 50,
    top: Annotated[int, typer.Option(help="Show the N riskiest findings after.")] = 10,
) -> None:
    """Detect missing patches (no changes to hosts) and store ranked findings."""
    from patchwave.endpoints.factory import EndpointFactory
    from patchwave.scanning import scan_and_store
    from patchwave.store import open_store
    from patchwave.store.inventory_repo import list_hosts, load_tenants

    store = open_store()
    with store.session() as session:
        hosts = list_hosts(session, tenants=tenant, names=host, include_quarantined=False)
        tenants = load_tenants(session)
    if not hosts:
        raise NotFound("no hosts match; import an inventory first (`patchwave inventory import`)")
    factory = EndpointFactory()
    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        bar = progress.add_task("scan", total=len(hosts))
        try:
            summary = scan_and_store(
                store,
                hosts,
                factory,
                tenants=tenants,
                source="cli",
                actor="cli",
                concurrency=concurrency,
                progress=lambda n: progress.advance(bar, n),
            )
        finally:
            factory.close()
    counts = summary.findings
    console.print(
        f"scanned {summary.hosts_total} host(s): {summary.hosts_ok} ok, "
        f"{summary.hosts_failed} failed; findings: {counts.new} new, {counts.reopened} reopened, "
        f"{counts.resolved} resolved, {counts.new + counts.reopened + counts.still_open} open"
    )
    for key, error in summary.failures:
        err_console.print(f"[yellow]scan failed[/] {key}: {error}", highlight=False)
    if top:
        findings(tenant=tenant, host=[h.name for h in hosts] if host else None, limit=top)


@app.command("findings")
@handle_errors
def findings(
    *,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", "-t", help="Tenant slug.")] = None,
    host: Annotated[list[str] | None, typer.Option("--host", help="Host name.")] = None,
    tier: Annotated[list[str] | None, typer.Option("--tier", help="P1, P2, P3 or P4.")] = None,
    kev: Annotated[bool, typer.Option("--kev", help="Only CISA KEV findings.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only past their deadline.")] = False,
    limit: Annotated[int, typer.Option(help="At most N rows (0 = all).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Open findings, riskiest first, each with the reasons for its rank and its deadline."""
    from patchwave.store import open_store
    from patchwave.store.findings import query_findings

    for t in tier or ():
        if t not in TIER_STYLE:
            raise NotFound(f"unknown tier {t!r}: use P1, P2, P3 or P4")
    today = datetime.now(UTC).date()
    with open_store().session() as session:
        rows = query_findings(
            session,
            tenants=tenant,
            hosts=host,
            tiers=tier,
            kev_only=kev,
            overdue_on=today if overdue else None,
            limit=limit or None,
        )
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    table = Table(title=f"{len(rows)} open finding(s), riskiest first")
    for col in ("tier", "score", "tenant/host", "patch", "why", "due"):
        table.add_column(col, overflow="fold")
    wide = console.width >= 120
    for r in rows:
        due = r.deadline.isoformat()
        if r.deadline < today:
            due = f"[red]{due} overdue[/]"
        table.add_row(
            f"[{TIER_STYLE[r.tier]}]{r.tier}[/]",
            str(r.score),
            f"{r.tenant}/{r.host}",
            f"{r.advisory_id}\n[dim]{r.title[:60]}[/]" if wide else r.advisory_id,
            r.reasons,
            due,
        )
    console.print(table)
