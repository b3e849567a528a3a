"""``patchwave db upgrade|current``."""

from __future__ import annotations

import typer

from patchwave.cli.common import app, console, handle_errors

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@handle_errors
def upgrade() -> None:
    """Apply pending migrations (patchwave also does this on first use)."""
    from patchwave.store import open_store
    from patchwave.store.db import current_revision, head_revision

    store = open_store(migrate=False)
    before = current_revision(store.engine)
    from patchwave.store.db import upgrade as do_upgrade

    do_upgrade(store.engine)
    console.print(f"{store.url}: schema {before or 'empty'} -> {head_revision()}")


@db_app.command("current")
@handle_errors
def current() -> None:
    """Show the schema revision of the configured database."""
    from patchwave.store import open_store
    from patchwave.store.db import current_revision, head_revision

    store = open_store(migrate=False)
    rev = current_revision(store.engine)
    state = "up to date" if rev == head_revision() else f"behind (head is {head_revision()})"
    console.print(f"{store.url}: revision {rev or 'none'}, {state}")
