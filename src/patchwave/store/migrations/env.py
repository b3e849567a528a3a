"""Alembic environment: migrations run on the connection patchwave hands over."""

from __future__ import annotations

from alembic import context

from patchwave.store.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    from patchwave.settings import get_settings
    from patchwave.store.db import make_engine

    connection = make_engine(get_settings().effective_database_url).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
