"""apt/dpkg output parsers on recorded outputs, and fuzzed with arbitrary bytes."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patchwave.endpoints.drivers.apt import deb_filename, parse_apt_simulation, parse_dpkg_query
from patchwave.endpoints.drivers.base import (
    fixes_of,
    parse_facts,
    validate_advisory_id,
    validate_name,
    validate_version,
)
from patchwave.endpoints.transport import decode_output
from patchwave.errors import ParseError, PatchFailed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "apt"


def test_simulation_of_a_real_debian_machine() -> None:
    ups = parse_apt_simulation((FIXTURES / "apt-get-s-dist-upgrade-debian12.txt").read_text())
    assert len(ups) == 138  # "138 upgraded" in the summary line
    by_name = {u.name: u for u in ups}
    ssl = by_name["libssl3"]
    assert (ssl.installed, ssl.candidate, ssl.arch) == (
        "3.0.19-1~deb12u2",
        "3.0.22-1~deb12u2",
        "amd64",
    )
    assert ssl.security
    assert not by_name["bash"].security
    assert by_name["libcap2"].candidate == "1:2.66-4+deb12u3+b1"  # epoch kept
    gcrypt = by_name["libgcrypt20"]  # two origins, one of them the security archive
    assert gcrypt.origins == ("Debian:12.15/oldstable", "Debian-Security:12/oldstable-security")
    assert gcrypt.security


def test_simulation_against_the_test_repository() -> None:
    (up,) = parse_apt_simulation((FIXTURES / "apt-get-s-local-repo.txt").read_text())
    assert (up.name, up.installed, up.candidate) == ("patchwave-demo-web", "1.0", "1.1")
    assert up.security


def test_new_dependencies_are_not_upgrades() -> None:
    text = (
        "1 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n"
        "Inst libnew1 (2.0-1 Debian:12.15/oldstable [amd64])\n"
        "Inst tool [1.0-1] (1.1-1 Debian:12.15/oldstable [amd64])\n"
    )
    assert [u.name for u in parse_apt_simulation(text)] == ["tool"]


@pytest.mark.parametrize(
    "text",
    ["", "E: Unable to locate package\n", "0 upgraded, 0 newly installed\nInst garbage here\n"],
)
def test_simulation_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_apt_simulation(text)


def test_dpkg_query_keeps_installed_packages_only() -> None:
    found = parse_dpkg_query((FIXTURES / "dpkg-query.txt").read_text())
    assert found == {"bash": ("5.2.15-2+b8", "amd64"), "dpkg": ("1.21.22", "amd64")}
    assert parse_dpkg_query("old\t1.0\tall\trc \n") == {}
    with pytest.raises(ParseError):
        parse_dpkg_query("no tabs here\n")


def test_deb_filename_encodes_the_epoch() -> None:
    assert deb_filename("libcap2:amd64", "1:2.66-4", "amd64") == "libcap2_1%3a2.66-4_amd64.deb"


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: validate_name("deb", v), "-oAPT::Update::Pre-Invoke::=x"),
        (lambda v: validate_name("deb", v), "openssl; rm -rf /"),
        (lambda v: validate_name("deb", v), "Openssl"),
        (lambda v: validate_version("deb", v), "--force-yes"),
        (lambda v: validate_version("deb", v), "1.0 2.0"),
        (lambda v: validate_name("rpm", v), "-y"),
        (lambda v: validate_version("rpm", v), "1.0-1-2"),
        (validate_advisory_id, "--security"),
        (validate_advisory_id, "RHSA-2024:1 $(id)"),
    ],
)
def test_unsafe_arguments_are_refused(check: object, value: str) -> None:
    with pytest.raises(PatchFailed, match="refusing"):
        check(value)  # type: ignore[operator]


def test_valid_arguments_pass() -> None:
    assert validate_name("deb", "libssl3:amd64") == "libssl3:amd64"
    assert validate_version("deb", "1:2.66-4+deb12u3+b1")
    assert validate_version("rpm", "1:3.0.7-28.el9_4")
    assert validate_advisory_id("SUSE-SLE-Module-Basesystem-15-SP6-2024-3720")
    assert validate_advisory_id("deb:openssl=3.0.15-1~deb12u1")


def test_facts_parse_and_garbage() -> None:
    text = (
        'PRETTY_NAME="Debian GNU/Linux 12"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
        "@@pw@@\n6.1.0-28-amd64\n@@pw@@\n0f8e2c3a-1b2c-4d5e-8f90-123456789abc\n@@pw@@\n"
        "/dev/sda1 20511312 9876543 9568132 51% /\n"
    )
    facts = parse_facts(text)
    assert facts.os_family.value == "debian" and facts.os_version == "12"
    assert facts.free_disk_mb == 9568132 // 1024
    rocky = text.replace("ID=debian", 'ID="rocky"\nID_LIKE="rhel centos fedora"')
    assert parse_facts(rocky).os_family.value == "rhel"
    with pytest.raises(ParseError):
        parse_facts("ID=debian\n")


def test_fixes_take_the_highest_target_per_package() -> None:
    from patchwave.domain.models import Advisory, PackageFix

    a = Advisory("deb:x=1.1", "debian", "x", packages=(PackageFix("x", "1.1"),))
    b = Advisory("deb:x=1.2", "debian", "x", packages=(PackageFix("x", "1.2"),))
    assert [f.fixed_version for f in fixes_of("deb", [a, b])] == ["1.2"]


@given(st.binary(max_size=2000))
def test_fuzz_apt_parsers(data: bytes) -> None:
    text = decode_output(data)
    for parse in (parse_apt_simulation, parse_dpkg_query, parse_facts):
        with contextlib.suppress(ParseError):
            parse(text)


@given(st.lists(st.sampled_from([
    "Inst a [1] (2 o [all])", "Inst b (2 o [all])", "Conf a (2 o [all])", "Inst ", "junk",
    "1 upgraded, 0 newly installed, 0 to remove",
    "Inst c [1:2~x] (1:3 Debian:12/x-security [amd64]) []",
]), max_size=12))  # fmt: skip
def test_fuzz_apt_simulation_structured(lines: list[str]) -> None:
    try:
        ups = parse_apt_simulation("\n".join(lines))
    except ParseError:
        return
    assert all(u.name and u.candidate and u.installed for u in ups)
