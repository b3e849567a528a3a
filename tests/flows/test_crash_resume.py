"""Crash safety: the campaign process is SIGKILLed at seeded points (right after a durable state
write, or right after a side effect on a host, before the next write), then resumed with
``patchwave campaign resume``. After each chain of crashes the run must end exactly as an
uninterrupted run does: no host installed twice, none skipped, the audit chain intact.

Real processes against a real Prefect server on loopback; simulated hosts and clock.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from patchwave.campaign.runs import load_jobs
from patchwave.endpoints.simulated import SimulatedFleet
from patchwave.settings import get_settings
from patchwave.store import open_store
from patchwave.store.audit import verify
from patchwave.store.tables import CampaignRunRow
from tests.flows.campaign_env import fleet_rows, write_campaign, write_inventory

pytestmark = [pytest.mark.slow]

SEED = 20261128
CHAINS = 5
CRASHES_PER_CHAIN = 6
SPEC = """
name: crash-test
owner: ops
scope: {tenants: all}
windows: {default: always, host_override: false}
rings:
  - {name: lab, select: {tags: [lab]}, approval: auto, gate: {min_success_rate: 0.5}}
  - {name: pilot, select: {tags: [pilot]}, approval: auto, gate: {min_success_rate: 0.5}}
  - {name: broad, select: {rest: true}, approval: auto, gate: {min_success_rate: 0.5}}
deployment:
  concurrency: {per_campaign: 3, per_site: 3}
  wave_size: 5
  max_fail_percentage: 60
  retries: {count: 1, delay: 1m}
  reboot: if-required
  snapshot: pre-patch
  prechecks: [free-disk-2g]
  postchecks: [services-up]
"""
# A mix of behaviours: transient install failures, hosts that never return from a reboot, a
# failing post-check; everyone else clean.
TAGS = {
    "acme-h03": "pilot;sim:install-fails-once",
    "acme-h05": "sim:no-return",
    "globex-h04": "sim:install-fails-once",
    "globex-h06": "sim:postcheck-fails",
}


def _env(home: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHWAVE_CRASH")}
    env.update(
        PATCHWAVE_HOME=str(home),
        PREFECT_API_URL=url,
        PREFECT_HOME=str(home / "prefect"),
        PREFECT_LOGGING_LEVEL="WARNING",
        PATCHWAVE_DATABASE_URL="",
        **extra,
    )
    env.pop("PATCHWAVE_DATABASE_URL")
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patchwave", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _prepare(home: Path, tmp: Path, url: str) -> Path:
    home.mkdir(parents=True)
    inv = write_inventory(tmp / "inventory.csv", fleet_rows({"acme": 9, "globex": 9}, tags=TAGS))
    done = _cli(_env(home, url), "inventory", "import", str(inv))
    assert done.returncode == 0, done.stderr
    return write_campaign(tmp, SPEC)


def _outcome(home: Path) -> tuple[str, dict[str, str], str]:
    store = open_store(f"sqlite:///{home / 'patchwave.db'}")
    try:
        with store.session() as s:
            run = s.scalars(select(CampaignRunRow)).one()
            jobs = {j.host.key: j.state.value for j in load_jobs(s, run.id)}
            chain_ok = verify(s)
            assert chain_ok.ok, chain_ok.problems
            return run.status, jobs, run.id
    finally:
        store.dispose()


def _installed_twice(home: Path) -> list[str]:
    fleet = SimulatedFleet(get_settings().sim_seed, home / "sim")
    counts: dict[tuple[str, str], int] = {}
    for line in fleet.ledger_path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("op") == "install":
            for adv in rec.get("advisories", rec.get("ids", [])):
                key = (rec["host"], adv)
                counts[key] = counts.get(key, 0) + 1
    fleet.close()
    return [f"{h} {a} x{n}" for (h, a), n in counts.items() if n > 1]


def test_sigkill_at_seeded_points_then_resume(prefect_server: str, tmp_path: Path) -> None:
    start = ["--clock", "simulated", "--start", "2026-11-02T08:00:00+00:00"]
    # Reference: the same campaign, uninterrupted, counting its crash points.
    ref_home = tmp_path / "reference"
    spec = _prepare(ref_home, tmp_path, prefect_server)
    count_file = tmp_path / "points.txt"
    done = _cli(
        _env(
            ref_home,
            prefect_server,
            PATCHWAVE_CRASH_AT="-1",
            PATCHWAVE_CRASH_COUNT_FILE=str(count_file),
        ),
        "campaign",
        "run",
        str(spec),
        *start,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    total_points = int(count_file.read_text())
    ref_status, ref_jobs, _ = _outcome(ref_home)
    assert ref_status == "completed"
    assert total_points > 50
    assert "acme/acme-h05" in ref_jobs and ref_jobs["acme/acme-h05"] == "failed"
    assert not _installed_twice(ref_home)

    rng = random.Random(SEED)
    kills = 0
    points_hit: list[str] = []
    for chain in range(CHAINS):
        home = tmp_path / f"chain{chain}"
        shutil.rmtree(home, ignore_errors=True)
        _prepare(home, tmp_path, prefect_server)
        trace = home / "crash-trace.txt"
        first = rng.randint(1, total_points - 1)
        proc = _cli(
            _env(
                home,
                prefect_server,
                PATCHWAVE_CRASH_AT=str(first),
                PATCHWAVE_CRASH_TRACE=str(trace),
            ),
            "campaign",
            "run",
            str(spec),
            *start,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
        kills += 1
        _, _, run_id = _outcome(home)
        for _ in range(CRASHES_PER_CHAIN - 1):
            # A resumed process passes fewer points; crash it early in what is left.
            at = rng.randint(1, max(2, total_points // 10))
            proc = _cli(
                _env(
                    home,
                    prefect_server,
                    PATCHWAVE_CRASH_AT=str(at),
                    PATCHWAVE_CRASH_TRACE=str(trace),
                ),
                "campaign",
                "resume",
                run_id,
            )
            if proc.returncode != -signal.SIGKILL:
                assert proc.returncode == 0, proc.stdout + proc.stderr
                break
            kills += 1
        proc = _cli(_env(home, prefect_server), "campaign", "resume", run_id)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        status, jobs, _ = _outcome(home)
        points_hit += trace.read_text().splitlines()
        assert status == ref_status
        assert jobs == ref_jobs, f"chain {chain}: final states differ from the uninterrupted run"
        assert not [k for k, v in jobs.items() if v == "skipped"]
        assert not _installed_twice(home), f"chain {chain}: a host was patched twice"
    assert kills >= 20
    # The seeded points landed on different kinds of places, not only one.
    kinds = {line.split(" ", 1)[1] for line in points_hit}
    assert len(kinds) >= 3, kinds
