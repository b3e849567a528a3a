"""apt/dpkg driver (Debian, Ubuntu).

Scan reads ``apt-get -s dist-upgrade`` (the simulation lists every upgradable package with its
origin, which tells security updates apart); install pins ``name=version``; rollback reinstalls the
previous ``.deb`` files, copied from apt's cache or downloaded before the upgrade into a per-run
folder on the host.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from patchwave.domain.models import Advisory, Classification, PackageFix
from patchwave.endpoints.drivers.base import (
    Driver,
    package_advisory_id,
    validate_name,
    validate_path,
)
from patchwave.errors import ParseError, PatchFailed, TransientEndpointError

_INST = re.compile(r"Inst (\S+) \[([^\]\s]+)\] \((\S+) (.*?) ?\[([^\]\s]+)\]\)")
_SUMMARY = re.compile(r"^\d+ upgraded, \d+ newly installed", re.MULTILINE)
_APT_CACHE = "/var/cache/apt/archives"

# Download the previous .deb unless apt's cache still has it; one round trip per package.
_KEEP_DEB_SCRIPT = (
    'cd -- "$1" || exit 1; f=$2; shift 2; '
    f'if [ -f "{_APT_CACHE}/$f" ]; then cp -- "{_APT_CACHE}/$f" .; else "$@" >&2; fi; '
    'test -f "$f"'
)


@dataclass(frozen=True, slots=True)
class AptUpgrade:
    name: str
    installed: str
    candidate: str
    origins: tuple[str, ...]
    arch: str

    @property
    def security(self) -> bool:
        return any("security" in origin.lower() for origin in self.origins)


def parse_apt_simulation(text: str) -> list[AptUpgrade]:
    """Upgrades from ``apt-get -s dist-upgrade``. New installs (dependencies) and removals are not
    upgrades and are skipped; a simulation without apt's summary line is not apt output."""
    if not _SUMMARY.search(text):
        raise ParseError("apt simulation output has no summary line")
    upgrades: list[AptUpgrade] = []
    for line in text.splitlines():
        if not line.startswith("Inst "):
            continue
        match = _INST.match(line)
        if match is None:
            if re.match(r"Inst \S+ \(", line):  # a new package pulled in as a dependency
                continue
            raise ParseError(f"unexpected apt line: {line[:120]!r}")
        name, old, new, origin_text, arch = match.groups()
        origins = tuple(o.strip() for o in origin_text.split(",") if o.strip())
        upgrades.append(AptUpgrade(name, old, new, origins, arch))
    return upgrades


def parse_dpkg_query(text: str) -> dict[str, tuple[str, str]]:
    """``Package<TAB>Version<TAB>Architecture<TAB>Status-Abbrev`` lines: installed packages only."""
    found: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4 or not fields[0] or not fields[1]:
            raise ParseError(f"unexpected dpkg-query line: {line[:120]!r}")
        name, version, arch, status = fields
        if status.startswith("ii") or status.startswith("hi"):
            found[name] = (version, arch)
    return found


def deb_filename(name: str, version: str, arch: str) -> str:
    """The file name apt gives a downloaded package (the epoch colon is URL-encoded)."""
    return f"{name.split(':', maxsplit=1)[0]}_{version.replace(':', '%3a')}_{arch}.deb"


