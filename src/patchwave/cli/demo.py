"""``patchwave demo``: the embedded default end to end (SQLite, Prefect's ephemeral API, the
simulated fleet)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from patchwave.cli.common import app, console, handle_errors


@app.command("demo")
@handle_errors
def demo(
    *,
    hosts: Annotated[int, typer.Option(min=3, max=100_000, help="Simulated hosts.")] = 200,
    tenants: Annotated[int, typer.Option(min=1, max=500, help="Client companies.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the simulated fleet.")] = 42,
) -> None:
    """Generate a simulated multi-tenant fleet, scan it in a Prefect flow, rank its findings."""
    from patchwave.fleetgen import generate_fleet
    from patchwave.inventory import load_inventory
    from patchwave.settings import get_settings
    from patchwave.store import open_store
    from patchwave.store.findings import query_findings
    from patchwave.store.inventory_repo import apply_inventory

    settings = get_settings()
    demo_dir = settings.home / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    inventory = demo_dir / f"inventory-{hosts}-{tenants}-{seed}.csv"
    generate_fleet(hosts=hosts, tenants=tenants, seed=seed).write_csv(inventory)
    store = open_store()
    with store.session() as session:
        summary = apply_inventory(session, load_inventory(inventory), actor="demo")
    console.rule("[bold]1. inventory")
    console.print(f"{inventory}: {summary}")

    console.rule("[bold]2. detection (Prefect flow 'fleet-scan')")
    from flows.scan import scan_fleet

    totals = scan_fleet(tenants=None)
    console.print(
        f"scanned {totals['hosts']} host(s): {totals['ok']} ok, {totals['failed']} failed; "
        f"{totals['new']} new finding(s)"
    )

    console.rule("[bold]3. prioritisation")
    with store.session() as session:
        rows = query_findings(session)
    by_tenant: dict[str, Counter[str]] = {}
    for r in rows:
        c = by_tenant.setdefault(r.tenant, Counter())
        c[r.tier] += 1
        c["kev"] += r.kev
        c["hosts:" + r.host] = 1
    table = Table(title="open findings per tenant")
    for col in ("tenant", "hosts", "P1", "P2", "P3", "P4", "KEV"):
        table.add_column(col, justify="right" if col != "tenant" else "left")
    for slug, c in sorted(by_tenant.items()):
        n_hosts = sum(1 for k in c if k.startswith("hosts:"))
        table.add_row(
            slug,
            str(n_hosts),
            str(c["P1"]),
            str(c["P2"]),
            str(c["P3"]),
            str(c["P4"]),
            str(c["kev"]),
        )
    console.print(table)
    from patchwave.cli.scan import findings

    findings(limit=10)
    console.print(
        "next: [bold]patchwave findings --tier P1[/], [bold]patchwave inventory list[/], "
        "[bold]patchwave windows show patch-tuesday-plus-3 --tz Europe/Paris[/]"
    )
