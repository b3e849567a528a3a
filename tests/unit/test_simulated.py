"""The simulated fleet: deterministic hosts, forced behaviours, a ledger that survives SIGKILL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from patchwave.clock import SimulatedClock, run_async
from patchwave.domain.models import Advisory, Host, OsFamily
from patchwave.endpoints import catalogue
from patchwave.endpoints.base import Endpoint
from patchwave.endpoints.simulated import (
    LedgerError,
    SimProfile,
    SimulatedEndpoint,
    SimulatedFleet,
)
from patchwave.errors import (
    HostUnreachable,
    InventoryError,
    PatchFailed,
    TransientEndpointError,
    is_transient,
)
from patchwave.fleetgen import generate_fleet
from tests.factories import make_host

T = TypeVar("T")
RELIABLE = SimProfile.reliable()
FIXED_NOW = datetime(2025, 9, 1, 22, 0, tzinfo=UTC)


def run(coro: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await coro

    return asyncio.run(wrapper())


def fleet(tmp_path: Path, seed: int = 7, **kwargs: Any) -> SimulatedFleet:
    kwargs.setdefault("latency_scale", 0.0)
    kwargs.setdefault("profile", RELIABLE)
    return SimulatedFleet(seed, tmp_path / "sim", **kwargs)


def windows(name: str = "acme-app01", *tags: str, version: str = "Server 2022") -> Host:
    return make_host(
        name=name, os_family=OsFamily.WINDOWS, os_version=version, tags=frozenset(tags)
    )


def debian(name: str = "acme-web01", *tags: str) -> Host:
    return make_host(name=name, os_version="12", tags=frozenset(tags))


def with_missing(sim: SimulatedFleet, make: Callable[[str], Host]) -> Host:
    """The first host of a series that misses something (a few hosts are fully patched)."""
    for i in range(50):
        host = make(f"h{i:02d}")
        if sim.baseline(host):
            return host
    raise AssertionError("no host with missing patches")


def scan_ids(sim: SimulatedFleet, host: Host) -> list[str]:
    async def go() -> list[str]:
        async with sim.endpoint(host) as ep:
            return [a.id for a in (await ep.scan()).missing]

    return run(go())


def test_the_endpoint_implements_the_protocol(tmp_path: Path) -> None:
    ep = fleet(tmp_path).endpoint(debian())
    assert isinstance(ep, Endpoint)
    assert isinstance(ep, SimulatedEndpoint)


def test_same_seed_same_fleet_in_any_order_and_another_seed_differs(tmp_path: Path) -> None:
    hosts = generate_fleet(hosts=300, tenants=4, seed=1).hosts
    a = fleet(tmp_path / "a", seed=42, profile=SimProfile())
    b = fleet(tmp_path / "b", seed=42, profile=SimProfile())
    c = fleet(tmp_path / "c", seed=43, profile=SimProfile())

    def scan_retrying(host: Host) -> list[str]:
        if "unreachable" in a.behaviours(host):
            return [x.id for x in a.baseline(host)]
        try:
            return scan_ids(a, host)
        except HostUnreachable:
            assert "flaky-scan" in a.behaviours(host)
            return scan_ids(a, host)

    forward = [scan_retrying(h) for h in hosts]
    backward = [b.baseline(h) for h in reversed(hosts)][::-1]
    assert forward == [[x.id for x in m] for m in backward]
    assert [a.behaviours(h) for h in hosts] == [b.behaviours(h) for h in hosts]
    differ = sum(a.baseline(h) != c.baseline(h) for h in hosts)
    assert differ > 250


def test_missing_patches_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    hosts = generate_fleet(hosts=40, tenants=2, seed=3).hosts
    here = {h.key: [a.id for a in fleet(tmp_path).baseline(h)] for h in hosts}
    script = textwrap.dedent(
        f"""
        import json
        from pathlib import Path
        from patchwave.endpoints.simulated import SimProfile, SimulatedFleet
        from patchwave.fleetgen import generate_fleet
        sim = SimulatedFleet(7, Path({str(tmp_path / "other")!r}), profile=SimProfile.reliable())
        hosts = generate_fleet(hosts=40, tenants=2, seed=3).hosts
        print(json.dumps({{h.key: [a.id for a in sim.baseline(h)] for h in hosts}}))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == here