class AptDriver(Driver):
    name = "apt"
    scheme = "deb"
    self_packages = frozenset({"apt", "libapt-pkg6.0", "dpkg"})
    vendor = "debian"

    def apt_options(self) -> list[str]:
        opts = ["-o", "DPkg::Lock::Timeout=120"]
        if self.options.apt_sources_list:
            opts += ["-o", f"Dir::Etc::sourcelist={validate_path(self.options.apt_sources_list)}"]
            opts += ["-o", "Dir::Etc::sourceparts=-"]
        if self.options.apt_lists_dir:
            opts += ["-o", f"Dir::State::Lists={validate_path(self.options.apt_lists_dir)}"]
        if self.options.apt_sources_list or self.options.apt_lists_dir:
            # With a restricted source list apt would otherwise delete the machine's other lists
            # and overwrite its binary caches with ones built from that list: keep both intact.
            opts += ["-o", "APT::Get::List-Cleanup=0"]
            opts += ["-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache="]
        return opts

    def apt_get(self, *args: str) -> list[str]:
        return self.cmd("DEBIAN_FRONTEND=noninteractive", "apt-get", *self.apt_options(), *args)

    async def scan(self) -> list[Advisory]:
        if self.options.refresh:
            res = await self.run(self.apt_get("-q", "update"), sudo=True)
            _raise_if_locked(res.stderr, self.where)
            res.check(f"apt-get update on {self.where}")
        res = await self.run(self.apt_get("-s", "-q", "dist-upgrade"), sudo=True)
        _raise_if_locked(res.stderr, self.where)
        res.check(f"apt-get -s dist-upgrade on {self.where}")
        return [self._advisory(up) for up in parse_apt_simulation(res.stdout)]

    def _advisory(self, up: AptUpgrade) -> Advisory:
        return Advisory(
            id=package_advisory_id("deb", up.name, up.candidate),
            vendor=self.vendor,
            title=f"{up.name} {up.installed} -> {up.candidate}",
            classification=Classification.SECURITY if up.security else Classification.BUGFIX,
            packages=(PackageFix(up.name, up.candidate, up.installed),),
            product=up.name,
        )

    async def _query(self, names: Sequence[str]) -> dict[str, tuple[str, str]]:
        for name in names:
            validate_name("deb", name)
        fmt = "${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"
        res = await self.run(self.cmd("dpkg-query", "-W", f"-f={fmt}", "--", *names))
        if res.exit_code not in (0, 1):  # 1: some names are not installed
            res.check(f"dpkg-query on {self.where}")
        return parse_dpkg_query(res.stdout)

    async def installed_versions(self, names: Sequence[str]) -> dict[str, str | None]:
        found = await self._query(names)
        out: dict[str, str | None] = {}
        for name in names:
            hit = found.get(name) or found.get(name.split(":")[0])
            out[name] = hit[0] if hit else None
        return out

    async def install_fixes(self, fixes: Sequence[PackageFix]) -> str:
        pins = [f"{f.name}={f.fixed_version}" for f in fixes]
        argv = self.apt_get(
            "-y", "-q", "--only-upgrade", "--no-install-recommends",
            "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
            "install", "--", *pins,
        )  # fmt: skip
        res = await self.run(argv, sudo=True, timeout=self.options.install_timeout)
        _raise_if_locked(res.stderr, self.where)
        res.check(f"apt-get install on {self.where}")
        return res.stdout[-4000:]

    async def reboot_required(self) -> bool:
        res = await self.run(["test", "-e", validate_path(self.options.reboot_required_file)])
        return res.exit_code == 0

    async def reboot_details(self) -> str:
        path = validate_path(f"{self.options.reboot_required_file}.pkgs")
        res = await self.run(["cat", "--", path])
        names = sorted(set(res.stdout.split())) if res.ok else []
        return f"reboot required by: {', '.join(names)}" if names else ""

    async def capture_rollback(self, folder: str, fixes: Sequence[PackageFix]) -> dict[str, Any]:
        found = await self._query([f.name for f in fixes])
        previous: dict[str, str | None] = {}
        files: dict[str, str] = {}
        unavailable: list[str] = []
        mkdir = await self.run(["mkdir", "-p", "--", validate_path(folder)], sudo=True)
        mkdir.check(f"creating {folder} on {self.where}")
        for fix in fixes:
            hit = found.get(fix.name) or found.get(fix.name.split(":")[0])
            previous[fix.name] = hit[0] if hit else None
            if hit is None:
                continue
            version, arch = hit
            filename = deb_filename(fix.name, version, arch)
            spec = f"{fix.name.split(':')[0]}:{arch}={version}"
            argv = ["sh", "-c", _KEEP_DEB_SCRIPT, "patchwave-keep", folder, filename,
                    *self.apt_get("-q", "download", "--", spec)]  # fmt: skip
            res = await self.run(argv, sudo=True)
            if res.ok:
                files[fix.name] = f"{folder}/{filename}"
            else:
                unavailable.append(fix.name)
        return {"manager": self.name, "previous": previous, "files": files,
                "unavailable": unavailable}  # fmt: skip

    async def rollback_to(self, folder: str, manifest: dict[str, Any]) -> str:
        files = [validate_path(str(path)) for path in dict(manifest.get("files", {})).values()]
        if not files:
            raise PatchFailed(
                f"no previous packages were kept in {folder} on {self.where}; cannot roll back"
            )
        argv = self.cmd("DEBIAN_FRONTEND=noninteractive", "dpkg", "--force-confold", "-i", *files)
        res = await self.run(argv, sudo=True, timeout=self.options.install_timeout)
        _raise_if_locked(res.stderr, self.where)
        res.check(f"dpkg -i of the kept packages on {self.where}")
        missing = manifest.get("unavailable") or []
        note = (
            f"\nnot rolled back (old package unavailable): {', '.join(missing)}" if missing else ""
        )
        return res.stdout[-4000:] + note


def _raise_if_locked(stderr: str, where: str) -> None:
    if "Could not get lock" in stderr or "is locked by another process" in stderr:
        raise TransientEndpointError(f"{where}: the dpkg lock is held by another process")
