"""What every task shares: the retry condition and per-process resources."""

from __future__ import annotations

from typing import Any

from patchwave.errors import is_transient


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only errors marked ``Transient`` (timeouts, dropped connections, 5xx)."""
    return isinstance(state.data, BaseException) and is_transient(state.data)
