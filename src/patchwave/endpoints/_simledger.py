"""The simulated fleet's memory: an append-only JSON-lines ledger of every effect on a host.

One line per effect (install, rollback, reboot, snapshot) is written with a single ``os.write``
on an ``O_APPEND`` descriptor before the endpoint method returns, so a process killed with
SIGKILL right after a call loses nothing that call reported. A line torn by a crash in the
middle of the write (the file does not end with a newline) never completed: it is dropped and
the file is cut back to its last full line on load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patchwave.errors import PatchwaveError


class LedgerError(PatchwaveError):
    """The simulated fleet's ledger file is corrupt."""


@dataclass(slots=True)
class HostLedger:
    """What the ledger says about one host."""

    requests: dict[str, int] = field(default_factory=dict)  # completed install calls per id
    applied: set[str] = field(default_factory=set)  # installed and not rolled back
    ineffective: set[str] = field(default_factory=set)  # "installed" but did not take
    ever_applied: set[str] = field(default_factory=set)
    snapshots: list[str] = field(default_factory=list)
    reboots: int = 0
    reboot_pending: bool = False
    revision: int = 0  # bumped on every change, so callers can cache derived state

    def apply(self, rec: dict[str, Any]) -> None:
        op = rec["op"]
        ids: list[str] = rec.get("ids", [])
        if op == "install":
            for advisory_id in (*ids, *rec.get("noop", ())):
                self.requests[advisory_id] = self.requests.get(advisory_id, 0) + 1
            self.applied.update(ids)
            self.ever_applied.update(ids)
            failed = set(rec.get("ineffective", ()))
            # A later install of an id that did not take heals it (the retry worked).
            self.ineffective = (self.ineffective - set(ids)) | failed
            self.reboot_pending = self.reboot_pending or bool(rec.get("reboot_required"))
        elif op == "rollback":
            self.applied.difference_update(ids)
            self.ineffective.difference_update(ids)
        elif op == "reboot":
            self.reboots += 1
            self.reboot_pending = False
        elif op == "snapshot":
            self.snapshots.append(rec["snapshot"])
        else:
            raise ValueError(f"unknown ledger operation {op!r}")
        self.revision += 1


class Ledger:
    """Append-only JSON-lines file of host effects."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def load(self) -> dict[str, HostLedger]:
        hosts: dict[str, HostLedger] = {}
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return hosts
        end = data.rfind(b"\n") + 1
        if end < len(data):
            # The last write was cut short by a crash: that effect never completed.
            os.truncate(self.path, end)
        for number, line in enumerate(data[:end].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                hosts.setdefault(rec["host"], HostLedger()).apply(rec)
            except (ValueError, KeyError, TypeError) as exc:
                raise LedgerError(
                    f"{self.path}: line {number} is not a valid ledger record ({exc}); the "
                    "file is written only by the simulated fleet: delete it to reset the "
                    "simulated hosts to their seeded state"
                ) from exc
        return hosts

    def append(self, rec: dict[str, Any]) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = json.dumps(rec, separators=(",", ":")).encode() + b"\n"
        view = memoryview(line)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