def test_hosts_miss_about_twenty_applicable_advisories(tmp_path: Path) -> None:
    sim = fleet(tmp_path, profile=SimProfile())
    hosts = generate_fleet(hosts=1000, tenants=10, seed=5).hosts
    counts = [len(sim.baseline(h)) for h in hosts]
    assert 16 <= sum(counts) / len(counts) <= 24
    assert 0.01 <= counts.count(0) / len(counts) <= 0.08  # a few fully patched hosts
    for host in hosts[:200]:
        applicable = set(catalogue.applicable(host))
        assert set(sim.baseline(host)) <= applicable
    lower = fleet(tmp_path / "low", profile=SimProfile(mean_missing=5))
    assert sum(len(lower.baseline(h)) for h in hosts) / len(hosts) < 8


def test_installs_persist_across_fleet_instances_and_rollback_reverts(tmp_path: Path) -> None:
    first = fleet(tmp_path)
    host = with_missing(first, debian)
    missing = first.baseline(host)
    target = missing[-1]

    async def install() -> None:
        async with first.endpoint(host) as ep:
            result = await ep.install([target])
            assert result.installed == (target.id,)

    run(install())
    second = fleet(tmp_path)  # a new process would build a new fleet exactly like this
    assert target.id not in scan_ids(second, host)
    assert target.id in second.installed(host.key)
    assert second.install_count(host.key, target.id) == 1

    async def rollback() -> None:
        async with second.endpoint(host) as ep:
            result = await ep.rollback([target], None)
            assert result.ok
            assert result.reverted == (target.id,)

    run(rollback())
    third = fleet(tmp_path)
    assert target.id in scan_ids(third, host)
    assert target.id not in third.installed(host.key)


