"""The realistic advisory catalogue of the simulated fleet, built once at import and immutable.

About 300 advisories: Windows cumulative updates (January-August 2025) with out-of-band
releases, .NET, Defender, server products, drivers and firmware; Debian, Ubuntu, Red Hat and
SUSE errata with fixed package versions; third-party applications (browsers, 7-Zip, WinRAR,
Java, Acrobat...). CVE ids are real and many are in CISA KEV; advisory numbers that could not
be checked offline are marked illustrative in the table modules (``_catalogue_*.py``).

Each advisory applies to platforms (an OS family and version, see ``platform_key``) and
optionally only to hosts carrying a role tag (``role:sql`` for SQL Server updates). Rows of one
*line* form a supersedence chain: each supersedes the one released before it. Lookups per
platform are computed once and cached, so ``applicable(host)`` costs a dict hit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

from patchwave.domain.models import Advisory, Host, OsFamily, PackageFix
from patchwave.endpoints import _catalogue_apps, _catalogue_linux, _catalogue_windows
from patchwave.endpoints._catalogue_rows import Row

__all__ = [
    "ADVISORIES",
    "ENTRIES",
    "PLATFORMS",
    "ROLE_TAGS",
    "CatalogueEntry",
    "PlatformInfo",
    "advisories_for_cve",
    "applicable",
    "applicable_to",
    "catalogue_order",
    "entry",
    "get",
    "install_minutes",
    "platform_key",
    "supersedes_closure",
    "update_line_positions",
    "update_lines",
]


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    """An OS version the catalogue knows, with what a host of that version reports."""

    key: str  # "windows/server-2022"
    family: OsFamily
    version: str  # how inventories usually write it: "Server 2022", "12", "9.4", "15 SP6"
    os_name: str
    kernel: str


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    advisory: Advisory
    platforms: frozenset[str]
    line: str | None  # supersedence chain this advisory belongs to
    install_minutes: float  # typical install time on an average host
    roles: frozenset[str]  # empty: any host of the platforms; else one of these tags


# fmt: off
_W, _D, _U = OsFamily.WINDOWS, OsFamily.DEBIAN, OsFamily.UBUNTU
_R, _S = OsFamily.RHEL, OsFamily.SUSE
PLATFORMS: Mapping[str, PlatformInfo] = MappingProxyType(
    {
        p.key: p
        for p in (
            PlatformInfo("windows/server-2016", _W, "Server 2016",
                         "Microsoft Windows Server 2016 Standard", "10.0.14393"),
            PlatformInfo("windows/server-2019", _W, "Server 2019",
                         "Microsoft Windows Server 2019 Standard", "10.0.17763"),
            PlatformInfo("windows/server-2022", _W, "Server 2022",
                         "Microsoft Windows Server 2022 Datacenter", "10.0.20348"),
            PlatformInfo("windows/server-2025", _W, "Server 2025",
                         "Microsoft Windows Server 2025 Datacenter", "10.0.26100"),
            PlatformInfo("windows/10-22h2", _W, "10 22H2",
                         "Microsoft Windows 10 Enterprise 22H2", "10.0.19045"),
            PlatformInfo("windows/11-23h2", _W, "11 23H2",
                         "Microsoft Windows 11 Pro 23H2", "10.0.22631"),
            PlatformInfo("windows/11-24h2", _W, "11 24H2",
                         "Microsoft Windows 11 Enterprise 24H2", "10.0.26100"),
            PlatformInfo("debian/11", _D, "11", "Debian GNU/Linux 11 (bullseye)",
                         "5.10.0-33-amd64"),
            PlatformInfo("debian/12", _D, "12", "Debian GNU/Linux 12 (bookworm)",
                         "6.1.0-31-amd64"),
            PlatformInfo("ubuntu/22.04", _U, "22.04", "Ubuntu 22.04.5 LTS",
                         "5.15.0-131-generic"),
            PlatformInfo("ubuntu/24.04", _U, "24.04", "Ubuntu 24.04.2 LTS", "6.8.0-53-generic"),
            PlatformInfo("rhel/8", _R, "8.10", "Red Hat Enterprise Linux 8.10 (Ootpa)",
                         "4.18.0-553.30.1.el8_10.x86_64"),
            PlatformInfo("rhel/9", _R, "9.5", "Red Hat Enterprise Linux 9.5 (Plow)",
                         "5.14.0-503.22.1.el9_5.x86_64"),
            PlatformInfo("suse/15-sp5", _S, "15 SP5", "SUSE Linux Enterprise Server 15 SP5",
                         "5.14.21-150500.55.94-default"),
            PlatformInfo("suse/15-sp6", _S, "15 SP6", "SUSE Linux Enterprise Server 15 SP6",
                         "6.4.0-150600.23.33-default"),
        )
    }
)

# fmt: on

ROLE_TAGS = frozenset({"role:sharepoint", "role:sql", "role:exchange"})

# fmt: off
_WINDOWS_BUILDS = {
    "14393": "server-2016", "17763": "server-2019", "20348": "server-2022",
    "19045": "10-22h2", "22631": "11-23h2", "26100": "11-24h2",
}
# fmt: on
_CODENAMES = {"bullseye": "11", "bookworm": "12", "jammy": "22.04", "noble": "24.04"}
_WINDOWS_NOISE = re.compile(
    r"\b(microsoft|windows|version|datacenter|standard|pro|enterprise|education|home|x64|"
    r"edition|ltsc|azure)\b"
)


def _windows_version(v: str) -> str | None:
    v = _WINDOWS_NOISE.sub(" ", v)
    if m := re.search(r"\b10\.0\.(\d{5})", v):
        return _WINDOWS_BUILDS.get(m.group(1))
    if m := re.search(r"\b(2016|2019|2022|2025)\b", v):
        return f"server-{m.group(1)}"
    words = v.replace("-", " ").split()
    if not words:
        return None
    if words[0] == "11":
        release = words[1] if len(words) > 1 else "24h2"
        return f"11-{release}" if release in ("23h2", "24h2") else None
    if words[0] == "10":
        return "10-22h2" if len(words) == 1 or words[1] == "22h2" else None
    return None


@lru_cache(maxsize=4096)
def platform_key(os_family: OsFamily, os_version: str) -> str | None:
    """The catalogue platform of a host ("windows/server-2022", "suse/15-sp6"), or None when
    the catalogue does not model that OS version. Accepts the usual spellings: "Windows Server
    2022 Datacenter", "10.0.20348", "11 24H2", "bookworm", "12.7", "22.04.4 LTS", "Rocky 9.4",
    "15-SP6", "15.6"."""
    v = " ".join(os_version.lower().replace("_", " ").split())
    version: str | None = None
    if os_family is OsFamily.WINDOWS:
        version = _windows_version(v)
    elif os_family in (OsFamily.DEBIAN, OsFamily.RHEL):
        code = next((c for name, c in _CODENAMES.items() if name in v), None)
        m = re.search(r"\d+", v)
        version = code or (m.group(0) if m else None)
    elif os_family is OsFamily.UBUNTU:
        m = re.search(r"\b(\d{2}\.\d{2})", v)
        version = next((c for name, c in _CODENAMES.items() if name in v), None) or (
            m.group(1) if m else None
        )
    elif os_family is OsFamily.SUSE:
        m = re.search(r"\b(\d{2})(?:[ .-]*sp|\.)(\d)\b", v)
        version = f"{m.group(1)}-sp{m.group(2)}" if m else None
    key = f"{os_family.value}/{version}" if version else None
    return key if key in PLATFORMS else None


def _advisory(row: Row, supersedes: tuple[str, ...]) -> Advisory:
    packages = tuple(
        PackageFix(name, version)
        for name, _, version in (spec.partition("=") for spec in row.packages.split())
    )
    return Advisory(
        id=row.id,
        vendor=row.vendor,
        title=row.title,
        classification=row.classification,
        severity=row.severity,
        cves=tuple(row.cves.split()),
        cvss=row.cvss,
        packages=packages,
        released=date.fromisoformat(row.released),
        reboot_required=row.reboot,
        supersedes=supersedes,
        product=row.product,
    )


def _build(rows: Iterable[Row]) -> dict[str, CatalogueEntry]:
    rows = list(rows)
    by_line: dict[str, list[Row]] = {}
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise ValueError(f"catalogue: advisory id {row.id} appears twice")
        seen.add(row.id)
        unknown = set(row.platforms) - PLATFORMS.keys()
        if unknown:
            raise ValueError(f"catalogue: {row.id} names unknown platforms {sorted(unknown)}")
        if row.line:
            by_line.setdefault(row.line, []).append(row)
    supersedes: dict[str, tuple[str, ...]] = {}
    for members in by_line.values():
        members.sort(key=lambda r: (r.released, r.id))
        for older, newer in itertools.pairwise(members):
            supersedes[newer.id] = (older.id,)
    entries: dict[str, CatalogueEntry] = {}
    for row in rows:
        entries[row.id] = CatalogueEntry(
            advisory=_advisory(row, supersedes.get(row.id, ())),
            platforms=frozenset(row.platforms),
            line=row.line,
            install_minutes=row.minutes,
            roles=frozenset(row.roles),
        )
    return entries


ENTRIES: Mapping[str, CatalogueEntry] = MappingProxyType(
    _build((*_catalogue_windows.ROWS, *_catalogue_apps.ROWS, *_catalogue_linux.ROWS))
)
ADVISORIES: tuple[Advisory, ...] = tuple(e.advisory for e in ENTRIES.values())
_ORDER = {a.id: i for i, a in enumerate(ADVISORIES)}


def _closure(advisory_id: str) -> frozenset[str]:
    out: set[str] = set()
    todo = list(ENTRIES[advisory_id].advisory.supersedes)
    while todo:
        older = todo.pop()
        if older not in out:
            out.add(older)
            todo.extend(ENTRIES[older].advisory.supersedes)
    return frozenset(out)


_CLOSURES: Mapping[str, frozenset[str]] = MappingProxyType({i: _closure(i) for i in ENTRIES})
_BY_CVE: dict[str, list[Advisory]] = {}
for _adv in ADVISORIES:
    for _cve in _adv.cves:
        _BY_CVE.setdefault(_cve, []).append(_adv)


def get(advisory_id: str) -> Advisory:
    """The advisory with this id; KeyError when the catalogue has none."""
    return ENTRIES[advisory_id].advisory


def entry(advisory_id: str) -> CatalogueEntry:
    return ENTRIES[advisory_id]


def install_minutes(advisory_id: str) -> float:
    return ENTRIES[advisory_id].install_minutes


def supersedes_closure(advisory_id: str) -> frozenset[str]:
    """Every advisory this one replaces, directly or through older ones in its line."""
    return _CLOSURES[advisory_id]


def advisories_for_cve(cve: str) -> tuple[Advisory, ...]:
    return tuple(_BY_CVE.get(cve.strip().upper(), ()))


@dataclass(frozen=True, slots=True)
class _View:
    advisories: tuple[Advisory, ...]
    lines: tuple[tuple[Advisory, ...], ...]
    positions: tuple[tuple[int, ...], ...]  # the lines as indexes into ADVISORIES


_EMPTY = _View((), (), ())


@lru_cache(maxsize=1024)
def _view(platform: str, roles: frozenset[str]) -> _View:
    chosen = [
        e for e in ENTRIES.values() if platform in e.platforms and (not e.roles or e.roles & roles)
    ]
    grouped: dict[str, list[Advisory]] = {}
    for e in chosen:
        grouped.setdefault(e.line or f"single:{e.advisory.id}", []).append(e.advisory)
    lines = tuple(
        tuple(sorted(members, key=lambda a: (a.released or date.min, a.id)))
        for members in grouped.values()
    )
    positions = tuple(tuple(_ORDER[a.id] for a in line) for line in lines)
    return _View(tuple(e.advisory for e in chosen), lines, positions)


def _host_view(host: Host) -> _View:
    platform = platform_key(host.os_family, host.os_version)
    if platform is None:
        return _EMPTY
    return _view(platform, host.tags & ROLE_TAGS)


def applicable(host: Host) -> tuple[Advisory, ...]:
    """Every catalogue advisory that applies to ``host`` (its platform and role tags)."""
    return _host_view(host).advisories


def applicable_to(
    os_family: OsFamily, os_version: str, roles: frozenset[str] = frozenset()
) -> tuple[Advisory, ...]:
    platform = platform_key(os_family, os_version)
    return _view(platform, roles & ROLE_TAGS).advisories if platform else ()


def update_lines(host: Host) -> tuple[tuple[Advisory, ...], ...]:
    """The advisories applicable to ``host`` grouped in supersedence chains, oldest first
    (an advisory outside any chain is a chain of one)."""
    return _host_view(host).lines


def update_line_positions(host: Host) -> tuple[tuple[int, ...], ...]:
    """``update_lines(host)`` as indexes into ``ADVISORIES`` (cheap to sample and sort)."""
    return _host_view(host).positions


def catalogue_order(advisory_id: str) -> int:
    """Position in the catalogue, to list advisories in a stable order."""
    return _ORDER[advisory_id]
