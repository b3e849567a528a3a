"""dnf4 (recorded) and dnf5 (hand-written from its documented formats) output parsers."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patchwave.domain.models import Classification, Severity
from patchwave.endpoints.drivers.dnf import (
    parse_check_update,
    parse_dnf5_advisories,
    parse_history_last_id,
    parse_updateinfo_info,
    parse_updateinfo_list,
)
from patchwave.endpoints.drivers.rpmcommon import (
    build_advisories,
    parse_nevra,
    parse_rpm_query,
)
from patchwave.endpoints.transport import decode_output
from patchwave.errors import ParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dnf"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_dnf4_recorded_scan_builds_the_security_advisory() -> None:
    candidates = parse_check_update(read("dnf4-check-update.txt"))
    assert candidates == {"patchwave-demo-tool": ("noarch", "1.1-1")}
    listed = parse_updateinfo_list(read("dnf4-updateinfo-list.txt"))
    info = parse_updateinfo_info(read("dnf4-updateinfo-info.txt"))
    assert info["PWSA-2026:0001"].cves == ["CVE-2026-1111", "CVE-2026-2222"]
    assert info["PWSA-2026:0001"].title == "Important: patchwave-demo-tool security update"
    listed[0].cves = info["PWSA-2026:0001"].cves
    (adv,) = build_advisories(
        vendor="rhel",
        updates={"patchwave-demo-tool": ("1.0-1", "1.1-1")},
        vendor_advisories=listed,
    )
    assert adv.id == "PWSA-2026:0001"
    assert adv.classification is Classification.SECURITY
    assert adv.severity is Severity.IMPORTANT
    assert adv.cves == ("CVE-2026-1111", "CVE-2026-2222")
    assert adv.packages[0].fixed_version == "1.1-1"


def test_dnf4_wrapped_lines_epochs_and_obsoletes() -> None:
    found = parse_check_update(read("dnf4-check-update-rhel9-handwritten.txt"))
    assert found["NetworkManager-initscripts-ifcfg-rh"] == ("noarch", "1:1.46.0-19.el9_4")
    assert found["openssl"] == ("x86_64", "1:3.0.7-28.el9_4")
    assert "grub2-tools" not in found  # only in the obsoletes section
    assert len(found) == 7


def test_dnf4_types_and_uncovered_updates() -> None:
    listed = parse_updateinfo_list(read("dnf4-updateinfo-list-rhel9-handwritten.txt"))
    kinds = {a.id: (a.kind, a.severity) for a in listed}
    assert kinds["RHSA-2024:8856"] == ("security", Severity.IMPORTANT)
    assert kinds["RHSA-2024:9087"] == ("security", Severity.MODERATE)
    assert kinds["RHBA-2024:9100"] == ("bugfix", Severity.UNSPECIFIED)
    candidates = parse_check_update(read("dnf4-check-update-rhel9-handwritten.txt"))
    updates = {name: ("", evr) for name, (_arch, evr) in candidates.items()}
    advisories = {a.id: a for a in build_advisories(
        vendor="rhel", updates=updates, vendor_advisories=listed)}  # fmt: skip
    assert advisories["RHSA-2024:9087"].packages[0].fixed_version == "1:3.0.7-28.el9_4"
    assert advisories["RHEA-2024:9200"].classification is Classification.FEATURE
    plain = advisories["rpm:NetworkManager-initscripts-ifcfg-rh=1:1.46.0-19.el9_4"]
    assert plain.classification is Classification.BUGFIX


def test_dnf5_documented_formats() -> None:
    candidates = parse_check_update(read("dnf5-check-upgrade-handwritten.txt"))
    assert candidates["openssl-libs"] == ("x86_64", "1:3.2.2-3.fc40")
    vas = parse_dnf5_advisories(
        read("dnf5-advisory-list-handwritten.json"), read("dnf5-advisory-list-cve-handwritten.json")
    )
    by_id = {a.id: a for a in vas}
    curl = by_id["FEDORA-2024-5b9c7e1a2f"]
    assert curl.packages == {"curl": "8.6.0-10.fc40", "libcurl": "8.6.0-10.fc40"}
    assert curl.cves == ["CVE-2024-9681"]  # the bugzilla reference is not a CVE
    assert by_id["FEDORA-2024-0a1b2c3d4e"].severity is Severity.IMPORTANT
    assert by_id["FEDORA-2024-9f8e7d6c5b"].kind == "bugfix"
    assert parse_dnf5_advisories("[]", None) == []
    for bad in ("{", '{"a": 1}', '[{"name": 1}]', '[{"name": "x", "type": "s", "nevra": "bad"}]'):
        with pytest.raises(ParseError):
            parse_dnf5_advisories(bad, None)


def test_rpm_query_and_nevra() -> None:
    assert parse_rpm_query(read("rpm-query.txt")) == {"patchwave-demo-tool": "1.0-1"}
    assert parse_rpm_query("k\t0\t1\t1\tx86_64\nk\t0\t2\t1\tx86_64\n") == {"k": "2-1"}
    assert parse_rpm_query("rpm: RPM should not be used directly\n") == {}
    assert parse_nevra("openssl-1:3.0.7-28.el9_4.x86_64").evr == "1:3.0.7-28.el9_4"
    assert parse_nevra("curl-0:8.6.0-10.fc40.x86_64").evr == "8.6.0-10.fc40"
    with pytest.raises(ParseError):
        parse_nevra("nonsense")


def test_history_last_id() -> None:
    assert parse_history_last_id(read("dnf4-history-list.txt")) == 1
    dnf5 = "ID Command line  Date and time  Action(s) Altered\n 7 upgrade x  2024-11-01 U 2\n"
    assert parse_history_last_id(dnf5) == 7
    assert parse_history_last_id("No transactions\n") is None


@pytest.mark.parametrize("text", ["Error: Failed to download metadata for repo\n", "a b\n"])
def test_check_update_garbage(text: str) -> None:
    with pytest.raises(ParseError):
        parse_check_update(text)


@given(st.binary(max_size=2000))
def test_fuzz_dnf_parsers(data: bytes) -> None:
    text = decode_output(data)
    for parse in (parse_check_update, parse_updateinfo_list, parse_updateinfo_info,
                  parse_rpm_query, parse_history_last_id):  # fmt: skip
        with contextlib.suppress(ParseError):
            parse(text)
    with contextlib.suppress(ParseError):
        parse_dnf5_advisories(text, text)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "type", "severity", "nevra", "advisory_name", "references",
                         "reference_id", "reference_type"]), inner, max_size=5),
    max_leaves=12,
))  # fmt: skip
def test_fuzz_dnf5_json_shapes(value: object) -> None:
    import json

    with contextlib.suppress(ParseError):
        parse_dnf5_advisories(json.dumps(value), json.dumps(value))