def test_installing_the_newest_of_a_line_satisfies_the_older_ones(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    for i in range(200):
        host = debian(f"h{i}")
        chains = [
            line
            for line in catalogue.update_lines(host)
            if len(line) > 1 and line[-2] in sim.baseline(host)
        ]
        if chains:
            break
    else:
        raise AssertionError("no host misses two members of a line")
    older, newest = chains[0][-2], chains[0][-1]

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            await ep.install([newest])
            assert (await ep.verify([older, newest])).ok

    run(go())
    assert older.id not in scan_ids(sim, host)
    assert sim.install_count(host.key, older.id) == 0


def test_the_ledger_line_is_on_disk_when_install_returns(tmp_path: Path) -> None:
    sim = fleet(tmp_path, now=lambda: FIXED_NOW)
    host = with_missing(sim, debian)
    patch = sim.baseline(host)[0]

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            await ep.install([patch])

    run(go())
    lines = sim.ledger_path.read_text().splitlines()  # no close(), no flush by us
    record = json.loads(lines[-1])
    assert record["host"] == host.key
    assert record["op"] == "install"
    assert record["ids"] == [patch.id]
    assert record["at"] == FIXED_NOW.isoformat()


def test_a_sigkilled_process_loses_nothing_it_reported(tmp_path: Path) -> None:
    state = tmp_path / "sim"
    script = textwrap.dedent(
        f"""
        import asyncio, sys, time
        from pathlib import Path
        from patchwave.endpoints.simulated import SimProfile, SimulatedFleet
        from tests.factories import make_host
        sim = SimulatedFleet(7, Path({str(state)!r}), latency_scale=0,
                             profile=SimProfile.reliable())
        async def main():
            for i in range(50):
                host = make_host(name=f"h{{i:02d}}", os_version="12")
                missing = sim.baseline(host)
                if missing:
                    async with sim.endpoint(host) as ep:
                        done = await ep.install(missing[:1])
                        await ep.reboot()
                    print(host.key, done.installed[0], flush=True)
                    break
            time.sleep(60)
        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert proc.stdout is not None
        key, advisory_id = proc.stdout.readline().split()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    survivor = SimulatedFleet(7, state, latency_scale=0, profile=RELIABLE)
    assert survivor.install_count(key, advisory_id) == 1
    assert advisory_id in survivor.installed(key)
    assert survivor.reboot_count(key) == 1


def test_a_torn_last_line_is_dropped_and_a_corrupt_one_is_reported(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, debian)
    patch = sim.baseline(host)[0]
    run(sim.endpoint(host).install([patch]))
    with sim.ledger_path.open("a") as f:
        f.write('{"host": "acme/h00", "op": "inst')  # the crash cut this write short
    again = fleet(tmp_path)
    assert patch.id in again.installed(host.key)
    assert sim.ledger_path.read_text().endswith("\n")
    with sim.ledger_path.open("a") as f:
        f.write("not json\n")
    with pytest.raises(LedgerError, match="line 2"):
        fleet(tmp_path).installed(host.key)


def test_install_counts_every_completed_request(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, debian)
    patch = sim.baseline(host)[0]

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            assert (await ep.install([patch])).installed == (patch.id,)
            again = await ep.install([patch])
            assert again.installed == ()
            assert "already installed" in again.log

    run(go())
    assert sim.install_count(host.key, patch.id) == 2
    assert sim.installed(host.key) == {patch.id}
    assert sim.install_count(host.key, "KB5063878") == 0


def test_unknown_and_inapplicable_advisories(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = debian()
    bogus = dataclasses.replace(catalogue.get("DSA-5724-1"), id="DSA-9999-1")

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            with pytest.raises(PatchFailed, match="DSA-9999-1"):
                await ep.install([bogus])
            result = await ep.install([catalogue.get("KB5063880")])  # a Windows KB
            assert result.installed == ()

    run(go())
    assert sim.installed(host.key) == set()


def test_reliable_profile_never_fails_over_a_thousand_hosts(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    hosts = generate_fleet(hosts=1000, tenants=8, seed=11).hosts

    async def patch(host: Host) -> None:
        async with sim.endpoint(host) as ep:
            assert (await ep.precheck(["free-disk-2g", "no-pending-reboot", "ping"])).ok
            missing = (await ep.scan()).missing
            snapshot = await ep.snapshot("hypervisor")
            result = await ep.install(missing)
            assert set(result.installed) == {a.id for a in missing}
            if result.reboot_required:
                await ep.reboot()
                await ep.wait_for_return(3600)
            assert (await ep.verify(missing)).ok
            assert (await ep.postcheck(["services-up"])).ok
            assert (await ep.scan()).missing == ()
            assert snapshot is not None

    async def everything() -> None:
        await asyncio.gather(*(patch(h) for h in hosts))

    run(everything())
    assert all(sim.behaviours(h) == frozenset() for h in hosts)


def test_default_rates_show_up_in_a_large_fleet(tmp_path: Path) -> None:
    sim = fleet(tmp_path, profile=SimProfile())
    hosts = generate_fleet(hosts=20000, tenants=20, seed=2).hosts
    seen = Counter(b for h in hosts for b in sim.behaviours(h))
    assert 0.014 <= seen["install-fails"] / len(hosts) <= 0.026
    assert 0.006 <= seen["unreachable"] / len(hosts) <= 0.014
    assert 0.002 <= seen["no-return"] / len(hosts) <= 0.008


def install_all(sim: SimulatedFleet, host: Host) -> tuple[str, ...]:
    async def go() -> tuple[str, ...]:
        async with sim.endpoint(host) as ep:
            return (await ep.install(sim.baseline(host))).installed

    return run(go())


def test_tag_install_fails(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, lambda n: debian(n, "sim:install-fails"))
    with pytest.raises(PatchFailed, match="dpkg: error processing package") as info:
        install_all(sim, host)
    assert not is_transient(info.value)
    assert sim.installed(host.key) == set()
    assert sim.install_count(host.key, sim.baseline(host)[0].id) == 0
    win = with_missing(sim, lambda n: windows(n, "sim:install-fails"))
    with pytest.raises(PatchFailed, match="0x800f0922"):
        install_all(sim, win)


def test_tag_install_fails_once(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, lambda n: debian(n, "sim:install-fails-once"))
    with pytest.raises(TransientEndpointError, match="lock") as info:
        install_all(sim, host)
    assert is_transient(info.value)
    assert install_all(sim, host) == tuple(a.id for a in sim.baseline(host))


def test_tag_unreachable(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = debian("acme-web01", "sim:unreachable")

    async def go() -> None:
        with pytest.raises(HostUnreachable) as info:
            async with sim.endpoint(host):
                pass
        assert is_transient(info.value)
        with pytest.raises(HostUnreachable):
            await sim.endpoint(host).scan()

    run(go())


def test_tag_flaky_scan_fails_only_the_first_time(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = debian("acme-web01", "sim:flaky-scan")
    with pytest.raises(HostUnreachable):
        scan_ids(sim, host)
    assert scan_ids(sim, host) == [a.id for a in sim.baseline(host)]


def test_tag_no_return_times_out_and_stays_down(tmp_path: Path) -> None:
    sim = fleet(tmp_path, latency_scale=1e-4)
    host = windows("acme-dc01", "sim:no-return")

    async def go() -> float:
        ep = sim.endpoint(host)
        await ep.reboot()
        started = time.perf_counter()
        with pytest.raises(HostUnreachable, match="did not come back within 600s"):
            await ep.wait_for_return(600)
        elapsed = time.perf_counter() - started
        with pytest.raises(HostUnreachable):
            await ep.scan()
        return elapsed

    assert run(go()) >= 600 * 1e-4
    with pytest.raises(HostUnreachable):
        scan_ids(fleet(tmp_path), host)  # still down in a new process


def test_wait_for_return_honours_the_timeout_of_a_slow_boot(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = windows("acme-app01")
    boot = sim.reboot_seconds(host)
    assert 120 <= boot <= 480

    async def go() -> None:
        ep = sim.endpoint(host)
        before = await ep.facts()
        await ep.reboot()
        with pytest.raises(HostUnreachable, match="still booting"):
            await ep.wait_for_return(boot / 2)
        after = await ep.wait_for_return(boot)
        assert after.boot_id != before.boot_id

    run(go())


def test_tag_verify_fails_until_reinstalled(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, lambda n: debian(n, "sim:verify-fails"))
    missing = sim.baseline(host)

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            assert (await ep.install(missing)).installed == tuple(a.id for a in missing)
            check = await ep.verify(missing)
            assert not check.ok
            assert check.still_missing == (missing[0].id,)
            assert missing[0].id in [a.id for a in (await ep.scan()).missing]
            await ep.install(missing[:1])
            assert (await ep.verify(missing)).ok

    run(go())


def test_prechecks(tmp_path: Path) -> None:
    sim = fleet(tmp_path)

    async def checks(host: Host, names: list[str]) -> dict[str, str]:
        async with sim.endpoint(host) as ep:
            return (await ep.precheck(names)).failures

    low = debian("acme-web01", "sim:low-disk")
    failures = run(checks(low, ["free-disk-1g", "ping", "services-up"]))
    assert list(failures) == ["free-disk-1g"]
    assert "GiB free on /" in failures["free-disk-1g"]
    assert run(checks(debian("acme-web02"), ["free-disk-5g", "no-pending-reboot"])) == {}
    assert (
        "unknown check" in run(checks(debian("acme-web02"), ["free-disk-lots"]))["free-disk-lots"]
    )

    pending = windows("acme-fs01", "sim:pending-reboot")
    assert list(run(checks(pending, ["no-pending-reboot"]))) == ["no-pending-reboot"]

    async def reboot() -> None:
        async with sim.endpoint(pending) as ep:
            await ep.reboot()
            assert not (await ep.wait_for_return(3600)).reboot_pending

    run(reboot())
    assert run(checks(pending, ["no-pending-reboot"])) == {}


def test_a_reboot_required_install_leaves_a_pending_reboot(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, windows)
    cu = next(a for a in sim.baseline(host) if a.reboot_required)

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            assert (await ep.install([cu])).reboot_required
            assert (await ep.scan()).reboot_pending
            assert not (await ep.precheck(["no-pending-reboot"])).ok

    run(go())


def test_tag_postcheck_fails_after_patching(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, lambda n: windows(n, "sim:postcheck-fails", "role:web"))

    async def go() -> None:
        async with sim.endpoint(host) as ep:
            assert (await ep.postcheck(["services-up"])).ok  # nothing installed yet
            await ep.install(sim.baseline(host)[:1])
            result = await ep.postcheck(["services-up"])
            assert not result.ok
            assert "W3SVC" in result.failures["services-up"]

    run(go())


def test_tag_slow_and_durations(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    cu = catalogue.get("KB5063880")
    normal, slow = windows("acme-app01"), windows("acme-app01", "sim:slow")
    assert 20 * 60 <= sim.install_seconds(normal, [cu]) <= 60 * 60
    assert sim.install_seconds(slow, [cu]) == pytest.approx(3 * sim.install_seconds(normal, [cu]))
    kernel = catalogue.get("DSA-5658-1")
    assert 3 * 60 <= sim.install_seconds(debian(), [kernel]) <= 15 * 60
    fixed = fleet(tmp_path, profile=SimProfile.reliable(fixed_install_seconds=1800.0))
    assert fixed.install_seconds(normal, [cu]) == 1800.0


def test_durations_are_awaited_scaled_and_skipped_at_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    host = with_missing(fleet(tmp_path), windows)
    cu = next(a for a in fleet(tmp_path).baseline(host) if "Cumulative" in a.title)
    scaled = fleet(tmp_path / "scaled", latency_scale=0.01)
    run(scaled.endpoint(host).install([cu]))
    assert slept == [pytest.approx(scaled.install_seconds(host, [cu]) * 0.01)]
    slept.clear()
    run(fleet(tmp_path / "zero").endpoint(host).install([cu]))
    assert slept == []


def test_snapshot_and_rollback(tmp_path: Path) -> None:
    sim = fleet(tmp_path)
    host = with_missing(sim, debian)
    patch: Advisory = sim.baseline(host)[0]

    async def go() -> str:
        async with sim.endpoint(host) as ep:
            assert await ep.snapshot(None) is None
            snap = await ep.snapshot("hypervisor-snapshot")
            assert snap is not None
            await ep.install([patch])
            refused = await ep.rollback([patch], "hypervisor-snapshot:nope:1")
            assert not refused.ok
            assert refused.reverted == ()
            return snap

    snap = run(go())
    later = fleet(tmp_path)  # the snapshot id is known in a new process too
    done = run(later.endpoint(host).rollback([patch], snap))
    assert done.ok
    assert done.reverted == (patch.id,)
    assert patch.id in scan_ids(later, host)


def test_scan_timestamps_come_from_the_injected_clock(tmp_path: Path) -> None:
    sim = fleet(tmp_path, now=lambda: FIXED_NOW)
    host = debian()
    result = run(sim.endpoint(host).scan())
    assert result.scanned_at == FIXED_NOW
    assert result.facts.os_name == "Debian GNU/Linux 12 (bookworm)"
    assert result.missing is not None


def test_unknown_simulation_tags_are_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="sim:instal-fails"):
        fleet(tmp_path).behaviours(debian("acme-web01", "sim:instal-fails"))


def test_clean_tag_overrides_any_rate(tmp_path: Path) -> None:
    always = SimProfile(install_fails=1.0, unreachable=1.0, slow=1.0)
    sim = fleet(tmp_path, profile=always)
    assert sim.behaviours(debian("acme-web01", "sim:clean")) == frozenset()
    assert {"install-fails", "unreachable", "slow"} <= sim.behaviours(debian("acme-web02"))
    with pytest.raises(ValueError, match="probability"):
        SimProfile(flaky_scan=1.5)


def test_thirty_minute_installs_cost_nothing_on_the_virtual_time_loop(tmp_path: Path) -> None:
    clock = SimulatedClock(FIXED_NOW)
    profile = SimProfile.reliable(fixed_install_seconds=1800.0)
    sim = fleet(tmp_path, latency_scale=1.0, profile=profile, now=clock.now)
    hosts = [h for h in generate_fleet(hosts=220, tenants=2, seed=4).hosts if sim.baseline(h)][:200]

    async def wave() -> None:
        limit = asyncio.Semaphore(100)

        async def one(host: Host) -> None:
            async with limit:
                await sim.endpoint(host).install(sim.baseline(host))

        await asyncio.gather(*(one(h) for h in hosts))

    started = time.perf_counter()
    run_async(clock, wave())
    assert time.perf_counter() - started < 5
    assert clock.now() - FIXED_NOW == timedelta(seconds=2 * 1800)  # ceil(200 / 100) x 30 min
    record = json.loads(sim.ledger_path.read_text().splitlines()[-1])
    assert record["at"] == (FIXED_NOW + timedelta(seconds=3600)).isoformat()
