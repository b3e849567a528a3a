"""zypper driver (SLES, openSUSE).

Scan reads ``--xmlout list-updates`` (package candidates) and ``--xmlout list-patches``
(patches with category, severity, restart flag and CVE issues); the packages a patch fixes come
from the ``Conflicts`` of ``info -t patch``. Rollback uses the snapper pre/post pair taken around
the install when snapper is there, else ``install --oldpackage`` to the recorded versions.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from patchwave.domain.models import Advisory, PackageFix, parse_severity
from patchwave.endpoints.drivers.base import (
    Driver,
    validate_advisory_id,
    validate_name,
    validate_path,
)
from patchwave.endpoints.drivers.rpmcommon import (
    RPM_QUERY_FORMAT,
    VendorAdvisory,
    build_advisories,
    parse_rpm_query,
)
from patchwave.errors import ParseError, PatchFailed, TransientEndpointError

ZYPPER_LOCKED = 7
# 102: reboot needed, 103: zypper updated itself, 106: some repositories were skipped.
_INSTALL_OK = (0, 102, 103, 106)
_ARCHES = {"noarch", "x86_64", "i586", "i686", "aarch64", "ppc64le", "s390x", "armv7hl", "src"}
_CONFLICT = re.compile(r"^\s*(\S+)\s*<\s*(\S+)\s*$")


def _stream(text: str) -> ET.Element:
    start = text.find("<")
    if start < 0:
        raise ParseError("zypper printed no XML")
    try:
        root = ET.fromstring(text[start:])
    except ET.ParseError as exc:
        raise ParseError(f"zypper XML is malformed: {exc}") from exc
    if root.tag != "stream":
        raise ParseError(f"zypper XML root is <{root.tag}>, not <stream>")
    return root


def parse_list_updates(text: str) -> dict[str, tuple[str, str]]:
    """``--xmlout list-updates``: name -> (installed edition, candidate edition)."""
    out: dict[str, tuple[str, str]] = {}
    for upd in _stream(text).iter("update"):
        if upd.get("kind", "package") != "package":
            continue
        name, edition = upd.get("name"), upd.get("edition")
        if not name or not edition:
            raise ParseError("zypper update without a name or edition")
        out[name] = (upd.get("edition-old", ""), edition)
    return out


def parse_list_patches(text: str) -> list[VendorAdvisory]:
    """``--xmlout list-patches``: the needed patches, without their packages (see patch info)."""
    out: list[VendorAdvisory] = []
    for upd in _stream(text).iter("update"):
        if upd.get("kind") != "patch":
            continue
        name = upd.get("name")
        if not name:
            raise ParseError("zypper patch without a name")
        if upd.get("status", "needed") not in ("needed", "unwanted"):
            continue
        cves = [i.get("id", "") for i in upd.iter("issue") if i.get("type") == "cve"]
        summary = upd.findtext("summary") or name
        out.append(
            VendorAdvisory(
                id=name,
                kind=upd.get("category", ""),
                severity=parse_severity(upd.get("severity")),
                title=summary.strip(),
                cves=[c for c in cves if c],
                reboot=upd.get("restart") == "true",
            )
        )
    return out


def _strip_arch(name: str) -> str:
    base, dot, arch = name.rpartition(".")
    return base if dot and arch in _ARCHES else name


def parse_patch_info(text: str) -> dict[str, dict[str, str]]:
    """``zypper info -t patch ...`` text: patch name -> {package: fixed edition} from Conflicts."""
    out: dict[str, dict[str, str]] = {}
    current: str | None = None
    in_conflicts = False
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith(" ") and key.strip():
            in_conflicts = False
            key, value = key.strip(), value.strip()
            if key == "Name":
                current = value
                out.setdefault(current, {})
            elif key == "Conflicts" and current is not None:
                in_conflicts = True
                if not re.fullmatch(r"\[\d+\]", value):
                    _add_conflict(out[current], value)
            continue
        if in_conflicts and current is not None and line.strip():
            _add_conflict(out[current], line)
    return out


def _add_conflict(target: dict[str, str], text: str) -> None:
    match = _CONFLICT.match(text)
    if match is None or ":" in match.group(1):  # srcpackage:... and similar are not packages
        return
    target[_strip_arch(match.group(1))] = match.group(2)


class ZypperDriver(Driver):
    name = "zypper"
    scheme = "rpm"
    self_packages = frozenset({"zypper", "libzypp", "libsolv-tools", "rpm"})
    vendor = "suse"

    def zypper(self, *args: str, xml: bool = False) -> list[str]:
        opts = ["--non-interactive"]
        if xml:
            opts.append("--xmlout")
        if self.options.root:
            opts += ["--root", validate_path(self.options.root)]
        if self.options.no_gpg_checks:
            opts.append("--no-gpg-checks")
        return self.cmd("zypper", *opts, *args)

    def rpm(self, *args: str) -> list[str]:
        root = ["--root", validate_path(self.options.root)] if self.options.root else []
        return self.cmd("rpm", *root, *args)

    async def _zypper(self, *args: str, xml: bool = False, accept: Sequence[int] = (0,),
                      timeout: float | None = None) -> str:  # fmt: skip
        res = await self.run(self.zypper(*args, xml=xml), sudo=True, timeout=timeout)
        if res.exit_code == ZYPPER_LOCKED:
            raise TransientEndpointError(f"{self.where}: zypper is locked by another process")
        res.check(f"zypper {args[0]} on {self.where}", accept=accept)
        return res.stdout

    async def scan(self) -> list[Advisory]:
        if self.options.refresh:
            await self._zypper("refresh", accept=(0, 106))
        updates = parse_list_updates(await self._zypper("list-updates", xml=True))
        patches = parse_list_patches(await self._zypper("list-patches", xml=True))
        if patches:
            ids = [validate_advisory_id(p.id) for p in patches]
            info = parse_patch_info(await self._zypper("info", "-t", "patch", "--", *ids))
            for patch in patches:
                patch.packages = info.get(patch.id, {})
        return build_advisories(vendor=self.vendor, updates=updates, vendor_advisories=patches)

    async def installed_versions(self, names: Sequence[str]) -> dict[str, str | None]:
        for name in names:
            validate_name("rpm", name)
        res = await self.run(self.rpm("-q", "--qf", RPM_QUERY_FORMAT, "--", *names))
        if res.exit_code < 0 or res.exit_code > len(names):
            res.check(f"rpm -q on {self.where}")
        found = parse_rpm_query(res.stdout)
        return {name: found.get(name) for name in names}

    async def install_fixes(self, fixes: Sequence[PackageFix]) -> str:
        specs = [f"{f.name}={f.fixed_version}" for f in fixes]
        return await self._zypper(
            "install", "--no-recommends", "--", *specs,
            accept=_INSTALL_OK, timeout=self.options.install_timeout,
        )  # fmt: skip

    async def reboot_required(self) -> bool:
        res = await self.run(self.zypper("needs-rebooting"), sudo=True)
        if res.exit_code not in (0, 102):
            res.check(f"zypper needs-rebooting on {self.where}")
        return res.exit_code == 102

    async def _snapper(self) -> bool:
        if self.options.root:  # snapper manages the running system only
            return False
        res = await self.run(["sh", "-c", "command -v snapper"])
        return res.ok

    async def _snapshot(self, kind: str, pre: int | None = None) -> int:
        args = ["snapper", "create", "--type", kind, "--print-number", "--cleanup-algorithm",
                "number", "--description", "patchwave"]  # fmt: skip
        if pre is not None:
            args += ["--pre-number", str(pre)]
        res = await self.run(args, sudo=True)
        res.check(f"snapper create on {self.where}")
        number = res.stdout.strip()
        if not number.isdigit():
            raise ParseError(f"snapper printed {number[:40]!r} instead of a snapshot number")
        return int(number)

    async def capture_rollback(self, folder: str, fixes: Sequence[PackageFix]) -> dict[str, Any]:
        manifest = await super().capture_rollback(folder, fixes)
        if await self._snapper():
            manifest["snapper_pre"] = await self._snapshot("pre")
        return manifest

    async def after_install(self, folder: str, manifest: dict[str, Any]) -> dict[str, Any]:
        pre = manifest.get("snapper_pre")
        if isinstance(pre, int):
            manifest = {**manifest, "snapper_post": await self._snapshot("post", pre)}
        return manifest

    async def rollback_to(self, folder: str, manifest: dict[str, Any]) -> str:
        pre, post = manifest.get("snapper_pre"), manifest.get("snapper_post")
        if isinstance(pre, int) and isinstance(post, int):
            res = await self.run(["snapper", "undochange", f"{pre}..{post}"], sudo=True)
            res.check(f"snapper undochange on {self.where}")
            return res.stdout[-4000:]
        previous = {n: v for n, v in dict(manifest["previous"]).items() if v}
        if not previous:
            raise PatchFailed(f"nothing recorded to roll back to on {self.where}")
        specs = [f"{validate_name('rpm', n)}={v}" for n, v in sorted(previous.items())]
        return await self._zypper(
            "install", "--oldpackage", "--no-recommends", "--", *specs,
            accept=_INSTALL_OK, timeout=self.options.install_timeout,
        )  # fmt: skip
