"""Version ordering: rpm's rpmvercmp vectors, EVR rules, dpkg ordering, and order properties."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patchwave.endpoints.drivers.versions import (
    at_least,
    compare_deb,
    compare_evr,
    rpmvercmp,
    split_evr,
)
from patchwave.errors import ParseError

# From rpm's own test suite (tests/rpmvercmp.at): (a, b, expected rpmvercmp(a, b)).
RPM_VECTORS = [
    ("1.0", "1.0", 0), ("1.0", "2.0", -1), ("2.0", "1.0", 1),
    ("2.0.1", "2.0.1", 0), ("2.0", "2.0.1", -1), ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1a", 0), ("2.0.1a", "2.0.1", 1), ("2.0.1", "2.0.1a", -1),
    ("5.5p1", "5.5p1", 0), ("5.5p1", "5.5p2", -1), ("5.5p2", "5.5p1", 1),
    ("5.5p10", "5.5p10", 0), ("5.5p1", "5.5p10", -1), ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1), ("10.1xyz", "10xyz", 1),
    ("xyz10", "xyz10", 0), ("xyz10", "xyz10.1", -1), ("xyz10.1", "xyz10", 1),
    ("xyz.4", "xyz.4", 0), ("xyz.4", "8", -1), ("8", "xyz.4", 1), ("xyz.4", "2", -1),
    ("2", "xyz.4", 1), ("5.5p2", "5.6p1", -1), ("5.6p1", "5.5p2", 1),
    ("5.6p1", "6.5p1", -1), ("6.5p1", "5.6p1", 1), ("6.0.rc1", "6.0", 1), ("6.0", "6.0.rc1", -1),
    ("10b2", "10a1", 1), ("10a2", "10b2", -1), ("1.0aa", "1.0aa", 0), ("1.0a", "1.0aa", -1),
    ("1.0aa", "1.0a", 1), ("10.0001", "10.0001", 0), ("10.0001", "10.1", 0),
    ("10.1", "10.0001", 0), ("10.0001", "10.0039", -1), ("10.0039", "10.0001", 1),
    ("4.999.9", "5.0", -1), ("5.0", "4.999.9", 1), ("20101121", "20101121", 0),
    ("20101121", "20101122", -1), ("20101122", "20101121", 1),
    ("2_0", "2_0", 0), ("2.0", "2_0", 0), ("2_0", "2.0", 0),
    ("a", "a", 0), ("a+", "a+", 0), ("a+", "a_", 0), ("a_", "a+", 0), ("+a", "+a", 0),
    ("+a", "_a", 0), ("_a", "+a", 0), ("+_", "+_", 0), ("_+", "+_", 0), ("_+", "_", 0),
    ("+", "_", 0), ("_", "+", 0),
    ("1.0~rc1", "1.0~rc1", 0), ("1.0~rc1", "1.0", -1), ("1.0", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc2", -1), ("1.0~rc2", "1.0~rc1", 1),
    ("1.0~rc1~git123", "1.0~rc1~git123", 0), ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~rc1~git123", 1),
    ("1.0^", "1.0^", 0), ("1.0^", "1.0", 1), ("1.0", "1.0^", -1),
    ("1.0^git1", "1.0^git1", 0), ("1.0^git1", "1.0", 1), ("1.0", "1.0^git1", -1),
    ("1.0^git1", "1.0^git2", -1), ("1.0^git2", "1.0^git1", 1), ("1.0^git1", "1.01", -1),
    ("1.01", "1.0^git1", 1), ("1.0^20160101", "1.0^20160101", 0),
    ("1.0^20160101", "1.0.1", -1), ("1.0.1", "1.0^20160101", 1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0), ("1.0^20160102", "1.0^20160101^git1", 1),
    ("1.0^20160101^git1", "1.0^20160102", -1), ("1.0~rc1^git1", "1.0~rc1^git1", 0),
    ("1.0~rc1^git1", "1.0~rc1", 1), ("1.0~rc1", "1.0~rc1^git1", -1),
    ("1.0^git1~pre", "1.0^git1~pre", 0), ("1.0^git1", "1.0^git1~pre", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
    ("1b.fc17", "1b.fc17", 0), ("1b.fc17", "1.fc17", -1), ("1.fc17", "1b.fc17", 1),
    ("1g.fc17", "1g.fc17", 0), ("1g.fc17", "1.fc17", 1), ("1.fc17", "1g.fc17", -1),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b", "expected"), RPM_VECTORS)
def test_rpmvercmp_matches_rpm_test_suite(a: str, b: str, expected: int) -> None:
    assert rpmvercmp(a, b) == expected


def test_evr_epoch_then_version_then_release() -> None:
    assert compare_evr("1:1.0-1", "2.0-1") == 1
    assert compare_evr("1.0-2", "1.0-10") == -1
    assert compare_evr("1.0", "1.0-5") == 0  # no release on one side: releases are not compared
    assert compare_evr("0:1.1-1", "1.1-1") == 0
    assert split_evr("2:3.0.7-28.el9_4") == (2, "3.0.7", "28.el9_4")
    for bad in ("", "x:1.0", ":1.0-1", "-1"):
        with pytest.raises(ParseError):
            split_evr(bad)


def test_dpkg_ordering() -> None:
    assert compare_deb("1.0~rc1", "1.0") == -1
    assert compare_deb("1:1.0", "2.0") == 1
    assert compare_deb("3.0.15-1~deb12u1", "3.0.15-1") == -1
    assert compare_deb("7.88.1-10+deb12u15", "7.88.1-10+deb12u14") == 1
    assert at_least("deb", "1.1", "1.1") and not at_least("deb", "1.0", "1.1")
    with pytest.raises(ParseError):
        compare_deb("1:", "1.0")


rpm_versions = st.text(alphabet="0123456789abz.~^_", min_size=0, max_size=10)
deb_versions = st.from_regex(r"\A([1-3]:)?[0-9][0-9a-z.+~]{0,6}(-[0-9a-z.+~]{1,4})?\Z")


@given(rpm_versions, rpm_versions)
def test_rpmvercmp_is_reflexive_and_antisymmetric(a: str, b: str) -> None:
    assert rpmvercmp(a, a) == 0
    assert rpmvercmp(a, b) == -rpmvercmp(b, a)


# Transitivity holds for versions made of segments and separators; rpm itself is known not to be
# transitive for some strings mixing leading separators, so the strategy keeps to real shapes.
rpm_real = st.from_regex(r"\A[0-9]{1,3}([.~^_][0-9a-z]{1,3}){0,3}\Z")


@given(rpm_real, rpm_real, rpm_real)
def test_rpmvercmp_is_transitive(a: str, b: str, c: str) -> None:
    if rpmvercmp(a, b) <= 0 and rpmvercmp(b, c) <= 0:
        assert rpmvercmp(a, c) <= 0


@given(deb_versions, deb_versions, deb_versions)
def test_dpkg_order_properties(a: str, b: str, c: str) -> None:
    assert compare_deb(a, a) == 0
    assert compare_deb(a, b) == -compare_deb(b, a)
    if compare_deb(a, b) <= 0 and compare_deb(b, c) <= 0:
        assert compare_deb(a, c) <= 0


rpm_nonempty = st.text(alphabet="0123456789abz.~^_", min_size=1, max_size=10)


@pytest.mark.rpm
@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(rpm_nonempty, rpm_nonempty), min_size=50, max_size=50))
def test_rpmvercmp_agrees_with_real_rpm(pairs: list[tuple[str, str]]) -> None:
    if shutil.which("rpm") is None:
        pytest.skip("rpm is not installed (scripts/install-system-deps.sh)")
    # rpm's Lua print() adds no newline: separate the results ourselves.
    lua = "".join(f'print(rpm.vercmp("{a}", "{b}") .. " ") ' for a, b in pairs)
    out = subprocess.run(
        ["rpm", "--eval", f"%{{lua: {lua}}}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [int(x) for x in out] == [rpmvercmp(a, b) for a, b in pairs]
