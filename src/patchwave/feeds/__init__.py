"""Vulnerability feeds (I/O): the CISA KEV catalogue and FIRST EPSS scores.

Loaders read a local file (plain or gzipped, detected by content, not by name) and validate
every entry; a bad file raises :class:`FeedError` naming the file and the entry. Fetchers
download with a timeout, validate, and only then replace the local copy, so a broken download
never destroys a good catalogue.
"""

from __future__ import annotations

import gzip
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from patchwave.errors import PatchwaveError, Transient, UserError

__all__ = [
    "FeedError",
    "FeedUnavailable",
    "atomic_write",
    "download",
    "maybe_gunzip",
    "read_feed_bytes",
]

_GZIP_MAGIC = b"\x1f\x8b"
_ALLOWED_SCHEMES = ("http://", "https://", "file://")
# Real feeds are a few MB (EPSS ~10 MB unzipped); refuse anything absurd rather than fill RAM.
_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024


class FeedError(UserError):
    """A feed file or download is malformed or unusable; the message names the file and entry."""


class FeedUnavailable(Transient, PatchwaveError):
    """A feed could not be downloaded right now (timeout, refused, HTTP 5xx); worth retrying."""


def read_feed_bytes(path: Path, *, what: str) -> bytes:
    """The content of ``path``, gunzipped when it is gzip data."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FeedError(f"{path}: {what} file not found; check the path") from None
    except OSError as exc:
        raise FeedError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from exc
    return maybe_gunzip(raw, source=str(path), what=what)


def maybe_gunzip(raw: bytes, *, source: str, what: str) -> bytes:
    """``raw`` itself, or its gunzipped content when it starts with the gzip magic."""
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise FeedError(
            f"{source}: the {what} file is not valid gzip ({exc}); download it again"
        ) from exc


def download(url: str, *, timeout: float, what: str) -> bytes:
    """GET ``url`` and return its body, gunzipped when it is gzip data.

    Network trouble and HTTP 5xx raise :class:`FeedUnavailable` (retryable); a bad URL or an
    HTTP 4xx raises :class:`FeedError` (retrying will not help).
    """
    if not url.startswith(_ALLOWED_SCHEMES):
        raise FeedError(f"{url}: unsupported {what} URL; use http://, https:// or file://")
    request = urllib.request.Request(url, headers={"User-Agent": "patchwave-feeds"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(_MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        message = f"{url}: {what} download failed with HTTP {exc.code} {exc.reason}"
        if exc.code >= 500:
            raise FeedUnavailable(message + "; try again later") from exc
        raise FeedError(message + "; check the URL") from exc
    except urllib.error.URLError as exc:
        raise FeedUnavailable(f"{url}: cannot download {what}: {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FeedUnavailable(f"{url}: cannot download {what}: {exc}") from exc
    if len(body) > _MAX_DOWNLOAD_BYTES:
        raise FeedError(f"{url}: {what} download is larger than {_MAX_DOWNLOAD_BYTES} bytes")
    return maybe_gunzip(body, source=url, what=what)


def atomic_write(dest: Path, data: bytes) -> None:
    """Write ``data`` to ``dest`` (gzipped when ``dest`` ends in .gz) via a temporary file and
    a rename, so readers see either the old file or the new one, never half of one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    payload = gzip.compress(data, mtime=0) if dest.name.endswith(".gz") else data
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; a feed cache is public data other users may read.
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
