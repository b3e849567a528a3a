"""What the dnf and zypper drivers share: rpm queries, NEVRA parsing, advisory building."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from patchwave.domain.models import Advisory, Classification, PackageFix, Severity
from patchwave.endpoints.drivers.base import package_advisory_id
from patchwave.endpoints.drivers.versions import compare_evr
from patchwave.errors import ParseError

RPM_QUERY_FORMAT = "%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n"
_NOT_INSTALLED = re.compile(r"^package (\S+) is not installed$")
_NEVRA = re.compile(r"^(.+)-(?:(\d+):)?([^-:]+)-([^-:]+)\.([^.\-]+)$")


def evr(epoch: str | int, version: str, release: str) -> str:
    """``[epoch:]version-release`` with the epoch left out when it is 0, as rpm prints it."""
    return f"{epoch}:{version}-{release}" if str(epoch) not in ("", "0") else f"{version}-{release}"


def parse_rpm_query(text: str) -> dict[str, str]:
    """``rpm -q --qf RPM_QUERY_FORMAT`` output to name -> highest installed EVR. rpm's own
    warnings (Debian's rpm prints one about alien) and "not installed" lines are skipped."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or _NOT_INSTALLED.match(line.strip()) or line.startswith("rpm:"):
            continue
        fields = line.split("\t")
        if len(fields) != 5 or not all(fields[:4]) or not fields[1].isdigit():
            raise ParseError(f"unexpected rpm -q line: {line[:120]!r}")
        name, epoch, version, release, _arch = fields
        value = evr(epoch, version, release)
        if name not in found or compare_evr(value, found[name]) > 0:
            found[name] = value
    return found


@dataclass(frozen=True, slots=True)
class Nevra:
    name: str
    evr: str
    arch: str


def parse_nevra(text: str) -> Nevra:
    """``name-[epoch:]version-release.arch`` (dnf4 and dnf5 print both with and without epoch)."""
    match = _NEVRA.match(text.strip())
    if match is None:
        raise ParseError(f"not a package NEVRA: {text[:120]!r}")
    name, epoch, version, release, arch = match.groups()
    return Nevra(name, evr(epoch or 0, version, release), arch)


@dataclass
class VendorAdvisory:
    """An updateinfo advisory (dnf) or patch (zypper) as read from the manager's output."""

    id: str
    kind: str
    severity: Severity = Severity.UNSPECIFIED
    title: str = ""
    cves: list[str] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)  # name -> fixed EVR
    reboot: bool = False


_KIND = {
    "security": Classification.SECURITY,
    "bugfix": Classification.BUGFIX,
    "recommended": Classification.BUGFIX,
    "enhancement": Classification.FEATURE,
    "feature": Classification.FEATURE,
    "newpackage": Classification.FEATURE,
    "optional": Classification.FEATURE,
}


def build_advisories(
    *,
    vendor: str,
    updates: Mapping[str, tuple[str, str]],
    vendor_advisories: Iterable[VendorAdvisory],
) -> list[Advisory]:
    """Advisories from the manager's update list (name -> (installed EVR, candidate EVR)) and its
    vendor advisories. An advisory targets the candidate version when it is newer than the one the
    advisory names (the install takes the newest); updates that no advisory covers become plain
    package advisories (``rpm:name=evr``)."""
    out: list[Advisory] = []
    covered: set[str] = set()
    for va in sorted(vendor_advisories, key=lambda a: a.id):
        fixes = []
        for name, fixed in sorted(va.packages.items()):
            installed, candidate = updates.get(name, ("", fixed))
            target = candidate if compare_evr(candidate, fixed) > 0 else fixed
            fixes.append(PackageFix(name, target, installed))
            covered.add(name)
        if not fixes:
            continue
        out.append(
            Advisory(
                id=va.id,
                vendor=vendor,
                title=va.title or va.id,
                classification=_KIND.get(va.kind.lower(), Classification.BUGFIX),
                severity=va.severity,
                cves=tuple(sorted(set(va.cves))),
                packages=tuple(fixes),
                reboot_required=va.reboot,
                product=fixes[0].name,
            )
        )
    for name, (installed, candidate) in sorted(updates.items()):
        if name in covered:
            continue
        out.append(
            Advisory(
                id=package_advisory_id("rpm", name, candidate),
                vendor=vendor,
                title=f"{name} {installed or '?'} -> {candidate}",
                classification=Classification.BUGFIX,
                packages=(PackageFix(name, candidate, installed),),
                product=name,
            )
        )
    return out
