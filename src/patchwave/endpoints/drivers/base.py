"""What every package-manager driver shares: options, argument validation, facts, install order,
rollback manifests kept on the host, and the ``Driver`` base class.

A driver speaks to one host through a ``Transport`` and never builds shell strings from data:
package names, versions and advisory ids are checked against strict patterns and passed as
separate arguments (the SSH transport quotes each one with ``shlex.join``).
"""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Literal

from patchwave.domain.models import Advisory, OsFamily, PackageFix, parse_os_family
from patchwave.endpoints.base import HostFacts
from patchwave.endpoints.drivers.versions import Scheme, at_least, compare_versions
from patchwave.endpoints.transport import DEFAULT_MAX_OUTPUT, CommandResult, Transport
from patchwave.errors import ParseError, PatchFailed, UserError

ManagerName = Literal["apt", "dnf", "zypper", "noop"]


class UnsafeArgument(PatchFailed):
    """A package name, version or advisory id that does not match its strict pattern."""


@dataclass(frozen=True, slots=True)
class DriverOptions:
    """How a driver talks to a host's package manager. Defaults suit a real host; tests and
    unusual hosts point the managers elsewhere with the path options (never by editing commands).
    """

    manager: ManagerName | None = None  # None: chosen from /etc/os-release
    refresh: bool = True  # refresh repository metadata before a scan
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. {"HOME": ...} for Debian's rpm
    apt_sources_list: str | None = None  # only this sources file (sourceparts disabled)
    apt_lists_dir: str | None = None  # private Dir::State::Lists for that sources file
    root: str | None = None  # dnf --installroot / zypper --root / rpm --root
    reposdir: str | None = None  # dnf --setopt=reposdir=
    releasever: str | None = None  # dnf --releasever=
    dnf_plugins: bool = True  # False: --noplugins (some plugins ignore --installroot)
    dnf_pluginpath: str | None = None  # --setopt=pluginpath= (only the plugins found there)
    no_gpg_checks: bool = False  # only for local test repositories
    state_dir: str = "/var/lib/patchwave"  # on the host: rollback manifests and kept packages
    reboot_required_file: str = "/var/run/reboot-required"
    boot_id_path: str = "/proc/sys/kernel/random/boot_id"
    # Tests replace this with a harmless command so no suite ever reboots the machine it runs on.
    reboot_command: tuple[str, ...] = ("systemctl", "reboot")
    command_timeout: float = 300.0
    install_timeout: float = 3600.0
    max_output: int = DEFAULT_MAX_OUTPUT

    def __post_init__(self) -> None:
        for key in self.env:
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
                raise ValueError(f"bad environment variable name in driver options: {key!r}")
        if not self.reboot_command:
            raise ValueError("reboot_command must not be empty")


def driver_options_from_mapping(
    data: Mapping[str, Any], *, where: str = "driver options"
) -> DriverOptions:
    """Build options from configuration data (YAML/JSON), naming any unknown or bad field."""
    known = {f.name for f in fields(DriverOptions)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {sorted(known)}")
    values = dict(data)
    if "reboot_command" in values:
        values["reboot_command"] = tuple(values["reboot_command"])
    try:
        return DriverOptions(**values)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{where}: {exc}") from exc


_DEB_NAME = re.compile(r"[a-z0-9][a-z0-9+.\-]{0,127}(:[a-z0-9][a-z0-9\-]{0,31})?")
_DEB_VERSION = re.compile(r"([0-9]{1,9}:)?[0-9A-Za-z][0-9A-Za-z.+~\-]{0,127}")
_RPM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+\-]{0,199}")
_RPM_EVR = re.compile(
    r"([0-9]{1,9}:)?[0-9A-Za-z][0-9A-Za-z._+~^]{0,127}(-[0-9A-Za-z._+~^]{1,127})?"
)
_ADVISORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=\-~^]{0,199}")
_PATHLIKE = re.compile(r"/[A-Za-z0-9._/+\-]{0,255}")


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or value.startswith("-") or not pattern.fullmatch(value):
        raise UnsafeArgument(f"refusing {what} {value!r}: it does not match {pattern.pattern}")
    return value


def validate_name(scheme: Scheme, name: str) -> str:
    return _check(_DEB_NAME if scheme == "deb" else _RPM_NAME, name, "package name")


