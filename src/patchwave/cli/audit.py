"""``patchwave audit verify|list``: the hash-chained audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from patchwave.cli.common import app, console, handle_errors
from patchwave.errors import PatchwaveError

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


class AuditChainBroken(PatchwaveError):
    exit_code = 1


@audit_app.command("verify")
@handle_errors
def verify() -> None:
    """Check the whole chain: any edited, deleted or reordered row is reported."""
    from patchwave.store import open_store
    from patchwave.store.audit import verify as verify_chain

    with open_store().session() as session:
        report = verify_chain(session)
    if report.ok:
        console.print(f"[green]audit chain intact[/]: {report.events} event(s)")
        return
    for problem in report.problems:
        console.print(f"[red]{problem}[/]", highlight=False)
    raise AuditChainBroken(
        f"audit chain broken: {len(report.problems)} problem(s) in {report.events} event(s)"
    )


@audit_app.command("list")
@handle_errors
def list_(
    run: Annotated[str | None, typer.Option(help="Only this campaign run.")] = None,
    host: Annotated[
        str | None, typer.Option(help="Only events about this host (tenant/name).")
    ] = None,
    action: Annotated[str | None, typer.Option(help="Action prefix, e.g. approval.")] = None,
    limit: Annotated[int, typer.Option(help="Newest N events.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Audit events, newest first."""
    from sqlalchemy import select

    from patchwave.store import open_store
    from patchwave.store.tables import AuditEventRow

    stmt = select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit)
    if run:
        stmt = stmt.where(AuditEventRow.run_id == run)
    if host:
        stmt = stmt.where(AuditEventRow.host == host)
    if action:
        stmt = stmt.where(AuditEventRow.action.startswith(action))
    with open_store().session() as session:
        rows = list(session.scalars(stmt))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "seq": r.seq,
                        "at": r.at.isoformat(),
                        "actor": r.actor,
                        "action": r.action,
                        "run": r.run_id,
                        "host": r.host,
                        "subject": r.subject,
                        "details": json.loads(r.details),
                        "hash": r.hash,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"{len(rows)} audit event(s)")
    for col in ("#", "at (UTC)", "actor", "action", "host/subject", "details"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.seq),
            f"{r.at:%Y-%m-%d %H:%M:%S}",
            r.actor,
            r.action,
            r.host or r.subject or "",
            r.details[:120],
        )
    console.print(table)
