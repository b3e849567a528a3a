"""The CISA Known Exploited Vulnerabilities (KEV) catalogue: load, validate, fetch.

The project ships the catalogue (CC0) as ``patchwave/data/kev.json.gz``; ``PATCHWAVE_KEV_PATH``
(settings.kev_path) or an explicit path points at a newer copy, e.g. one written by
:func:`fetch_kev`. Loads are cached per process and per file version (path, mtime, size), so
every scan in a process shares one parsed catalogue.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, overload

from patchwave.domain.models import KevEntry
from patchwave.feeds import FeedError, atomic_write, download, maybe_gunzip, read_feed_bytes

__all__ = [
    "DEFAULT_KEV_URL",
    "KevCatalogue",
    "fetch_kev",
    "load_kev",
    "parse_kev",
    "shipped_kev",
]

DEFAULT_KEV_URL = (
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)
SHIPPED_KEV = "data/kev.json.gz"
_T = TypeVar("_T")

# The catalogue's own JSON schema: "CVE-YYYY-NNNN, the number portion can have more than 4 digits".
_CVE_RE = re.compile(r"CVE-\d{4}-\d{4,19}")
_RANSOMWARE = {"Known": True, "Unknown": False}
_TEXT_FIELDS = ("vendorProject", "product", "vulnerabilityName")


class KevCatalogue(Mapping[str, KevEntry]):
    """A validated KEV catalogue: a read-only mapping from CVE id to :class:`KevEntry`.

    Lookups ignore case and surrounding blanks (``"cve-2025-53770 "`` finds the entry).
    """

    __slots__ = ("_entries", "released", "source", "version")

    def __init__(
        self,
        entries: Mapping[str, KevEntry],
        *,
        version: str,
        released: str = "",
        source: str = "",
    ) -> None:
        self._entries = dict(entries)
        self.version = version
        self.released = released
        self.source = source

    def __getitem__(self, cve: str) -> KevEntry:
        return self._entries[cve.strip().upper()]

    @overload
    def get(self, cve: str, /) -> KevEntry | None: ...
    @overload
    def get(self, cve: str, default: KevEntry | _T, /) -> KevEntry | _T: ...
    def get(self, cve: str, default: object = None, /) -> object:
        # Overridden because Mapping.get goes through __getitem__ and an exception per miss.
        return self._entries.get(cve.strip().upper(), default)

    def __contains__(self, cve: object) -> bool:
        return isinstance(cve, str) and cve.strip().upper() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return (
            f"KevCatalogue(version={self.version!r}, entries={len(self)}, source={self.source!r})"
        )

    @property
    def ransomware_count(self) -> int:
        """How many entries CISA marks as used in ransomware campaigns."""
        return sum(1 for entry in self._entries.values() if entry.ransomware)


def parse_kev(data: bytes, *, source: str) -> KevCatalogue:
    """Validate KEV JSON bytes; errors name ``source`` and the entry index."""
    try:
        doc = json.loads(data)
    except UnicodeDecodeError as exc:
        raise FeedError(f"{source}: the KEV file is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise FeedError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
            "download the KEV catalogue again"
        ) from exc
    if not isinstance(doc, dict):
        raise FeedError(
            f"{source}: expected a JSON object with 'vulnerabilities', got {_kind(doc)}"
        )
    version = doc.get("catalogVersion")
    if not isinstance(version, str) or not version.strip():
        raise FeedError(f"{source}: field 'catalogVersion' is missing; is this a CISA KEV file?")
    items = doc.get("vulnerabilities")
    if not isinstance(items, list):
        raise FeedError(f"{source}: field 'vulnerabilities' must be a list, got {_kind(items)}")
    count = doc.get("count")
    # A truncated or hand-edited file can still be valid JSON: the count catches lost entries.
    if count is not None and count != len(items):
        raise FeedError(
            f"{source}: 'count' says {count} entries but 'vulnerabilities' holds {len(items)}; "
            "the file is incomplete, download it again"
        )
    entries: dict[str, KevEntry] = {}
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        entry = _parse_entry(item, index=index, source=source)
        if entry.cve in entries:
            raise FeedError(
                f"{source}: vulnerabilities[{index}]: {entry.cve} is listed twice "
                f"(also vulnerabilities[{first_index[entry.cve]}])"
            )
        entries[entry.cve] = entry
        first_index[entry.cve] = index
    released = doc.get("dateReleased")
    return KevCatalogue(
        entries,
        version=version.strip(),
        released=released if isinstance(released, str) else "",
        source=source,
    )


def _parse_entry(item: object, *, index: int, source: str) -> KevEntry:
    where = f"{source}: vulnerabilities[{index}]"
    if not isinstance(item, dict):
        raise FeedError(f"{where}: expected an object, got {_kind(item)}")
    cve = item.get("cveID")
    if not isinstance(cve, str) or not _CVE_RE.fullmatch(cve.strip().upper()):
        raise FeedError(f"{where}: field 'cveID' is {cve!r}, expected CVE-YYYY-NNNN")
    cve = cve.strip().upper()
    where = f"{where} ({cve})"
    texts: list[str] = []
    for name in _TEXT_FIELDS:
        value = item.get(name)
        if not isinstance(value, str):
            raise FeedError(f"{where}: field {name!r} is {value!r}, expected text")
        texts.append(value.strip())
    ransomware = item.get("knownRansomwareCampaignUse")
    if ransomware not in _RANSOMWARE:
        raise FeedError(
            f"{where}: field 'knownRansomwareCampaignUse' is {ransomware!r}, "
            "expected 'Known' or 'Unknown'"
        )
    return KevEntry(
        cve=cve,
        vendor=texts[0],
        product=texts[1],
        name=texts[2],
        date_added=_date_field(item, "dateAdded", where),
        due_date=_date_field(item, "dueDate", where),
        ransomware=_RANSOMWARE[ransomware],
    )


def _date_field(item: dict[str, Any], name: str, where: str) -> date:
    value = item.get(name)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FeedError(f"{where}: field {name!r} is {value!r}, expected a date YYYY-MM-DD")


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


_cache_lock = threading.Lock()
_file_cache: dict[Path, tuple[tuple[int, int], KevCatalogue]] = {}
_shipped: KevCatalogue | None = None


def load_kev(path: Path | None = None) -> KevCatalogue:
    """Load and validate a KEV catalogue (.json or .json.gz).

    Args:
        path: the file to read. ``None`` means settings.kev_path (``PATCHWAVE_KEV_PATH``) when
            set, else the catalogue shipped with patchwave.

    Raises:
        FeedError: the file is missing or malformed (the message names the file and entry).
    """
    if path is None:
        from patchwave.settings import get_settings

        path = get_settings().kev_path
        if path is None:
            return shipped_kev()
    return _load_file(Path(path))


def shipped_kev() -> KevCatalogue:
    """The catalogue shipped inside the package (ignores settings; parsed once per process)."""
    global _shipped
    with _cache_lock:
        if _shipped is None:
            resource = resources.files("patchwave").joinpath(SHIPPED_KEV)
            source = f"patchwave/{SHIPPED_KEV} (shipped)"
            raw = resource.read_bytes()
            _shipped = parse_kev(maybe_gunzip(raw, source=source, what="KEV"), source=source)
        return _shipped


def _load_file(path: Path) -> KevCatalogue:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FeedError(
            f"{path}: KEV file not found; check PATCHWAVE_KEV_PATH or the path"
        ) from None
    except OSError as exc:
        raise FeedError(f"{path}: cannot read the KEV file: {exc.strerror or exc}") from exc
    key = path.resolve()
    version = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _file_cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    catalogue = parse_kev(read_feed_bytes(path, what="KEV"), source=str(path))
    with _cache_lock:
        if len(_file_cache) >= 8:  # a process rarely reads more than one or two catalogues
            _file_cache.clear()
        _file_cache[key] = (version, catalogue)
    return catalogue


def fetch_kev(
    url: str = DEFAULT_KEV_URL, dest: Path | None = None, *, timeout: float = 30.0
) -> KevCatalogue:
    """Download the KEV catalogue, validate it, then atomically replace ``dest``.

    Args:
        url: where to download from (CISA's feed by default; a mirror or file:// URL works).
        dest: the local copy to replace (.json or .json.gz); default settings.kev_path.
        timeout: seconds for the connection and each read.

    Returns:
        The new catalogue. On any error ``dest`` is left untouched.

    Raises:
        FeedUnavailable: the network failed or the server answered 5xx (retryable).
        FeedError: the URL is wrong (4xx) or the content is not a valid KEV catalogue.
    """
    if dest is None:
        from patchwave.settings import get_settings

        dest = get_settings().kev_path
        if dest is None:
            raise FeedError("no destination for the KEV catalogue: set PATCHWAVE_KEV_PATH")
    data = download(url, timeout=timeout, what="KEV")
    catalogue = parse_kev(data, source=url)
    atomic_write(Path(dest), data)
    return KevCatalogue(
        catalogue, version=catalogue.version, released=catalogue.released, source=str(dest)
    )
