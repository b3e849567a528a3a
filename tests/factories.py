"""Plain factory functions for test data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from patchwave.domain.models import Advisory, Classification, Host, OsFamily, PackageFix, Severity


def make_host(**overrides: Any) -> Host:
    values: dict[str, Any] = {
        "tenant": "acme",
        "site": "paris",
        "name": "acme-web01",
        "os_family": OsFamily.DEBIAN,
        "os_version": "12",
    }
    values.update(overrides)
    return Host(**values)


def make_advisory(**overrides: Any) -> Advisory:
    values: dict[str, Any] = {
        "id": "DSA-5000-1",
        "vendor": "debian",
        "title": "openssl security update",
        "classification": Classification.SECURITY,
        "severity": Severity.IMPORTANT,
        "cves": ("CVE-2024-0001",),
        "cvss": 7.5,
        "packages": (PackageFix("openssl", "3.0.15-1~deb12u1"),),
    }
    values.update(overrides)
    return Advisory(**values)


CSV_HEADER = (
    "tenant,site,site_timezone,name,os_family,os_version,connector,address,tags,ring,"
    "criticality,internet_facing,rdp_exposed,calendar,credential_ref"
)


def write_csv(path: Path, *rows: str, header: str = CSV_HEADER) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path
