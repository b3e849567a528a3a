"""The demo fleet generator: deterministic, realistic proportions, importable as an inventory."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from patchwave.calendars import SHIPPED_CALENDARS
from patchwave.domain.models import OsFamily
from patchwave.endpoints import catalogue
from patchwave.fleetgen import INVENTORY_COLUMNS, GeneratedFleet, generate_fleet
from patchwave.inventory import CSV_COLUMNS, load_inventory, name_key

NAME = re.compile(r"^[a-z0-9]+-((ws|lt)-\d{4}|[a-z0-9]+\d{2,})$")


@pytest.fixture(scope="module")
def big() -> GeneratedFleet:
    return generate_fleet(hosts=10_000, tenants=40, seed=7)


def test_same_arguments_same_fleet_and_seed_matters() -> None:
    a = generate_fleet(hosts=300, tenants=5, seed=1)
    assert a == generate_fleet(hosts=300, tenants=5, seed=1)
    other = generate_fleet(hosts=300, tenants=5, seed=2)
    assert a.hosts != other.hosts
    assert a.seed == 1


def test_counts_and_structure(big: GeneratedFleet) -> None:
    assert len(big.hosts) == 10_000
    assert len(big.tenants) == 40
    assert len({t.slug for t in big.tenants}) == 40
    sites = Counter(s.tenant for s in big.sites)
    assert set(sites.values()) <= {1, 2, 3}
    assert len(set(sites.values())) > 1
    site_keys = {(s.tenant, s.name) for s in big.sites}
    assert {(h.tenant, h.site) for h in big.hosts} == site_keys  # every site has hosts
    for zone in {t.timezone for t in big.tenants} | {s.timezone for s in big.sites}:
        ZoneInfo(zone)
    assert {"Europe/Paris", "America/New_York", "Europe/Berlin", "Australia/Sydney"} <= {
        t.timezone for t in big.tenants
    }
    per_tenant = Counter(h.tenant for h in big.hosts)
    assert min(per_tenant.values()) >= 1
    assert max(per_tenant.values()) > 2 * min(per_tenant.values())  # clients differ in size


def test_names_and_addresses_are_realistic_and_unique_per_tenant(big: GeneratedFleet) -> None:
    names = [(h.tenant, name_key(h.name)) for h in big.hosts]
    assert len(set(names)) == len(names)
    addresses = [(h.tenant, h.address) for h in big.hosts]
    assert len(set(addresses)) == len(addresses)
    for host in big.hosts:
        assert NAME.match(host.name), host.name
        assert host.address is not None
        assert ipaddress.ip_address(host.address) in ipaddress.ip_network("10.0.0.0/8")
    acme = [h.name for h in big.hosts if h.tenant == "acme"]
    assert any(re.match(r"^acme-dc\d{2}$", n) for n in acme)
    assert any(re.match(r"^acme-ws-\d{4}$", n) for n in acme)


def test_os_mix_rings_and_exposure(big: GeneratedFleet) -> None:
    n = len(big.hosts)
    families = Counter(h.os_family for h in big.hosts)
    assert 0.55 <= families[OsFamily.WINDOWS] / n <= 0.65
    assert 0.21 <= (families[OsFamily.DEBIAN] + families[OsFamily.UBUNTU]) / n <= 0.29
    assert 0.09 <= families[OsFamily.RHEL] / n <= 0.15
    assert 0.015 <= families[OsFamily.SUSE] / n <= 0.045
    rings = Counter(h.ring for h in big.hosts)
    assert 0.04 <= rings["lab"] / n <= 0.06
    assert 0.09 <= rings["pilot"] / n <= 0.11
    assert rings["lab"] + rings["pilot"] + rings["broad"] == n
    assert 0.06 <= sum(h.internet_facing for h in big.hosts) / n <= 0.10
    win = [h for h in big.hosts if h.os_family is OsFamily.WINDOWS]
    assert 0.02 <= sum(h.rdp_exposed for h in win) / len(win) <= 0.04
    assert all(h.internet_facing for h in big.hosts if h.rdp_exposed)
    assert not any(h.rdp_exposed for h in big.hosts if h.os_family is not OsFamily.WINDOWS)
    assert 0 < sum("no-patch" in h.tags for h in big.hosts) < 0.03 * n
    assert any("distro:rocky" in h.tags for h in big.hosts)


def test_ring_tags_and_what_never_goes_in_a_test_ring(big: GeneratedFleet) -> None:
    for host in big.hosts:
        assert (host.ring in ("lab", "pilot")) == (host.ring in host.tags)
        assert sum(t.startswith("role:") for t in host.tags) == 1
        if host.ring != "broad":
            assert not host.tags & {"role:dc", "role:sql", "role:exchange", "role:db"}
        if host.ring == "lab":
            assert host.criticality.value == "low"
            assert host.calendar == "always"
    for tenant in big.tenants:
        rings = {h.ring for h in big.hosts if h.tenant == tenant.slug}
        assert {"lab", "pilot", "broad"} <= rings  # every client has its own test rings


def test_every_host_is_simulated_with_findings(big: GeneratedFleet) -> None:
    for host in big.hosts:
        assert host.connector.value == "simulated"
        assert catalogue.platform_key(host.os_family, host.os_version) is not None, host
        assert host.calendar in SHIPPED_CALENDARS
        assert host.credential_ref is not None
        assert host.credential_ref.startswith("secret:")
    roles = Counter(t for h in big.hosts for t in h.tags if t.startswith("role:"))
    assert roles["role:sql"] and roles["role:sharepoint"] and roles["role:exchange"]


def test_inventory_rows_use_the_inventory_columns(big: GeneratedFleet) -> None:
    assert INVENTORY_COLUMNS == CSV_COLUMNS
    rows = big.to_inventory_rows()
    assert len(rows) == len(big.hosts)
    assert all(tuple(row) == INVENTORY_COLUMNS for row in rows)
    first, host = rows[0], big.hosts[0]
    assert first["tags"] == ";".join(sorted(host.tags))
    assert first["internet_facing"] in ("true", "false")


def test_the_csv_imports_cleanly(tmp_path: Path) -> None:
    generated = generate_fleet(hosts=400, tenants=6, seed=3)
    inv = load_inventory(generated.write_csv(tmp_path / "inventory.csv"))
    assert len(inv.hosts) == 400
    assert inv.warnings == []
    assert set(inv.tenants) == {t.slug for t in generated.tenants}
    record, _ = inv.hosts[0]
    host = generated.hosts[0]
    assert (record.name, record.os_version, record.ring) == (host.name, host.os_version, host.ring)
    assert inv.sites[(host.tenant, host.site)].timezone == next(
        s.timezone for s in generated.sites if (s.tenant, s.name) == (host.tenant, host.site)
    )


def test_many_tenants_and_small_fleets() -> None:
    many = generate_fleet(hosts=600, tenants=500, seed=9)
    assert len({t.slug for t in many.tenants}) == 500
    assert len(many.hosts) == 600
    tiny = generate_fleet(hosts=1, tenants=1, seed=0)
    assert len(tiny.hosts) == 1
    with pytest.raises(ValueError, match="at least"):
        generate_fleet(hosts=2, tenants=3, seed=0)
    with pytest.raises(ValueError, match="tenants"):
        generate_fleet(hosts=5, tenants=0, seed=0)
