"""The ``Endpoint`` protocol implemented once on top of a transport and a package-manager driver.

``SshEndpoint`` and ``LocalEndpoint`` only say how to open and close a transport; everything a
campaign step does (facts, scan, checks, install, reboot, verify, rollback) is here, so both run
the same code paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from patchwave.domain.models import Advisory, Host, OsFamily
from patchwave.endpoints.base import (
    CheckResult,
    HostFacts,
    InstallResult,
    RollbackResult,
    ScanResult,
    VerifyResult,
)
from patchwave.endpoints.drivers.apt import AptDriver
from patchwave.endpoints.drivers.base import (
    FACTS_SCRIPT,
    Driver,
    DriverOptions,
    ManagerName,
    fixes_of,
    manifest_dir,
    parse_facts,
    still_missing,
)
from patchwave.endpoints.drivers.dnf import DnfDriver
from patchwave.endpoints.drivers.noop import NoopDriver
from patchwave.endpoints.drivers.versions import compare_versions
from patchwave.endpoints.drivers.zypper import ZypperDriver
from patchwave.endpoints.transport import SiteLimits, Transport
from patchwave.errors import HostUnreachable, PatchFailed, TransientEndpointError

DRIVERS: dict[str, type[Driver]] = {
    "apt": AptDriver,
    "dnf": DnfDriver,
    "zypper": ZypperDriver,
    "noop": NoopDriver,
}
_FREE_DISK = re.compile(r"free-disk-(\d+)g")


def manager_for(family: OsFamily) -> ManagerName:
    """The driver for an os-release family; a family without one is a clear error."""
    manager = family.package_manager
    if manager in ("apt", "dnf", "zypper"):
        return manager  # type: ignore[return-value]
    raise PatchFailed(f"no Linux package manager driver for OS family {family.value!r}")


class DriverEndpoint(ABC):
    """One host's patch operations through a driver. Subclasses open and close the transport.

    Use ``async with endpoint:`` to hold one connection (and one slot of the site's concurrency
    limit) for all of a host's steps.
    """

    def __init__(
        self,
        host: Host,
        *,
        options: DriverOptions | None = None,
        limits: SiteLimits | None = None,
        run_tag: str = "adhoc",
        poll_interval: float = 5.0,
    ) -> None:
        self.host = host
        self.options = options or DriverOptions()
        self.limits = limits
        self.run_tag = run_tag
        self.poll_interval = poll_interval
        self._transport: Transport | None = None
        self._driver: Driver | None = None
        self._slot: asyncio.Semaphore | None = None
        self._boot_before: str | None = None

    @abstractmethod
    async def _open(self) -> Transport: ...

    @abstractmethod
    async def _close(self) -> None: ...

    async def __aenter__(self) -> Self:
        if self.limits is not None:
            slot = self.limits.semaphore(self.host.tenant, self.host.site)
            await slot.acquire()
            self._slot = slot
        try:
            await self.transport()
        except BaseException:
            self._release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._disconnect()
        finally:
            self._release()

    def _release(self) -> None:
        if self._slot is not None:
            self._slot.release()
            self._slot = None

    async def _disconnect(self) -> None:
        if self._transport is not None:
            self._transport = None
            await self._close()

    async def transport(self) -> Transport:
        if self._transport is None:
            self._transport = await self._open()
        return self._transport

    async def driver(self) -> Driver:
        transport = await self.transport()
        if self._driver is None:
            manager = self.options.manager
            family = self.host.os_family
            if manager is None:
                family = (await self._raw_facts(transport)).os_family
                manager = manager_for(family)
            driver = DRIVERS[manager](transport, self.options, where=self.host.key)
            if isinstance(driver, NoopDriver):
                driver.os_family = self.host.os_family
            elif family is not OsFamily.UNKNOWN:
                driver.vendor = family.value  # type: ignore[attr-defined]
            self._driver = driver
        self._driver.transport = transport  # a reconnect after a reboot gives a new transport
        return self._driver

    async def _raw_facts(self, transport: Transport) -> HostFacts:
        res = await transport.run(
            ["sh", "-c", FACTS_SCRIPT, "patchwave-facts", self.options.boot_id_path,
             self.options.root or "/"],
            timeout=self.options.command_timeout,
        )  # fmt: skip
        res.check(f"reading facts on {self.host.key}")
        return parse_facts(res.stdout)

    async def facts(self) -> HostFacts:
        return await (await self.driver()).facts()

    async def scan(self) -> ScanResult:
        driver = await self.driver()
        facts = await driver.facts()
        missing = await driver.scan()
        return ScanResult(
            facts=facts,
            missing=tuple(missing),
            scanned_at=datetime.now(UTC),
            reboot_pending=facts.reboot_pending,
        )

    async def _checks(self, checks: Sequence[str]) -> CheckResult:
        failures: dict[str, str] = {}
        facts: HostFacts | None = None
        transport = await self.transport()
        for check in checks:
            disk = _FREE_DISK.fullmatch(check)
            if disk or check == "no-pending-reboot":
                facts = facts or await self.facts()
            if disk:
                need = int(disk.group(1)) * 1024
                if facts is None or facts.free_disk_mb is None:
                    failures[check] = "free disk space is unknown"
                elif facts.free_disk_mb < need:
                    failures[check] = f"{facts.free_disk_mb} MB free, need {need} MB"
            elif check == "no-pending-reboot":
                if facts is not None and facts.reboot_pending:
                    failures[check] = "a reboot is pending"
            elif check == "ping":
                res = await transport.run(["true"], timeout=self.options.command_timeout)
                if not res.ok:
                    failures[check] = res.error_tail()
            elif check == "services-up":
                res = await transport.run(
                    ["systemctl", "list-units", "--state=failed", "--no-legend", "--plain"],
                    timeout=self.options.command_timeout,
                )
                units = [line.split()[0] for line in res.stdout.splitlines() if line.split()]
                if not res.ok:
                    failures[check] = f"systemctl failed: {res.error_tail(200)}"
                elif units:
                    failures[check] = "failed units: " + ", ".join(units[:10])
            else:
                failures[check] = f"unknown check {check!r} for a Linux host"
        return CheckResult(ok=not failures, failures=failures)

    async def precheck(self, checks: Sequence[str]) -> CheckResult:
        return await self._checks(checks)

    async def postcheck(self, checks: Sequence[str]) -> CheckResult:
        return await self._checks(checks)

    async def snapshot(self, hook: str | None) -> str | None:
        if hook is None:
            return None
        # zypper takes its own snapper pair around each install; other hooks are not ours to run.
        raise PatchFailed(
            f"snapshot hook {hook!r} is not available on Linux endpoint {self.host.key}; "
            "remove it from the campaign or run it before the deploy step"
        )

    async def install(self, patches: Sequence[Advisory]) -> InstallResult:
        driver = await self.driver()
        fixes = fixes_of(driver.scheme, patches)
        folder = manifest_dir(self.options.state_dir, patches, self.run_tag)
        manifest = await driver.read_manifest(folder)
        if manifest is None:
            # First attempt: remember (and for apt keep) what is installed now. A retry keeps the
            # first record, which still describes the host before patchwave touched it.
            manifest = await driver.capture_rollback(folder, fixes)
            await driver.write_manifest(folder, manifest)
        log = await driver.install(patches)
        updated = await driver.after_install(folder, manifest)
        if updated != manifest:
            await driver.write_manifest(folder, updated)
        installed = await driver.installed_versions([f.name for f in fixes])
        missing, _ = still_missing(driver.scheme, patches, installed)
        applied = tuple(a.id for a in patches if a.id not in missing)
        vendor_reboot = any(a.reboot_required for a in patches if a.id in applied)
        reboot = await driver.reboot_required() or vendor_reboot
        if reboot:
            log = "\n".join(filter(None, [log, await driver.reboot_details()]))
        return InstallResult(installed=applied, reboot_required=reboot, log=log)

    async def reboot(self) -> None:
        driver = await self.driver()
        self._boot_before = (await driver.facts()).boot_id
        # The connection usually goes down with the host: that is the expected outcome.
        with contextlib.suppress(HostUnreachable, TransientEndpointError):
            await driver.reboot()
        await self._disconnect()

    async def wait_for_return(self, timeout: float) -> HostFacts:
        deadline = time.monotonic() + timeout
        last_error = "boot id unchanged"
        while True:
            try:
                facts = await self.facts()
                if self._boot_before is None or facts.boot_id != self._boot_before:
                    self._boot_before = None
                    return facts
            except (HostUnreachable, TransientEndpointError) as exc:
                last_error = str(exc)
                await self._disconnect()
            if time.monotonic() >= deadline:
                raise HostUnreachable(
                    f"{self.host.key} did not come back within {timeout:g}s: {last_error}"
                )
            await asyncio.sleep(self.poll_interval)

    async def verify(self, patches: Sequence[Advisory]) -> VerifyResult:
        driver = await self.driver()
        fixes = fixes_of(driver.scheme, patches)
        installed = await driver.installed_versions([f.name for f in fixes])
        missing, details = still_missing(driver.scheme, patches, installed)
        return VerifyResult(
            ok=not missing, still_missing=tuple(missing), details="\n".join(details)
        )

    async def rollback(
        self, patches: Sequence[Advisory], snapshot_id: str | None
    ) -> RollbackResult:
        driver = await self.driver()
        folder = manifest_dir(self.options.state_dir, patches, self.run_tag)
        manifest = await driver.read_manifest(folder)
        if manifest is None:
            return RollbackResult(
                ok=False, details=f"no rollback record in {folder}: patchwave installed nothing"
            )
        try:
            log = await driver.rollback_to(folder, manifest)
        except PatchFailed as exc:
            return RollbackResult(ok=False, details=str(exc))
        previous: dict[str, str | None] = dict(manifest["previous"])
        now = await driver.installed_versions(sorted(previous))
        wrong = [
            f"{name}: {now.get(name) or 'none'} instead of {old}"
            for name, old in sorted(previous.items())
            if old and (now.get(name) is None
                        or compare_versions(driver.scheme, now[name] or "", old) != 0)
        ]  # fmt: skip
        bad_names = {line.split(":")[0] for line in wrong}
        reverted = tuple(a.id for a in patches if not any(f.name in bad_names for f in a.packages))
        details = "\n".join(wrong) if wrong else log[-2000:]
        return RollbackResult(ok=not wrong, reverted=reverted, details=details)
