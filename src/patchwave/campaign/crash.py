"""Deterministic crash points for the crash-resume test.

``PATCHWAVE_CRASH_AT=N`` makes the process SIGKILL itself at the N-th crash point it passes (a
point sits right after each durable state write and right after each side effect on a host).
On the simulated clock the order of points is deterministic, so a seed picks reproducible places.
``PATCHWAVE_CRASH_AT=-1`` only counts, and writes the count to ``PATCHWAVE_CRASH_COUNT_FILE`` at
exit, so a test can size its sample. Unset, a crash point costs one comparison.
"""

from __future__ import annotations

import atexit
import os
import signal

_TARGET = int(os.environ.get("PATCHWAVE_CRASH_AT", "0") or 0)
_count = 0


def crashpoint(label: str = "") -> None:
    global _count
    if not _TARGET:
        return
    _count += 1
    if _count == _TARGET:
        trace = os.environ.get("PATCHWAVE_CRASH_TRACE")
        if trace:
            with open(trace, "a", encoding="utf-8") as fh:
                fh.write(f"{_count} {label}\n")
        os.kill(os.getpid(), signal.SIGKILL)


def _write_count() -> None:
    path = os.environ.get("PATCHWAVE_CRASH_COUNT_FILE")
    if path and _TARGET < 0:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(str(_count))


atexit.register(_write_count)
