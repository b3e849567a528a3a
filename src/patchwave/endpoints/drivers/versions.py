"""Version ordering as the package managers themselves define it.

dpkg: python-debian's ``Version`` (epoch, upstream, revision; ``~`` sorts first).
rpm: ``rpmvercmp`` re-implemented from rpm's ``rpmio/rpmvercmp.c`` (alternating numeric and alpha
segments, separators ignored, ``~`` sorts before anything, ``^`` after the base version) and the
EVR comparison on top of it (epoch, then version, then release when both sides have one).
"""

from __future__ import annotations

from typing import Literal

from debian.debian_support import Version as DebVersion

from patchwave.errors import ParseError

Scheme = Literal["deb", "rpm"]


def _isalnum(ch: str) -> bool:
    # rpm uses ASCII-only character classes (risalnum); str.isalnum would accept "²" or "é".
    return ch.isascii() and ch.isalnum()


def _isdigit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _isalpha(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def rpmvercmp(a: str, b: str) -> int:
    """Compare two rpm version (or release) strings: -1, 0 or 1, exactly as rpm does."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < lb and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        # Tilde sorts before everything, even the end of the string: 1.0~rc1 < 1.0.
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        # Caret is like tilde except that the end of the string sorts before it: 1.0 < 1.0^git1.
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        si, sj = i, j
        if _isdigit(a[si]):
            while i < la and _isdigit(a[i]):
                i += 1
            while j < lb and _isdigit(b[j]):
                j += 1
            isnum = True
        else:
            while i < la and _isalpha(a[i]):
                i += 1
            while j < lb and _isalpha(b[j]):
                j += 1
            isnum = False
        seg_a, seg_b = a[si:i], b[sj:j]
        if not seg_b:
            # Segments of different types: a numeric one is newer than an alphabetic one.
            return 1 if isnum else -1
        if isnum:
            seg_a = seg_a.lstrip("0")
            seg_b = seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


def split_evr(evr: str) -> tuple[int, str, str]:
    """Split ``[epoch:]version[-release]``; a missing epoch is 0 and a missing release is ""."""
    text = evr.strip()
    if not text:
        raise ParseError("empty rpm version")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isdigit():
            raise ParseError(f"bad rpm epoch in {evr!r}")
        epoch = int(head)
    version, sep, release = text.rpartition("-")
    if not sep:
        version, release = text, ""
    if not version:
        raise ParseError(f"bad rpm version {evr!r}")
    return epoch, version, release


def compare_evr(a: str, b: str) -> int:
    """Compare two rpm EVR strings. The release is compared only when both sides have one, as
    rpm does when a dependency names a version without a release."""
    ea, va, ra = split_evr(a)
    eb, vb, rb = split_evr(b)
    if ea != eb:
        return 1 if ea > eb else -1
    rc = rpmvercmp(va, vb)
    if rc or not (ra and rb):
        return rc
    return rpmvercmp(ra, rb)


def compare_deb(a: str, b: str) -> int:
    """Compare two dpkg versions with python-debian (dpkg's own algorithm)."""
    try:
        va, vb = DebVersion(a), DebVersion(b)
    except ValueError as exc:
        raise ParseError(f"bad dpkg version: {exc}") from exc
    return (va > vb) - (va < vb)


def compare_versions(scheme: Scheme, a: str, b: str) -> int:
    """-1, 0 or 1 under the ordering of the given package format."""
    return compare_deb(a, b) if scheme == "deb" else compare_evr(a, b)


def at_least(scheme: Scheme, installed: str, target: str) -> bool:
    """True when ``installed`` is ``target`` or newer."""
    return compare_versions(scheme, installed, target) >= 0
