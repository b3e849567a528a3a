"""``patchwave serve`` against a real Prefect server: the deployments of prefect.yaml appear with
their schedules and parameters (then the process is stopped)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]


async def _deployment(url: str, name: str) -> object | None:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api=url) as client:
        try:
            return await client.read_deployment_by_name(name)
        except Exception:  # noqa: BLE001 - not there yet
            return None


def test_serve_registers_scheduled_deployments(prefect_server: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "PATCHWAVE_HOME": str(tmp_path),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patchwave",
            "serve",
            "--only",
            "daily-scan",
            "--only",
            "monthly-security",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        found = None
        while time.monotonic() < deadline and found is None:
            found = asyncio.run(_deployment(prefect_server, "patch-campaign/monthly-security"))
            time.sleep(1)
        assert found is not None, "monthly-security was not registered"
        scan = asyncio.run(_deployment(prefect_server, "fleet-scan/daily-scan"))
        assert scan is not None
        monthly_schedules = [s.schedule for s in found.schedules]  # type: ignore[attr-defined]
        assert any(
            "BYMONTHDAY=11,12,13,14,15,16,17" in getattr(s, "rrule", "") for s in monthly_schedules
        )
        assert all(s.timezone == "Europe/Paris" for s in monthly_schedules)
        assert found.parameters["campaign"] == "monthly-security"  # type: ignore[attr-defined]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_serve_without_a_server_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env["PATCHWAVE_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "patchwave", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "prefect server start" in done.stderr and "Traceback" not in done.stderr
