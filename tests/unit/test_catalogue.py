"""The simulated fleet's advisory catalogue: sane, realistic, immutable, fast to query."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from patchwave.domain.models import Classification, OsFamily, Severity
from patchwave.endpoints import catalogue
from patchwave.endpoints.drivers.versions import compare_deb, compare_evr
from patchwave.feeds.kev import shipped_kev
from tests.factories import make_host

CVE = re.compile(r"^CVE-\d{4}-\d{4,7}$")
LINUX = (OsFamily.DEBIAN, OsFamily.UBUNTU, OsFamily.RHEL, OsFamily.SUSE)


def _families(entry: catalogue.CatalogueEntry) -> set[OsFamily]:
    return {catalogue.PLATFORMS[p].family for p in entry.platforms}


def test_ids_are_unique_and_the_size_is_realistic() -> None:
    ids = [a.id for a in catalogue.ADVISORIES]
    assert len(ids) == len(set(ids))
    assert 150 <= len(ids) <= 300
    assert set(ids) == set(catalogue.ENTRIES)


def test_every_cve_is_well_formed_and_scores_are_in_range() -> None:
    for adv in catalogue.ADVISORIES:
        for cve in adv.cves:
            assert CVE.match(cve), (adv.id, cve)
        if adv.cvss is not None:
            assert 0.0 < adv.cvss <= 10.0, adv.id
        if adv.classification is Classification.SECURITY and adv.cves:
            assert adv.cvss is not None, adv.id
            assert adv.severity is not Severity.UNSPECIFIED, adv.id


@pytest.mark.parametrize(
    "cve",
    [
        "CVE-2025-53770",  # SharePoint ToolShell
        "CVE-2025-29824",  # Windows CLFS, ransomware
        "CVE-2025-33053",  # Windows WebDAV
        "CVE-2025-21333",  # Hyper-V
        "CVE-2024-29059",  # .NET Framework
        "CVE-2024-21410",  # Exchange
        "CVE-2025-0411",  # 7-Zip
        "CVE-2025-8088",  # WinRAR
        "CVE-2025-6554",  # Chrome V8
        "CVE-2024-9680",  # Firefox
        "CVE-2023-26369",  # Acrobat Reader
        "CVE-2023-4911",  # glibc Looney Tunables
        "CVE-2021-3156",  # sudo Baron Samedit
        "CVE-2021-4034",  # polkit PwnKit
        "CVE-2024-1086",  # Linux kernel nf_tables
        "CVE-2024-53104",  # Linux kernel UVC
        "CVE-2024-38475",  # Apache httpd
        "CVE-2025-48384",  # git
    ],
)
def test_known_exploited_vulnerabilities_are_in_the_catalogue_and_in_kev(cve: str) -> None:
    assert cve in shipped_kev()
    assert catalogue.advisories_for_cve(cve), f"no advisory fixes {cve}"


def test_kev_coverage_spans_windows_linux_and_applications() -> None:
    kev = shipped_kev()
    vendors = Counter(a.vendor for a in catalogue.ADVISORIES if any(c in kev for c in a.cves))
    assert vendors["Microsoft"] >= 40  # every Windows CU of the period fixes KEV CVEs
    assert {"Debian", "Canonical", "Red Hat", "SUSE", "Google", "RARLAB"} <= set(vendors)
    distinct = {c for a in catalogue.ADVISORIES for c in a.cves if c in kev}
    assert len(distinct) >= 30


def test_famous_non_kev_cves_are_present_where_they_applied() -> None:
    regresshion = {a.id for a in catalogue.advisories_for_cve("CVE-2024-6387")}
    assert {"DSA-5724-1", "USN-6859-1", "RHSA-2024:4312"} <= regresshion
    # OpenSSH 8.4 (Debian 11) and 8.0 (RHEL 8) predate the regression: no fix listed there.
    for adv_id in regresshion:
        entry = catalogue.entry(adv_id)
        assert not entry.platforms & {"debian/11", "rhel/8"}


def test_linux_advisories_name_packages_and_versions_in_their_distro_syntax() -> None:
    for entry in catalogue.ENTRIES.values():
        adv = entry.advisory
        families = _families(entry)
        if families & set(LINUX):
            assert adv.packages, adv.id
            for fix in adv.packages:
                assert fix.name and fix.fixed_version, adv.id
                assert " " not in fix.fixed_version
        if OsFamily.RHEL in families:
            assert all(re.search(r"\.(el[89]|module\+el8)", f.fixed_version) for f in adv.packages)
            assert re.match(r"^RH[SBE]A-\d{4}:\d{4,5}$", adv.id), adv.id
        if OsFamily.SUSE in families:
            assert all("-150" in f.fixed_version for f in adv.packages), adv.id
            assert re.match(r"^SUSE-[SR]U-\d{4}:\d{4,5}-1$", adv.id), adv.id
        if OsFamily.DEBIAN in families and adv.classification is Classification.SECURITY:
            assert re.match(r"^D[SL]A-\d{4}-1$", adv.id), adv.id
        if OsFamily.WINDOWS in families:
            assert not adv.packages, adv.id


def test_windows_cumulative_updates_reboot_and_are_severe() -> None:
    cus = [a for a in catalogue.ADVISORIES if "Cumulative Update for" in a.title]
    assert len(cus) >= 48
    for cu in cus:
        assert cu.reboot_required, cu.id
        assert re.match(r"^KB\d{7}$", cu.id)
        if "Out-of-band" not in cu.title and ".NET" not in cu.title:
            assert cu.severity in (Severity.CRITICAL, Severity.IMPORTANT)
            assert catalogue.install_minutes(cu.id) >= 20


def test_classifications_cover_definitions_drivers_firmware_and_bugfixes() -> None:
    by_class = Counter(a.classification for a in catalogue.ADVISORIES)
    for cls in (
        Classification.SECURITY,
        Classification.CRITICAL,
        Classification.BUGFIX,
        Classification.FEATURE,
        Classification.DRIVER,
        Classification.FIRMWARE,
        Classification.DEFINITION,
    ):
        assert by_class[cls] >= 1, cls
    defs = catalogue.get("KB2267602")
    assert defs.classification is Classification.DEFINITION
    assert not defs.reboot_required
    assert all(
        not a.cves for a in catalogue.ADVISORIES if a.classification is Classification.BUGFIX
    )


def test_kernels_need_a_reboot_and_userland_does_not() -> None:
    assert catalogue.get("DSA-5658-1").reboot_required  # linux kernel
    assert catalogue.get("RHSA-2025:6966").reboot_required  # kernel
    assert not catalogue.get("DSA-5724-1").reboot_required  # openssh


def test_supersedence_chains_follow_release_dates() -> None:
    aug = catalogue.get("KB5063878")
    assert aug.supersedes == ("KB5064489",)  # the July out-of-band release
    assert catalogue.get("KB5064489").supersedes == ("KB5062553",)
    closure = catalogue.supersedes_closure("KB5063878")
    assert {"KB5050009", "KB5058411", "KB5062553", "KB5064489"} <= closure
    assert "KB5063880" not in closure  # another Windows version's chain
    for entry in catalogue.ENTRIES.values():
        for older_id in entry.advisory.supersedes:
            older = catalogue.entry(older_id)
            assert older.line == entry.line
            assert older.advisory.released is not None
            assert entry.advisory.released is not None
            assert older.advisory.released <= entry.advisory.released


def test_newer_linux_advisories_carry_newer_package_versions() -> None:
    checked = 0
    for entry in catalogue.ENTRIES.values():
        for older_id in entry.advisory.supersedes:
            older = {f.name: f.fixed_version for f in catalogue.get(older_id).packages}
            compare = compare_evr if _families(entry) & {OsFamily.RHEL, OsFamily.SUSE} else None
            if _families(entry) & {OsFamily.DEBIAN, OsFamily.UBUNTU}:
                compare = compare_deb
            if compare is None:
                continue
            for fix in entry.advisory.packages:
                if fix.name in older:
                    assert compare(fix.fixed_version, older[fix.name]) > 0, (entry.advisory.id, fix)
                    checked += 1
    assert checked >= 40


@pytest.mark.parametrize(
    ("family", "version", "expected"),
    [
        (OsFamily.WINDOWS, "Server 2022", "windows/server-2022"),
        (OsFamily.WINDOWS, "Windows Server 2019 Datacenter", "windows/server-2019"),
        (OsFamily.WINDOWS, "10.0.14393", "windows/server-2016"),
        (OsFamily.WINDOWS, "11 24H2", "windows/11-24h2"),
        (OsFamily.WINDOWS, "Windows 11 Pro 23H2", "windows/11-23h2"),
        (OsFamily.WINDOWS, "10", "windows/10-22h2"),
        (OsFamily.WINDOWS, "Server 2012 R2", None),
        (OsFamily.WINDOWS, "11 21H2", None),
        (OsFamily.DEBIAN, "12", "debian/12"),
        (OsFamily.DEBIAN, "12.7", "debian/12"),
        (OsFamily.DEBIAN, "bookworm", "debian/12"),
        (OsFamily.DEBIAN, "10", None),
        (OsFamily.UBUNTU, "22.04.4 LTS", "ubuntu/22.04"),
        (OsFamily.UBUNTU, "noble", "ubuntu/24.04"),
        (OsFamily.UBUNTU, "20.04", None),
        (OsFamily.RHEL, "Rocky 9.4", "rhel/9"),
        (OsFamily.RHEL, "8.10", "rhel/8"),
        (OsFamily.SUSE, "15 SP6", "suse/15-sp6"),
        (OsFamily.SUSE, "15-SP5", "suse/15-sp5"),
        (OsFamily.SUSE, "15.6", "suse/15-sp6"),
        (OsFamily.SUSE, "15", None),
        (OsFamily.UNKNOWN, "12", None),
        (OsFamily.DEBIAN, "", None),
    ],
)
def test_platform_keys_accept_the_usual_spellings(
    family: OsFamily, version: str, expected: str | None
) -> None:
    assert catalogue.platform_key(family, version) == expected


def test_applicable_filters_by_platform_and_role() -> None:
    server = make_host(name="acme-app01", os_family=OsFamily.WINDOWS, os_version="Server 2022")
    ids = {a.id for a in catalogue.applicable(server)}
    assert {"KB5063880", "KB2267602", "CHROME-139.0.7258.127"} <= ids
    assert "KB5063878" not in ids  # Windows 11 24H2 / Server 2025 chain
    assert "KB5058721" not in ids  # SQL Server needs role:sql
    assert not any(i.startswith(("DSA-", "RHSA-")) for i in ids)
    sql = dataclasses.replace(server, name="acme-sql01", tags=frozenset({"role:sql"}))
    assert "KB5058721" in {a.id for a in catalogue.applicable(sql)}
    debian = make_host(os_version="12")
    assert all(a.vendor == "Debian" for a in catalogue.applicable(debian))
    assert "DSA-5724-1" in {a.id for a in catalogue.applicable(debian)}
    assert catalogue.applicable(make_host(os_family=OsFamily.UNKNOWN)) == ()


def test_applicable_is_precomputed_per_platform() -> None:
    a = make_host(name="a", os_version="12")
    b = make_host(name="b", os_version="bookworm", tags=frozenset({"pilot"}))
    assert catalogue.applicable(a) is catalogue.applicable(b)
    lines = catalogue.update_lines(a)
    assert sum(len(line) for line in lines) == len(catalogue.applicable(a))


def test_the_catalogue_is_immutable() -> None:
    adv = catalogue.get("KB5063878")
    with pytest.raises(dataclasses.FrozenInstanceError):
        adv.title = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalogue.ENTRIES["KB1"] = catalogue.entry("KB5063878")  # type: ignore[index]
    with pytest.raises(KeyError):
        catalogue.get("KB0000000")