def validate_version(scheme: Scheme, version: str) -> str:
    return _check(_DEB_VERSION if scheme == "deb" else _RPM_EVR, version, "package version")


def validate_advisory_id(advisory_id: str) -> str:
    return _check(_ADVISORY, advisory_id, "advisory id")


def validate_path(path: str) -> str:
    return _check(_PATHLIKE, path, "path")


def package_advisory_id(scheme: Scheme, name: str, version: str) -> str:
    """The id of a plain package update with no vendor advisory: ``deb:openssl=3.0.15-1``."""
    return f"{scheme}:{name}={version}"


def fixes_of(scheme: Scheme, advisories: Sequence[Advisory]) -> list[PackageFix]:
    """The packages to install for these advisories: one per name, the highest target version,
    every name and version validated."""
    best: dict[str, PackageFix] = {}
    for adv in advisories:
        validate_advisory_id(adv.id)
        if not adv.packages:
            raise PatchFailed(f"advisory {adv.id} names no package to install")
        for fix in adv.packages:
            validate_name(scheme, fix.name)
            validate_version(scheme, fix.fixed_version)
            old = best.get(fix.name)
            if old is None or compare_versions(scheme, fix.fixed_version, old.fixed_version) > 0:
                best[fix.name] = fix
    return [best[name] for name in sorted(best)]


def still_missing(
    scheme: Scheme, advisories: Sequence[Advisory], installed: Mapping[str, str | None]
) -> tuple[list[str], list[str]]:
    """Advisory ids not applied (some package below its target) and a line per missing package."""
    missing: list[str] = []
    details: list[str] = []
    for adv in advisories:
        ok = True
        for fix in adv.packages:
            have = installed.get(fix.name)
            if have is None or not at_least(scheme, have, fix.fixed_version):
                ok = False
                details.append(f"{fix.name}: installed {have or 'none'}, need {fix.fixed_version}")
        if not ok:
            missing.append(adv.id)
    return missing, details


# One round trip for every fact: os-release, kernel, boot id, free disk on the root file system.
FACTS_SCRIPT = (
    'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; echo "@@pw@@"; uname -r; '
    'echo "@@pw@@"; cat -- "$1"; echo "@@pw@@"; df -Pk -- "$2" | tail -n 1'
)


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines (values optionally quoted) into a dict."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def os_family_of(release: Mapping[str, str]) -> OsFamily:
    """The family from ``ID`` first, then each ``ID_LIKE`` entry."""
    for candidate in [release.get("ID", ""), *release.get("ID_LIKE", "").split()]:
        family = parse_os_family(candidate)
        if family is not OsFamily.UNKNOWN:
            return family
    return OsFamily.UNKNOWN


def parse_facts(text: str, *, reboot_pending: bool = False) -> HostFacts:
    parts = text.split("@@pw@@\n")
    if len(parts) != 4:
        raise ParseError(f"facts output has {len(parts)} sections instead of 4")
    release = parse_os_release(parts[0])
    if "ID" not in release:
        raise ParseError("os-release has no ID")
    kernel = parts[1].strip()
    boot_id = parts[2].strip()
    if not kernel or not boot_id or any(ch.isspace() for ch in boot_id):
        raise ParseError("facts output lacks a kernel release or a boot id")
    free_mb: int | None = None
    columns = parts[3].split()
    if len(columns) >= 4 and columns[3].isdigit():
        free_mb = int(columns[3]) // 1024
    return HostFacts(
        os_family=os_family_of(release),
        os_name=release.get("NAME", release["ID"]),
        os_version=release.get("VERSION_ID", ""),
        kernel=kernel,
        boot_id=boot_id,
        free_disk_mb=free_mb,
        reboot_pending=reboot_pending,
    )


def manifest_dir(state_dir: str, advisories: Iterable[Advisory], tag: str) -> str:
    """The host folder holding what a rollback of these advisories needs. Derived from the ids, so
    a later process (a resumed campaign) finds it again without any local state."""
    digest = hashlib.sha256("\n".join(sorted(a.id for a in advisories)).encode()).hexdigest()
    safe_tag = re.sub(r"[^A-Za-z0-9._-]", "_", tag)[:64] or "adhoc"
    return f"{state_dir.rstrip('/')}/rollback/{safe_tag}-{digest[:16]}"


