"""FIRST EPSS daily CSV: loading, validation errors, and use by the risk model."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from patchwave.domain.models import Advisory, Host, OsFamily, Sla
from patchwave.domain.risk import RiskModel
from patchwave.errors import UserError
from patchwave.feeds import FeedError
from patchwave.feeds.epss import EpssScores, load_epss, parse_epss
from patchwave.feeds.kev import shipped_kev

SAMPLE = Path(__file__).parents[1] / "fixtures" / "epss" / "epss_scores-sample.csv"
HEADER = "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\n"


def test_the_sample_loads_with_its_model_version_and_date() -> None:
    scores = load_epss(SAMPLE)
    assert isinstance(scores, EpssScores)
    assert len(scores) == 11
    assert scores["CVE-2025-53770"] == pytest.approx(0.84127)
    assert scores.get("cve-2024-6387") == pytest.approx(0.38234)
    assert scores.get("CVE-2000-0001") is None
    assert "CVE-2017-0144" in scores
    assert (scores.model_version, scores.score_date) == ("v2025.03.14", "2025-08-25T12:55:00Z")
    assert scores.source == str(SAMPLE)


def test_a_gzipped_file_loads_the_same(tmp_path: Path) -> None:
    zipped = tmp_path / "epss_scores-2025-08-25.csv.gz"
    zipped.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert dict(load_epss(zipped)) == dict(load_epss(SAMPLE))


def test_a_file_without_the_comment_line_is_accepted() -> None:
    scores = parse_epss(b"cve,epss,percentile\nCVE-2021-44228,0.94358,0.99955\n", source="x")
    assert dict(scores) == {"CVE-2021-44228": pytest.approx(0.94358)}
    assert scores.model_version == ""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("#model_version:v1\ncve,score\n", "line 2: expected the header 'cve,epss,percentile'"),
        ("#model_version:v1\n", "no 'cve,epss,percentile' header"),
        (HEADER + "CVE-2021-44228,0.9\n", "line 3: expected 3 fields (cve,epss,percentile), got 2"),
        (HEADER + "CVE-1,0.1,0.2\n", "line 3: 'CVE-1' is not a CVE id"),
        (HEADER + "CVE-2021-44228,1.5,0.99\n", "line 3: CVE-2021-44228: epss is '1.5', expected"),
        (HEADER + "CVE-2021-44228,high,0.99\n", "epss is 'high', expected a number from 0 to 1"),
        (HEADER + "CVE-2021-44228,nan,0.99\n", "epss is 'nan'"),
        (HEADER + "CVE-2021-44228,0.5,-1\n", "percentile is '-1'"),
        (
            HEADER + "CVE-2021-44228,0.5,0.9\n\nCVE-2021-44228,0.5,0.9\n",
            "line 5: CVE-2021-44228 is listed twice",
        ),
    ],
    ids=["header", "no-header", "fields", "cve", "range", "text", "nan", "percentile", "dup"],
)
def test_malformed_files_name_the_file_and_line(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "epss.csv"
    path.write_text(body)
    with pytest.raises(FeedError) as caught:
        load_epss(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert isinstance(caught.value, UserError)


def test_missing_and_undecodable_files_are_feed_errors(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"missing\.csv: EPSS file not found"):
        load_epss(tmp_path / "missing.csv")
    binary = tmp_path / "epss.csv"
    binary.write_bytes(b"cve,epss,percentile\n\xff\xfe\n")
    with pytest.raises(FeedError, match="not UTF-8 text"):
        load_epss(binary)


def test_the_risk_model_uses_the_loaded_scores() -> None:
    model = RiskModel(shipped_kev(), load_epss(SAMPLE))
    host = Host(tenant="acme", site="hq", name="fw01", os_family=OsFamily.DEBIAN)
    # regreSSHion is not in KEV; its EPSS (38%) lifts it by 10 points.
    advisory = Advisory(id="DSA-5724-1", vendor="debian", title="openssh", cves=("CVE-2024-6387",))
    risk = model.score(advisory, host, sla=Sla(), first_seen=date(2025, 8, 25))
    assert risk.reasons == ("EPSS 38%",)
    assert risk.score == 13
