"""``patchwave campaign validate``: summaries and exit 0 for good files, one line per problem and
exit 2 for bad ones, never a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import patchwave.cli.campaign  # noqa: F401  (registers the `campaign` commands)
from patchwave.cli import app

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "campaigns" / "bad"
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["campaign", "validate", *map(str, args)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_validate_shipped_campaigns_prints_summaries() -> None:
    code, output = run(*sorted((ROOT / "campaigns").glob("*.yaml")))
    assert code == 0
    for name in ("demo", "emergency-kev", "monthly-security"):
        assert f"ok {name} (" in output
    assert "(emergency, owner alice)" in output
    assert "CISA KEV only" in output
    assert "patch-tuesday-plus-3 (defined here" in output
    assert "halt-and-rollback" in output
    for ring in ("lab", "pilot", "broad"):
        assert ring in output
    # Ring cells wrap inside the table; check the words, not the layout.
    words = output.split()
    assert {"10%", "remaining", "auto", "tenant-admins;", "msp-leads;"} <= set(words)


def test_validate_quiet_prints_nothing_on_success() -> None:
    code, output = run("--quiet", ROOT / "campaigns" / "demo.yaml")
    assert (code, output) == (0, "")


def test_validate_bad_file_exits_2_with_file_line_and_field() -> None:
    path = BAD / "success-rate.yaml"
    code, output = run(path)
    assert code == 2
    assert f"{path}:15:25: rings[1].gate.min_success_rate: got 1.5, expected a number" in output


def test_validate_reports_every_bad_file_and_still_summarises_good_ones() -> None:
    code, output = run(
        ROOT / "campaigns" / "demo.yaml", BAD / "empty.yaml", BAD / "yaml-syntax.yaml"
    )
    assert code == 2
    assert "ok demo (" in output
    assert "empty.yaml: the file is empty" in output
    assert "yaml-syntax.yaml:5:8: invalid YAML" in output


def test_validate_missing_file_exits_2() -> None:
    code, output = run(ROOT / "campaigns" / "nope.yaml")
    assert code == 2
    assert "nope.yaml: no such file" in output


def test_validate_without_files_is_a_usage_error() -> None:
    result = runner.invoke(app, ["campaign", "validate"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
