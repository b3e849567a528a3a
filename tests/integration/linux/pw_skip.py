"""Skip helpers for the Linux driver tests: skip only when a tool is missing and cannot be
installed here (CI installs them with scripts/install-system-deps.sh)."""

from __future__ import annotations

import os
import shutil

import pytest


def need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(
            f"missing {', '.join(missing)} (scripts/install-system-deps.sh installs them as root)"
        )


def need_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")
