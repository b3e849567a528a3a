"""The CISA KEV catalogue: the shipped copy, local files, validation errors, and fetching from
an HTTP server on loopback (the machine is offline; CISA itself is never contacted)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from patchwave.domain.models import KevEntry
from patchwave.errors import UserError, is_transient
from patchwave.feeds import FeedError, FeedUnavailable
from patchwave.feeds.epss import fetch_epss, load_epss
from patchwave.feeds.kev import KevCatalogue, fetch_kev, load_kev, parse_kev, shipped_kev
from patchwave.settings import get_settings

SHIPPED_JSON = gzip.decompress(
    resources.files("patchwave").joinpath("data/kev.json.gz").read_bytes()
)
EPSS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "epss" / "epss_scores-sample.csv"


def kev_doc(*cves: str, version: str = "2099.01.01") -> dict[str, Any]:
    """A small catalogue made of real entries copied from the shipped one."""
    by_cve = {v["cveID"]: v for v in json.loads(SHIPPED_JSON)["vulnerabilities"]}
    entries = [by_cve[cve] for cve in cves]
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": version,
        "dateReleased": "2099-01-01T00:00:00.000Z",
        "count": len(entries),
        "vulnerabilities": entries,
    }


def write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture(autouse=True)
def _no_kev_path_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PATCHWAVE_KEV_PATH", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_shipped_catalogue_is_the_real_2025_08_25_release() -> None:
    kev = load_kev()
    assert kev.version == "2025.08.25"
    assert len(kev) == 1404
    assert kev.ransomware_count == 293
    assert kev["CVE-2025-53770"] == KevEntry(
        cve="CVE-2025-53770",
        vendor="Microsoft",
        product="SharePoint",
        name="Microsoft SharePoint Deserialization of Untrusted Data Vulnerability",
        date_added=date(2025, 7, 20),
        due_date=date(2025, 7, 21),
        ransomware=True,
    )
    assert kev["CVE-2021-3156"].ransomware is False
    assert "CVE-2024-6387" not in kev  # regreSSHion was never added
    assert kev.get("CVE-2024-6387") is None


def test_the_catalogue_is_a_read_only_mapping_with_forgiving_lookups() -> None:
    kev = shipped_kev()
    assert "cve-2025-53770" in kev
    assert kev.get(" CVE-2025-53770 ") is kev["CVE-2025-53770"]
    assert 42 not in kev
    assert len(dict(kev.items())) == 1404
    assert all(cve == entry.cve for cve, entry in kev.items())
    with pytest.raises(KeyError):
        kev["CVE-2024-6387"]
    assert "2025.08.25" in repr(kev)


def test_the_default_load_is_parsed_once_per_process() -> None:
    assert load_kev() is load_kev()
    assert load_kev() is shipped_kev()


def test_settings_kev_path_overrides_the_shipped_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_json(tmp_path / "kev.json", kev_doc("CVE-2025-53770", version="2099.01.01"))
    monkeypatch.setenv("PATCHWAVE_KEV_PATH", str(path))
    get_settings.cache_clear()
    kev = load_kev()
    assert (kev.version, len(kev), kev.source) == ("2099.01.01", 1, str(path))


def test_json_and_gzipped_json_load_the_same(tmp_path: Path) -> None:
    plain = tmp_path / "kev.json"
    plain.write_bytes(SHIPPED_JSON)
    zipped = tmp_path / "kev.json.gz"
    zipped.write_bytes(gzip.compress(SHIPPED_JSON))
    # Gzip is recognised by content, so a misnamed file still loads.
    misnamed = tmp_path / "kev-download.json"
    misnamed.write_bytes(gzip.compress(SHIPPED_JSON))
    catalogues = [load_kev(plain), load_kev(zipped), load_kev(misnamed)]
    assert {c.version for c in catalogues} == {"2025.08.25"}
    assert dict(catalogues[0]) == dict(catalogues[1]) == dict(catalogues[2]) == dict(shipped_kev())


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write_json(tmp_path / "kev.json", kev_doc("CVE-2021-3156", version="2099.01.01"))
    first = load_kev(path)
    assert load_kev(path) is first
    write_json(path, kev_doc("CVE-2021-3156", "CVE-2025-53770", version="2099.01.02"))
    second = load_kev(path)
    assert (second.version, len(second)) == ("2099.01.02", 2)


def bad_entry(field_name: str, value: object) -> dict[str, Any]:
    doc = kev_doc("CVE-2021-3156", "CVE-2025-53770", "CVE-2021-44228")
    doc["vulnerabilities"][1][field_name] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([1, 2], "expected a JSON object"),
        ({"vulnerabilities": []}, "'catalogVersion' is missing"),
        ({"catalogVersion": "1", "vulnerabilities": {}}, "'vulnerabilities' must be a list"),
        ({**kev_doc("CVE-2021-3156"), "count": 7}, "'count' says 7 entries but"),
        (
            bad_entry("dueDate", "2025-13-01"),
            "vulnerabilities[1] (CVE-2025-53770): field 'dueDate'",
        ),
        (bad_entry("dateAdded", None), "field 'dateAdded' is None, expected a date YYYY-MM-DD"),
        (bad_entry("cveID", "CVE-25-1"), "vulnerabilities[1]: field 'cveID' is 'CVE-25-1'"),
        (bad_entry("knownRansomwareCampaignUse", "Yes"), "expected 'Known' or 'Unknown'"),
        (bad_entry("product", 3), "field 'product' is 3, expected text"),
        (bad_entry("cveID", "CVE-2021-3156"), "vulnerabilities[1]: CVE-2021-3156 is listed twice"),
    ],
    ids=[
        "not-object",
        "no-version",
        "not-list",
        "count",
        "due-date",
        "date-added",
        "cve-id",
        "ransomware",
        "product",
        "duplicate",
    ],
)
def test_malformed_catalogues_name_the_file_and_the_entry(
    tmp_path: Path, doc: object, expected: str
) -> None:
    path = write_json(tmp_path / "kev.json", doc)
    with pytest.raises(FeedError) as caught:
        load_kev(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)
    assert isinstance(caught.value, UserError)
    assert caught.value.exit_code == 2


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "kev.json"
    path.write_text('{\n  "catalogVersion": "1",\n  "vulnerabilities": [,]\n}')
    with pytest.raises(FeedError, match=r"not valid JSON at line 3, column 23"):
        load_kev(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x1f\x8b\x08\x00garbage", "is not valid gzip"),
        (gzip.compress(SHIPPED_JSON)[:5000], "is not valid gzip"),
        (b'{"catalogVersion": "\xe9"}', "not UTF-8 text"),
    ],
    ids=["garbage-gzip", "truncated-gzip", "not-utf8"],
)
def test_unreadable_files_are_feed_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "kev.json.gz"
    path.write_bytes(content)
    with pytest.raises(FeedError, match=expected):
        load_kev(path)


def test_a_missing_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"nope\.json: KEV file not found"):
        load_kev(tmp_path / "nope.json")


def test_parse_kev_names_its_source() -> None:
    with pytest.raises(FeedError, match=r"^https://example\.test/kev\.json: not valid JSON"):
        parse_kev(b"<html>", source="https://example.test/kev.json")


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0


@dataclass
class FeedServer:
    """A tiny HTTP server on 127.0.0.1 that serves canned answers per path."""

    routes: dict[str, Route] = field(default_factory=dict)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = state.routes.get(self.path, Route(404, b"not found"))
            time.sleep(route.delay)
            try:
                self.send_response(route.status)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_fetch_kev_downloads_validates_and_replaces(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    dest = tmp_path / "cache" / "kev.json.gz"
    feed_server.routes["/kev.json"] = Route(body=SHIPPED_JSON)
    kev = fetch_kev(feed_server.url("/kev.json"), dest)
    assert (kev.version, len(kev), kev.source) == ("2025.08.25", 1404, str(dest))
    assert gzip.decompress(dest.read_bytes()) == SHIPPED_JSON  # stored gzipped, as named
    assert load_kev(dest).version == "2025.08.25"
    assert [p.name for p in dest.parent.iterdir()] == ["kev.json.gz"]  # no temp file left


def test_fetch_kev_accepts_a_gzipped_download_and_writes_plain_json(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    dest = tmp_path / "kev.json"
    feed_server.routes["/kev.json.gz"] = Route(body=gzip.compress(SHIPPED_JSON))
    fetch_kev(feed_server.url("/kev.json.gz"), dest)
    assert dest.read_bytes() == SHIPPED_JSON


def test_fetch_kev_defaults_to_the_configured_path(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_server.routes["/kev.json"] = Route(body=SHIPPED_JSON)
    with pytest.raises(FeedError, match="set PATCHWAVE_KEV_PATH"):
        fetch_kev(feed_server.url("/kev.json"))
    monkeypatch.setenv("PATCHWAVE_KEV_PATH", str(tmp_path / "kev.json"))
    get_settings.cache_clear()
    fetch_kev(feed_server.url("/kev.json"))
    assert load_kev().version == "2025.08.25"


def test_a_bad_download_leaves_the_old_catalogue_in_place(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    dest = write_json(tmp_path / "kev.json", kev_doc("CVE-2021-3156"))
    before = dest.read_bytes()
    truncated = SHIPPED_JSON[: len(SHIPPED_JSON) // 2]
    feed_server.routes["/kev.json"] = Route(body=truncated)
    with pytest.raises(FeedError, match=r"127\.0\.0\.1.*/kev\.json: not valid JSON"):
        fetch_kev(feed_server.url("/kev.json"), dest)
    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["kev.json"]


@pytest.mark.parametrize(
    ("route", "error", "expected"),
    [
        (Route(404, b"gone"), FeedError, "HTTP 404"),
        (Route(503, b"busy"), FeedUnavailable, "HTTP 503"),
        (Route(200, b"{}", delay=1.0), FeedUnavailable, "timed out"),
    ],
    ids=["404", "503", "timeout"],
)
def test_http_failures_are_classified_for_retries(
    tmp_path: Path, feed_server: FeedServer, route: Route, error: type[Exception], expected: str
) -> None:
    feed_server.routes["/kev.json"] = route
    with pytest.raises(error, match=expected) as caught:
        fetch_kev(feed_server.url("/kev.json"), tmp_path / "kev.json", timeout=0.2)
    assert is_transient(caught.value) is (error is FeedUnavailable)
    assert not (tmp_path / "kev.json").exists()


def test_an_unreachable_server_is_transient(tmp_path: Path) -> None:
    with socket.socket() as sock:  # take a free port, then let it go: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FeedUnavailable, match="cannot download KEV"):
        fetch_kev(f"http://127.0.0.1:{port}/kev.json", tmp_path / "kev.json", timeout=2)


def test_only_http_https_and_file_urls_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="unsupported KEV URL"):
        fetch_kev("ftp://example.test/kev.json", tmp_path / "kev.json")
    source = tmp_path / "mirror.json"
    source.write_bytes(SHIPPED_JSON)
    assert len(fetch_kev(source.as_uri(), tmp_path / "kev.json")) == 1404


def test_fetch_epss_downloads_validates_and_replaces(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    dest = tmp_path / "epss.csv.gz"
    feed_server.routes["/epss.csv.gz"] = Route(body=gzip.compress(EPSS_SAMPLE.read_bytes()))
    scores = fetch_epss(feed_server.url("/epss.csv.gz"), dest)
    assert scores["CVE-2025-53770"] == pytest.approx(0.84127)
    assert dict(load_epss(dest)) == dict(scores)

    feed_server.routes["/broken.csv"] = Route(body=b"<html>maintenance</html>")
    with pytest.raises(FeedError, match="expected the header"):
        fetch_epss(feed_server.url("/broken.csv"), dest)
    assert dict(load_epss(dest)) == dict(scores)


def test_catalogue_built_in_code_behaves_like_a_loaded_one() -> None:
    entry = shipped_kev()["CVE-2021-3156"]
    kev = KevCatalogue({"cve-2021-3156".upper(): entry}, version="test")
    assert kev.get("CVE-2021-3156") is entry
    assert list(kev) == ["CVE-2021-3156"]
