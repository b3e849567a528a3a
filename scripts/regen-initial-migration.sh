#!/usr/bin/env bash
# Development helper: regenerate migration 0001 from the tables (only before the first release).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f src/patchwave/store/migrations/versions/0001_initial_schema.py /tmp/pw-gen.db
.venv/bin/python - <<'PY'
from importlib import resources
from alembic import command
from alembic.config import Config
from patchwave.store.db import make_engine
engine = make_engine("sqlite:////tmp/pw-gen.db")
with engine.begin() as conn:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("patchwave.store") / "migrations"))
    cfg.attributes["connection"] = conn
    command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
f=src/patchwave/store/migrations/versions/0001_initial_schema.py
sed -i 's/astext_type=Text()/astext_type=sa.Text()/g; /### commands auto generated/d; /### end Alembic commands/d' "$f"
