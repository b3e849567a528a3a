"""The store: SQLAlchemy 2 tables, repositories and Alembic migrations.

The database is the source of truth for campaign progress; Prefect runs execute, our tables
remember. SQLite (a file under ``PATCHWAVE_HOME``) by default, PostgreSQL via
``PATCHWAVE_DATABASE_URL``.
"""

from patchwave.store.db import Store, open_store

__all__ = ["Store", "open_store"]
