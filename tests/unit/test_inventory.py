"""Inventory parsing: every problem names file, row/line and field; unknown OS is quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest

from patchwave.errors import InventoryError
from patchwave.inventory import load_inventory, name_key
from tests.factories import write_csv

GOOD = "acme,paris,Europe/Paris,acme-web01,debian,12,simulated,10.0.0.1,role:web,broad,high,true,,,"


def test_examples_parse_and_use_every_field() -> None:
    csv_inv = load_inventory(Path("examples/inventory.csv"))
    yaml_inv = load_inventory(Path("examples/inventory.yaml"))
    for inv in (csv_inv, yaml_inv):
        assert len(inv.hosts) == 8
        assert not inv.warnings
        recs = [r for r, _ in inv.hosts]
        assert any(r.internet_facing for r in recs) and any(r.rdp_exposed for r in recs)
        assert any(r.credential_ref and r.credential_ref.startswith("secret:") for r in recs)
        assert any(r.credential_ref and r.credential_ref.startswith("env:") for r in recs)
        assert {r.ring for r in recs} >= {"lab", "pilot", "broad"}
        assert any(r.calendar for r in recs)
    assert set(yaml_inv.calendars) == {"acme-sunday-morning"}
    assert {a.name for a in yaml_inv.approvers} == {"alice", "bob", "carol"}
    assert yaml_inv.tenants["globex"].sla.p1 == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [("DC01", "dc01"), ("dc01.", "dc01"), ("dc01.acme.lan", "dc01"), ("10.0.0.1", "10.0.0.1")],
)
def test_name_key(name: str, expected: str) -> None:
    assert name_key(name) == expected


@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        (
            GOOD.replace(",high,", ",urgent,"),
            "criticality",
            "'low', 'medium', 'high' or 'critical'",
        ),
        (GOOD.replace(",simulated,", ",telnet,"), "connector", "'simulated', 'ssh'"),
        (GOOD.replace("10.0.0.1", "not an address!"), "address", "IP address or a DNS name"),
        (GOOD.replace(",true,", ",maybe,"), "internet_facing", "true/false"),
        (GOOD.replace("role:web", "Role Web"), "tags", "lower-case"),
        (GOOD.replace("Europe/Paris", "Mars/Olympus"), "site_timezone", "already has"),
        (GOOD.replace("paris,Europe/Paris", "rome,Mars/Olympus"), "site_timezone", "IANA zone"),
        (GOOD + "hunter2", "credential_ref", "env:VAR_NAME or secret:block-name"),
        (GOOD[:-1] + "Not A Calendar,", "calendar", "calendar name"),
    ],
)
def test_bad_csv_cell_names_file_row_field(
    tmp_path: Path, row: str, field: str, expected: str
) -> None:
    first = GOOD.replace("acme-web01", "acme-ok").replace("10.0.0.1", "10.0.0.9")
    path = write_csv(tmp_path / "inv.csv", first, row)
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    msg = str(err.value)
    assert f"{path}: row 2 (line 3)" in msg
    assert field in msg and expected in msg
    assert "hunter2" not in msg  # a pasted secret is never echoed


def test_unknown_column_and_missing_required(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("tenant,site,hostname,os_family\nacme,paris,x,debian\n")
    with pytest.raises(InventoryError, match=r"line 1 \(header\): unknown column\(s\) hostname"):
        load_inventory(path)


@pytest.mark.parametrize(
    ("first", "second"),
    [("DC01", "dc01"), ("dc01", "dc01."), ("dc01", "dc01.acme.lan")],
)
def test_duplicate_hosts_are_caught(tmp_path: Path, first: str, second: str) -> None:
    path = write_csv(
        tmp_path / "inv.csv",
        GOOD.replace("acme-web01", first),
        GOOD.replace("acme-web01", second).replace("10.0.0.1", "10.0.0.2"),
    )
    with pytest.raises(InventoryError, match=r"row 2 .*duplicates 'DC01'|row 2 .*duplicates"):
        load_inventory(path)


def test_same_address_in_tenant_is_a_duplicate(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "inv.csv", GOOD, GOOD.replace("acme-web01", "acme-web02"))
    with pytest.raises(InventoryError, match=r"address 10.0.0.1 of 'acme-web02' is already used"):
        load_inventory(path)


def test_same_name_in_two_tenants_is_fine(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "inv.csv", GOOD, GOOD.replace("acme,", "globex,", 1))
    assert len(load_inventory(path).hosts) == 2


def test_unknown_os_is_quarantined_with_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "inv.csv", GOOD.replace(",debian,", ",beos,"))
    inv = load_inventory(path)
    assert len(inv.hosts) == 1
    assert "unknown OS 'beos'" in inv.warnings[0] and "quarantined" in inv.warnings[0]


def test_os_aliases(tmp_path: Path) -> None:
    rows = [
        GOOD.replace(",debian,", f",{os},")
        .replace("acme-web01", f"h{i}")
        .replace("10.0.0.1", f"10.0.0.{i + 10}")
        for i, os in enumerate(["Rocky", "sles", "Windows", "almalinux", "Ubuntu"])
    ]
    inv = load_inventory(write_csv(tmp_path / "inv.csv", *rows))
    assert not inv.warnings


def test_yaml_errors_name_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "tenants:\n"
        "  - slug: acme\n"
        "    sites:\n"
        "      - name: paris\n"
        "        hosts:\n"
        "          - {name: a1, os: debian}\n"
        "          - name: a2\n"
        "            os: debian\n"
        "            criticality: extreme\n"
    )
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert "line 7 (tenants[0].sites[0].hosts[1])" in str(err.value)
    assert "criticality" in str(err.value)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text("tenants:\n  - slug: acme\n   sites: [\n")
    with pytest.raises(InventoryError, match=r"inv.yaml:3:\d+: invalid YAML"):
        load_inventory(path)


def test_yaml_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text("tenants:\n  - slug: acme\n    colour: red\n    sites: [{name: x}]\n")
    with pytest.raises(InventoryError, match=r"line 2: field 'tenants\[0\]\.colour': unknown"):
        load_inventory(path)


def test_empty_csv_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="no hosts"):
        load_inventory(write_csv(tmp_path / "empty.csv"))
    with pytest.raises(InventoryError, match=r"expected a \.csv, \.yaml or \.yml"):
        load_inventory(tmp_path / "inv.txt")
    with pytest.raises(InventoryError, match="cannot read"):
        load_inventory(tmp_path / "missing.csv")
