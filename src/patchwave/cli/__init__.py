"""The ``patchwave`` command line (typer + rich).

Sub-commands live in one module each and register themselves on ``app`` here. Commands that do
not run a flow never import Prefect (its ephemeral API costs seconds to start).
"""

from __future__ import annotations

from patchwave.cli.common import app, main

__all__ = ["app", "main"]

# Importing the modules registers their commands on ``app``.
from patchwave.cli import approve as _approve  # noqa: F401
from patchwave.cli import audit as _audit  # noqa: F401
from patchwave.cli import campaign as _campaign  # noqa: F401
from patchwave.cli import campaign_run as _campaign_run  # noqa: F401
from patchwave.cli import db as _db  # noqa: F401
from patchwave.cli import demo as _demo  # noqa: F401
from patchwave.cli import hosts as _hosts  # noqa: F401
from patchwave.cli import inventory as _inventory  # noqa: F401
from patchwave.cli import report as _report  # noqa: F401
from patchwave.cli import rollback as _rollback  # noqa: F401
from patchwave.cli import scan as _scan  # noqa: F401
from patchwave.cli import serve as _serve  # noqa: F401
from patchwave.cli import slack as _slack  # noqa: F401
from patchwave.cli import windows as _windows  # noqa: F401
