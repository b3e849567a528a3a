"""A driver whose every command is ``true``: the orchestration overhead of a real transport with
no package manager work (the 1,000-host local benchmark, settings ``noop_driver``).

Each endpoint step (scan, install, verify, rollback) runs exactly one ``true``, like the three
no-op commands per host other tools are measured with. Scan always reports one synthetic
advisory so a campaign has something to install; install and verify succeed. Facts come from the
inventory without a command. No state is kept on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from patchwave.domain.models import Advisory, Classification, OsFamily, PackageFix
from patchwave.endpoints.base import HostFacts
from patchwave.endpoints.drivers.base import Driver

NOOP_ADVISORY = Advisory(
    id="noop:patchwave-noop=1",
    vendor="patchwave",
    title="patchwave no-op update",
    classification=Classification.SECURITY,
    packages=(PackageFix("patchwave-noop", "1", "0"),),
    product="patchwave-noop",
)


class NoopDriver(Driver):
    name = "noop"
    scheme = "deb"
    os_family: OsFamily = OsFamily.UNKNOWN

    async def _true(self) -> None:
        (await self.run(["true"])).check(f"true on {self.where}")

    async def facts(self) -> HostFacts:
        return HostFacts(os_family=self.os_family, os_name="noop", os_version="", boot_id="noop")

    async def scan(self) -> list[Advisory]:
        await self._true()
        return [NOOP_ADVISORY]

    async def installed_versions(self, names: Sequence[str]) -> dict[str, str | None]:
        await self._true()
        return {name: "1" for name in names}

    async def install(self, advisories: Sequence[Advisory]) -> str:
        # The endpoint's post-install version check is this step's one `true`.
        return ""

    async def install_fixes(self, fixes: Sequence[PackageFix]) -> str:
        await self._true()
        return ""

    async def reboot_required(self) -> bool:
        return False

    async def capture_rollback(self, folder: str, fixes: Sequence[PackageFix]) -> dict[str, Any]:
        return {"manager": self.name, "previous": {}}

    async def write_manifest(self, folder: str, manifest: Any) -> None:
        return None

    async def read_manifest(self, folder: str) -> dict[str, Any] | None:
        return {"manager": self.name, "previous": {}}

    async def rollback_to(self, folder: str, manifest: dict[str, Any]) -> str:
        return ""  # the endpoint's version check after a rollback runs this step's `true`

    async def reboot(self) -> None:
        await self._true()
