"""zypper --xmlout parsers on recorded outputs, and fuzzed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patchwave.domain.models import Classification, Severity
from patchwave.endpoints.drivers.rpmcommon import build_advisories
from patchwave.endpoints.drivers.zypper import (
    parse_list_patches,
    parse_list_updates,
    parse_patch_info,
)
from patchwave.endpoints.transport import decode_output
from patchwave.errors import ParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "zypper"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_recorded_outputs_build_the_patch() -> None:
    updates = parse_list_updates(read("list-updates.xml"))
    assert updates == {"patchwave-demo-tool": ("1.0-1", "1.1-1")}
    (patch,) = parse_list_patches(read("list-patches.xml"))
    assert patch.id == "PWSA-2026:0001" and patch.kind == "security"
    assert patch.severity is Severity.IMPORTANT and patch.reboot
    assert patch.cves == ["CVE-2026-1111", "CVE-2026-2222"]
    info = parse_patch_info(read("info-patch.txt"))
    assert info == {"PWSA-2026:0001": {"patchwave-demo-tool": "1.1-1"}}
    patch.packages = info[patch.id]
    (adv,) = build_advisories(vendor="suse", updates=updates, vendor_advisories=[patch])
    assert adv.classification is Classification.SECURITY and adv.reboot_required
    assert adv.packages[0].installed_version == "1.0-1"


def test_multi_package_conflicts_strip_arch_and_skip_sources() -> None:
    info = parse_patch_info(read("info-patch-multi-handwritten.txt"))
    assert info == {
        "SUSE-SLE-Module-Basesystem-15-SP6-2024-3720": {
            "libopenssl3": "3.1.4-150600.5.15.1",
            "openssl-3": "3.1.4-150600.5.15.1",
        }
    }


@pytest.mark.parametrize("text", ["", "not xml", "<stream><unclosed></stream>", "<other/>"])
def test_xml_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_list_updates(text)


def test_update_without_edition_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_list_updates('<stream><update kind="package" name="x"/></stream>')


@given(st.binary(max_size=2000))
def test_fuzz_zypper_parsers(data: bytes) -> None:
    text = decode_output(data)
    for parse in (parse_list_updates, parse_list_patches, parse_patch_info):
        with contextlib.suppress(ParseError):
            parse(text)


@given(st.lists(st.sampled_from([
    "<stream>", "</stream>", '<update kind="package" name="a" edition="1-1">', "</update>",
    '<update kind="patch" name="P" category="security" severity="low">', "<issue-list>",
    '<issue type="cve" id="CVE-1"/>', "</issue-list>", "<summary>s</summary>", "&amp;", "<",
]), max_size=15))  # fmt: skip
def test_fuzz_zypper_xml_structured(parts: list[str]) -> None:
    text = "".join(parts)
    for parse in (parse_list_updates, parse_list_patches):
        with contextlib.suppress(ParseError):
            parse(text)