class Driver(ABC):
    """One package manager on one host."""

    name: ClassVar[str]
    scheme: ClassVar[Scheme]
    # The manager's own packages: updated in a transaction of their own, before the rest.
    self_packages: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, transport: Transport, options: DriverOptions, *, where: str) -> None:
        self.transport = transport
        self.options = options
        self.where = where

    def cmd(self, *argv: str) -> list[str]:
        """A command under the C locale (parsers read English) plus the configured environment."""
        env = [f"{k}={v}" for k, v in sorted(self.options.env.items())]
        return ["env", "LC_ALL=C", *env, *argv]

    async def run(
        self,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        timeout: float | None = None,
        input: bytes | None = None,
    ) -> CommandResult:
        return await self.transport.run(
            argv,
            timeout=timeout or self.options.command_timeout,
            max_output=self.options.max_output,
            sudo=sudo,
            input=input,
        )

    async def facts(self) -> HostFacts:
        res = await self.run(
            [
                "sh",
                "-c",
                FACTS_SCRIPT,
                "patchwave-facts",
                self.options.boot_id_path,
                self.options.root or "/",
            ]
        )
        res.check(f"reading facts on {self.where}")
        facts = parse_facts(res.stdout)
        pending = await self.reboot_required()
        return replace(facts, reboot_pending=pending)

    @abstractmethod
    async def scan(self) -> list[Advisory]: ...

    @abstractmethod
    async def installed_versions(self, names: Sequence[str]) -> dict[str, str | None]: ...

    @abstractmethod
    async def install_fixes(self, fixes: Sequence[PackageFix]) -> str: ...

    @abstractmethod
    async def reboot_required(self) -> bool: ...

    async def reboot_details(self) -> str:
        """Why a reboot is needed, when the manager says (apt: reboot-required.pkgs)."""
        return ""

    async def install(self, advisories: Sequence[Advisory]) -> str:
        """Install exactly these advisories' packages at their target versions; the package
        manager's own packages go first, in their own transaction."""
        fixes = fixes_of(self.scheme, advisories)
        own = [f for f in fixes if f.name.split(":")[0] in self.self_packages]
        rest = [f for f in fixes if f not in own]
        logs = []
        for batch in (own, rest):
            if batch:
                logs.append(await self.install_fixes(batch))
        return "\n".join(logs)

    async def capture_rollback(self, folder: str, fixes: Sequence[PackageFix]) -> dict[str, Any]:
        """Record (and for apt, keep the packages of) what is installed now. Drivers extend it."""
        names = [f.name for f in fixes]
        return {"manager": self.name, "previous": await self.installed_versions(names)}

    async def after_install(self, folder: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """Add what the install taught us (dnf: the transaction id) to the manifest."""
        return manifest

    @abstractmethod
    async def rollback_to(self, folder: str, manifest: dict[str, Any]) -> str: ...

    async def read_manifest(self, folder: str) -> dict[str, Any] | None:
        res = await self.run(["cat", "--", f"{folder}/manifest.json"], sudo=True)
        if res.exit_code != 0:
            return None
        try:
            data = json.loads(res.stdout)
        except ValueError as exc:
            raise ParseError(f"rollback manifest in {folder} on {self.where} is corrupt") from exc
        if not isinstance(data, dict) or not isinstance(data.get("previous"), dict):
            raise ParseError(f"rollback manifest in {folder} on {self.where} has no 'previous'")
        return data

    async def write_manifest(self, folder: str, manifest: Mapping[str, Any]) -> None:
        validate_path(folder)
        script = (
            'mkdir -p -- "$1" && cat > "$1/manifest.json.tmp" '
            '&& mv -- "$1/manifest.json.tmp" "$1/manifest.json"'
        )
        res = await self.run(
            ["sh", "-c", script, "patchwave-manifest", folder],
            sudo=True,
            input=json.dumps(manifest, sort_keys=True).encode(),
        )
        res.check(f"writing the rollback manifest on {self.where}")

    async def reboot(self) -> None:
        # The connection usually drops while this runs: the caller treats that as success.
        await self.run(list(self.options.reboot_command), sudo=True, timeout=30)
