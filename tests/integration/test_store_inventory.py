"""The store on SQLite and PostgreSQL: inventory import is atomic and idempotent; audit chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from patchwave.errors import InventoryError
from patchwave.inventory import load_inventory
from patchwave.store import Store
from patchwave.store.audit import AuditEvent, append, verify
from patchwave.store.inventory_repo import apply_inventory, find_host, list_hosts, load_tenants
from patchwave.store.tables import AuditEventRow, HostRow
from tests.factories import write_csv


def _count(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(HostRow)) or 0)


def test_import_examples_twice_changes_nothing(store: Store) -> None:
    inv = load_inventory(Path("examples/inventory.yaml"))
    with store.session() as s:
        first = apply_inventory(s, inv)
    with store.session() as s:
        stamps = sorted(h.updated_at for h in s.scalars(select(HostRow)))
    with store.session() as s:
        second = apply_inventory(s, inv)
    assert (first.created, first.updated) == (8, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 8)
    with store.session() as s:
        assert sorted(h.updated_at for h in s.scalars(select(HostRow))) == stamps
        tenants = load_tenants(s)
        assert tenants["globex"].sla.p1_days == 3
        assert tenants["acme"].slack_channel == "#acme-patching"
        assert [h.name for h in list_hosts(s, tags=["lab"])] == ["acme-lab01", "globex-lab01"]
        assert find_host(s, "ACME-DC01").name == "acme-dc01.acme.lan"


def test_reimport_updates_changed_host(store: Store, tmp_path: Path) -> None:
    row = "acme,paris,UTC,web1,debian,12,simulated,10.0.0.1,,broad,high,,,,"
    with store.session() as s:
        apply_inventory(s, load_inventory(write_csv(tmp_path / "a.csv", row)))
    changed = write_csv(tmp_path / "b.csv", row.replace(",high,", ",critical,"))
    with store.session() as s:
        summary = apply_inventory(s, load_inventory(changed))
    assert (summary.created, summary.updated) == (0, 1)
    with store.session() as s:
        assert list_hosts(s)[0].criticality == "critical"


def test_address_clash_with_stored_host_rolls_back_everything(store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        apply_inventory(
            s,
            load_inventory(
                write_csv(tmp_path / "a.csv", "acme,paris,UTC,web1,debian,12,,10.0.0.1,,,,,,,")
            ),
        )
    clash = write_csv(
        tmp_path / "b.csv",
        "acme,paris,UTC,web2,debian,12,,10.0.0.2,,,,,,,",
        "acme,paris,UTC,web3,debian,12,,10.0.0.1,,,,,,,",
    )
    with pytest.raises(InventoryError, match="belongs to host 'web1'"), store.session() as s:
        apply_inventory(s, load_inventory(clash))
    assert _count(store) == 1  # web2 was not half-imported


def test_audit_chain_detects_edit_delete_reorder(store: Store) -> None:
    with store.session() as s:
        append(s, [AuditEvent(actor="alice", action=f"a{i}", details={"i": i}) for i in range(5)])
    with store.session() as s:
        append(s, [AuditEvent(actor="bob", action="later")])
    with store.session() as s:
        report = verify(s)
    assert report.ok and report.events == 6

    with store.session() as s:
        s.execute(update(AuditEventRow).where(AuditEventRow.seq == 3).values(actor="mallory"))
        bad = verify(s)
        assert not bad.ok and any("row 3: content was edited" in p for p in bad.problems)
        s.rollback()

    with store.session() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 2"))
        bad = verify(s)
        assert any("rows 2..2 are missing" in p for p in bad.problems)
        s.rollback()

    with store.session() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 6"))
        bad = verify(s)
        assert any("newest rows after 5 are missing" in p for p in bad.problems)
        s.rollback()

    with store.session() as s:  # swap two rows' contents: a reorder
        r4, r5 = s.get(AuditEventRow, 4), s.get(AuditEventRow, 5)
        assert r4 is not None and r5 is not None
        fields = ("at", "actor", "action", "details", "prev_hash", "hash")
        v4 = {f: getattr(r4, f) for f in fields}
        v5 = {f: getattr(r5, f) for f in fields}
        for f in fields:
            setattr(r4, f, v5[f])
            setattr(r5, f, v4[f])
        s.flush()
        bad = verify(s)
        assert not bad.ok and any("row 4" in p for p in bad.problems)
        s.rollback()
