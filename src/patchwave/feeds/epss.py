"""FIRST EPSS scores: load and fetch the daily CSV (plain or gzipped).

The file looks like::

    #model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
    cve,epss,percentile
    CVE-2025-53770,0.84127,0.99276

EPSS is the probability (0..1) that a CVE is exploited in the next 30 days. The loader keeps
``{cve: epss}``; the percentile is checked but not kept (the risk model uses the probability).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar, overload

from patchwave.feeds import FeedError, atomic_write, download, read_feed_bytes

__all__ = ["DEFAULT_EPSS_URL", "EpssScores", "fetch_epss", "load_epss", "parse_epss"]

# Empirical Security runs EPSS for FIRST; this redirects to the day's epss_scores-DATE.csv.gz.
DEFAULT_EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"

_CVE_RE = re.compile(r"CVE-\d{4}-\d{4,19}")
_HEADER = ["cve", "epss", "percentile"]
_T = TypeVar("_T")


class EpssScores(Mapping[str, float]):
    """EPSS probabilities by CVE id (a read-only mapping) plus the model's version and date."""

    __slots__ = ("_scores", "model_version", "score_date", "source")

    def __init__(
        self,
        scores: Mapping[str, float],
        *,
        model_version: str = "",
        score_date: str = "",
        source: str = "",
    ) -> None:
        self._scores = dict(scores)
        self.model_version = model_version
        self.score_date = score_date
        self.source = source

    def __getitem__(self, cve: str) -> float:
        return self._scores[cve.strip().upper()]

    @overload
    def get(self, cve: str, /) -> float | None: ...
    @overload
    def get(self, cve: str, default: float | _T, /) -> float | _T: ...
    def get(self, cve: str, default: object = None, /) -> object:
        # Mapping.get would raise and catch a KeyError per miss; most CVEs of a scan miss.
        return self._scores.get(cve.strip().upper(), default)

    def __contains__(self, cve: object) -> bool:
        return isinstance(cve, str) and cve.strip().upper() in self._scores

    def __iter__(self) -> Iterator[str]:
        return iter(self._scores)

    def __len__(self) -> int:
        return len(self._scores)

    def __repr__(self) -> str:
        return (
            f"EpssScores(model_version={self.model_version!r}, score_date={self.score_date!r}, "
            f"entries={len(self)})"
        )


def parse_epss(data: bytes, *, source: str) -> EpssScores:
    """Validate EPSS CSV bytes; errors name ``source`` and the line number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"{source}: the EPSS file is not UTF-8 text ({exc.reason})") from exc
    meta: dict[str, str] = {}
    scores: dict[str, float] = {}
    header_seen = False
    # Plain split instead of the csv module: the format has no quoting and this is ~2x faster
    # on the 300,000-line daily file.
    for lineno, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#"):
            meta.update(_parse_comment(line))
            continue
        fields = [field.strip() for field in line.split(",")]
        if not header_seen:
            if [field.lower() for field in fields] != _HEADER:
                raise FeedError(
                    f"{source}: line {lineno}: expected the header 'cve,epss,percentile', "
                    f"got {line[:80]!r}; is this a FIRST EPSS file?"
                )
            header_seen = True
            continue
        cve, epss = _parse_row(fields, where=f"{source}: line {lineno}")
        if cve in scores:
            raise FeedError(f"{source}: line {lineno}: {cve} is listed twice")
        scores[cve] = epss
    if not header_seen:
        raise FeedError(f"{source}: no 'cve,epss,percentile' header; is this a FIRST EPSS file?")
    return EpssScores(
        scores,
        model_version=meta.get("model_version", ""),
        score_date=meta.get("score_date", ""),
        source=source,
    )


def _parse_comment(line: str) -> dict[str, str]:
    """``#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z`` as a dict."""
    pairs = {}
    for part in line.lstrip("#").split(","):
        key, sep, value = part.partition(":")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


def _parse_row(fields: list[str], *, where: str) -> tuple[str, float]:
    if len(fields) != 3:
        raise FeedError(f"{where}: expected 3 fields (cve,epss,percentile), got {len(fields)}")
    cve = fields[0].upper()
    if not _CVE_RE.fullmatch(cve):
        raise FeedError(f"{where}: {fields[0]!r} is not a CVE id (expected CVE-YYYY-NNNN)")
    values = []
    for name, raw in zip(_HEADER[1:], fields[1:], strict=True):
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not 0.0 <= value <= 1.0:  # also rejects NaN
            raise FeedError(f"{where}: {cve}: {name} is {raw!r}, expected a number from 0 to 1")
        values.append(value)
    return cve, values[0]


def load_epss(path: Path) -> EpssScores:
    """Load and validate an EPSS CSV file (.csv or .csv.gz).

    Raises:
        FeedError: the file is missing or malformed (the message names the file and line).
    """
    path = Path(path)
    return parse_epss(read_feed_bytes(path, what="EPSS"), source=str(path))


def fetch_epss(url: str, dest: Path, *, timeout: float = 60.0) -> EpssScores:
    """Download the EPSS scores, validate them, then atomically replace ``dest``.

    Args:
        url: the daily CSV (gzipped or not), e.g. :data:`DEFAULT_EPSS_URL`.
        dest: the local copy to replace (written gzipped when it ends in .gz).
        timeout: seconds for the connection and each read.

    Raises:
        FeedUnavailable: the network failed or the server answered 5xx (retryable).
        FeedError: the URL is wrong (4xx) or the content is not an EPSS CSV.
    """
    data = download(url, timeout=timeout, what="EPSS")
    scores = parse_epss(data, source=url)
    atomic_write(Path(dest), data)
    return EpssScores(
        scores,
        model_version=scores.model_version,
        score_date=scores.score_date,
        source=str(dest),
    )
