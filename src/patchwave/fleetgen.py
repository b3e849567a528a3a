"""A deterministic demo inventory: tenants, sites and hosts that look like an MSP's book.

``generate_fleet(hosts=200, tenants=3, seed=7)`` always returns the same fleet for the same
arguments: realistic names (``acme-dc01``, ``acme-web02``, ``acme-ws-0231``), an OS mix of
about 60% Windows (servers and workstations), 25% Debian/Ubuntu, 12% RHEL/Rocky and 3% SUSE,
test rings (about 5% lab, 10% pilot, the rest broad), criticality, exposure (about 8%
internet-facing, about 3% of Windows hosts with RDP exposed), role tags and a few ``no-patch``
hosts. Every host uses the simulated connector. ``to_inventory_rows()`` gives the rows of an
inventory CSV that ``patchwave inventory import`` accepts.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from patchwave.domain.models import Connector, Criticality, Host, OsFamily, Site, Tenant
from patchwave.inventory import CSV_COLUMNS

__all__ = ["INVENTORY_COLUMNS", "GeneratedFleet", "generate_fleet"]

# The columns of an inventory CSV: generated fleets import like any other inventory.
INVENTORY_COLUMNS = CSV_COLUMNS

# fmt: off
# (slug, name, host-name prefix, home zone)
_COMPANIES = (
    ("acme", "ACME Manufacturing", "acme", "Europe/Paris"),
    ("globex", "Globex Corporation", "globex", "America/New_York"),
    ("bergmann", "Bergmann Maschinenbau GmbH", "bmb", "Europe/Berlin"),
    ("harbourview", "Harbourview Dental Group", "hvd", "Australia/Sydney"),
    ("wingtip", "Wingtip Hotels", "wingtip", "UTC"),
    ("durand", "Cabinet Durand Avocats", "durand", "Europe/Paris"),
    ("northwind", "Northwind Traders", "nwt", "America/New_York"),
    ("fabrikam", "Fabrikam Logistik", "fab", "Europe/Berlin"),
    ("proseware", "Proseware Health", "prose", "Australia/Sydney"),
    ("litware", "Litware Software", "litware", "UTC"),
    ("contoso", "Contoso Pharmaceuticals", "contoso", "Europe/London"),
    ("initech", "Initech", "initech", "America/Chicago"),
    ("tailspin", "Tailspin Toys", "tailspin", "America/Los_Angeles"),
    ("moreau", "Moreau Transports", "moreau", "Europe/Paris"),
    ("lucerne", "Lucerne Verlag", "lucerne", "Europe/Berlin"),
    ("woodgrove", "Woodgrove Bank", "wgb", "America/New_York"),
    ("kookaburra", "Kookaburra Freight", "kook", "Australia/Sydney"),
    ("treyresearch", "Trey Research", "trey", "UTC"),
)
_WORDS = ("alder", "birch", "cedar", "delta", "ember", "falcon", "granite", "harbor", "iris",
          "juniper", "kestrel", "lumen", "maple", "nimbus", "orion", "pioneer", "quarry",
          "raven", "summit", "tundra", "vertex", "willow", "yarrow", "zephyr")
_SECTORS = ("logistics", "dental", "legal", "engineering", "retail", "clinics", "foods", "media",
            "finance", "builders", "labs", "hotels", "schools", "energy")
_ZONES = ("Europe/Paris", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC",
          "Europe/London", "America/Chicago", "America/Los_Angeles")
# Offices per home zone: (site name, zone); a zone's first entry is the head office.
_OFFICES = {
    "Europe/Paris": (("paris", "Europe/Paris"), ("lyon", "Europe/Paris"),
                     ("lille", "Europe/Paris")),
    "America/New_York": (("nyc", "America/New_York"), ("boston", "America/New_York"),
                         ("chicago", "America/Chicago")),
    "Europe/Berlin": (("berlin", "Europe/Berlin"), ("munich", "Europe/Berlin"),
                      ("vienna", "Europe/Vienna")),
    "Australia/Sydney": (("sydney", "Australia/Sydney"), ("melbourne", "Australia/Melbourne"),
                         ("brisbane", "Australia/Brisbane")),
    "UTC": (("london", "Europe/London"), ("dublin", "Europe/Dublin"), ("lisbon", "Europe/Lisbon")),
    "Europe/London": (("london", "Europe/London"), ("manchester", "Europe/London"),
                      ("edinburgh", "Europe/London")),
    "America/Chicago": (("chicago", "America/Chicago"), ("dallas", "America/Chicago"),
                        ("denver", "America/Denver")),
    "America/Los_Angeles": (("seattle", "America/Los_Angeles"), ("sf", "America/Los_Angeles"),
                            ("phoenix", "America/Phoenix")),
}
_CLOUD = (("azure-westeurope", "UTC"), ("aws-us-east-1", "UTC"), ("dc1", "UTC"))
_CALENDARS = (("patch-tuesday-plus-3", 0.6), ("weekend-nights", 0.25), ("weekday-nights", 0.15))

# (role, host-name stem, weight, internet-facing probability)
_WIN_SERVER_ROLES = (
    ("dc", "dc", 0.14, 0.0), ("file", "fs", 0.12, 0.0), ("app", "app", 0.24, 0.01),
    ("sql", "sql", 0.12, 0.0), ("web", "iis", 0.08, 0.25), ("rds", "rds", 0.06, 0.3),
    ("print", "print", 0.05, 0.0), ("sharepoint", "sp", 0.04, 0.2),
    ("exchange", "exch", 0.03, 0.8), ("backup", "bkp", 0.12, 0.0),
)
_LINUX_ROLES = (
    ("web", "web", 0.22, 0.2), ("db", "db", 0.15, 0.0), ("app", "app", 0.2, 0.01),
    ("lb", "lb", 0.05, 0.6), ("mail", "mail", 0.03, 0.5), ("monitoring", "mon", 0.1, 0.0),
    ("k8s", "k8s", 0.2, 0.0), ("bastion", "bastion", 0.05, 0.8),
)
_CRITICAL_ROLES = frozenset({"dc", "sql", "db", "exchange", "sharepoint"})
_NEVER_IN_TEST_RINGS = frozenset({"dc", "sql", "db", "exchange", "sharepoint"})
# fmt: on


@dataclass(frozen=True, slots=True)
class GeneratedFleet:
    seed: int
    tenants: tuple[Tenant, ...]
    sites: tuple[Site, ...]
    hosts: tuple[Host, ...]

    def to_inventory_rows(self) -> list[dict[str, str]]:
        """One dict per host with the inventory CSV columns (``INVENTORY_COLUMNS``)."""
        tenants = {t.slug: t for t in self.tenants}
        zones = {(s.tenant, s.name): s.timezone for s in self.sites}
        return [
            {
                "tenant": h.tenant,
                "tenant_name": tenants[h.tenant].name,
                "site": h.site,
                "site_timezone": zones[(h.tenant, h.site)],
                "name": h.name,
                "os_family": h.os_family.value,
                "os_version": h.os_version,
                "connector": h.connector.value,
                "address": h.address or "",
                "tags": ";".join(sorted(h.tags)),
                "ring": h.ring or "",
                "criticality": h.criticality.value,
                "internet_facing": "true" if h.internet_facing else "false",
                "rdp_exposed": "true" if h.rdp_exposed else "false",
                "calendar": h.calendar or "",
                "credential_ref": h.credential_ref or "",
            }
            for h in self.hosts
        ]

    def write_csv(self, path: Path) -> Path:
        """Write the inventory CSV (``patchwave inventory import PATH`` reads it back)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=INVENTORY_COLUMNS)
            writer.writeheader()
            writer.writerows(self.to_inventory_rows())
        return path


def _pick(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _tenant_identities(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    named = list(_COMPANIES)
    composed = [
        (f"{w}-{s}", f"{w.capitalize()} {s.capitalize()}", w, rng.choice(_ZONES))
        for w in _WORDS
        for s in _SECTORS
    ]
    rng.shuffle(composed)
    pool = named + composed
    out = []
    for i in range(count):
        slug, name, prefix, zone = pool[i % len(pool)]
        if i >= len(pool):  # more tenants than names: number the repeats
            n = i // len(pool) + 1
            slug, name, prefix = f"{slug}-{n}", f"{name} {n}", f"{prefix}{n}"
        out.append((slug, name, prefix, zone))
    return out


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """Split ``total`` hosts over ``parts`` tenants, unevenly (a few large clients) but with
    at least one host each."""
    weights = [rng.lognormvariate(0.0, 0.8) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in sorted(range(parts), key=lambda i: -weights[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


def generate_fleet(*, hosts: int, tenants: int, seed: int) -> GeneratedFleet:
    """A deterministic demo fleet of ``hosts`` hosts spread over ``tenants`` tenants."""
    if tenants < 1:
        raise ValueError("tenants must be >= 1")
    if hosts < tenants:
        raise ValueError(f"hosts ({hosts}) must be at least tenants ({tenants})")
    rng = random.Random(seed)
    out_tenants: list[Tenant] = []
    out_sites: list[Site] = []
    out_hosts: list[Host] = []
    identities = _tenant_identities(rng, tenants)
    for (slug, name, prefix, zone), count in zip(
        identities, _split(rng, hosts, tenants), strict=True
    ):
        out_tenants.append(
            Tenant(
                slug, name, zone, calendar="patch-tuesday-plus-3", slack_channel=f"#patch-{slug}"
            )
        )
        sites = _sites(rng, slug, zone, count)
        out_sites.extend(sites)
        out_hosts.extend(_tenant_hosts(rng, slug, prefix, sites, count))
    return GeneratedFleet(seed, tuple(out_tenants), tuple(out_sites), tuple(out_hosts))


def _sites(rng: random.Random, slug: str, zone: str, hosts: int) -> list[Site]:
    wanted = min(hosts, rng.choices((1, 2, 3), weights=(0.45, 0.35, 0.2))[0])
    offices = list(_OFFICES[zone])
    chosen = [offices[0]]
    if wanted >= 2:
        chosen.append(rng.choice(_CLOUD) if rng.random() < 0.4 else offices[1])
    if wanted == 3:
        chosen.append(offices[2])
    return [Site(slug, name, tz, calendar=_pick(rng, _CALENDARS)) for name, tz in chosen]


@dataclass(slots=True)
class _Draft:
    name: str
    family: OsFamily
    version: str
    role: str
    exposed_p: float
    tags: set[str]
    server: bool


def _draft(rng: random.Random, prefix: str, counters: dict[str, int]) -> _Draft:
    def named(stem: str) -> str:
        counters[stem] = counters.get(stem, 0) + 1
        return f"{prefix}-{stem}{counters[stem]:02d}"

    r = rng.random()
    if r < 0.60:
        if rng.random() < 0.40:
            version = _pick(rng, (("Server 2016", 0.1), ("Server 2019", 0.3),
                                  ("Server 2022", 0.45), ("Server 2025", 0.15)))  # fmt: skip
            role, stem, _, exposed = rng.choices(
                _WIN_SERVER_ROLES, weights=[w for _, _, w, _ in _WIN_SERVER_ROLES]
            )[0]
            return _Draft(named(stem), OsFamily.WINDOWS, version, role, exposed, set(), True)
        version = _pick(rng, (("10 22H2", 0.35), ("11 23H2", 0.25), ("11 24H2", 0.4)))
        kind = "lt" if rng.random() < 0.4 else "ws"
        # Asset numbers rather than counters: workstation names have gaps in real fleets.
        counters[kind] = counters.get(kind, rng.randint(100, 400)) + rng.randint(1, 3)
        name = f"{prefix}-{kind}-{counters[kind]:04d}"
        return _Draft(name, OsFamily.WINDOWS, version, "workstation", 0.0, set(), False)
    tags: set[str] = set()
    if r < 0.72:
        family, version = OsFamily.DEBIAN, _pick(rng, (("12", 0.7), ("11", 0.3)))
    elif r < 0.85:
        family, version = OsFamily.UBUNTU, _pick(rng, (("22.04", 0.55), ("24.04", 0.45)))
    elif r < 0.97:
        family = OsFamily.RHEL
        version = _pick(rng, (("9.5", 0.4), ("9.4", 0.25), ("8.10", 0.35)))
        if rng.random() < 0.4:
            tags.add("distro:rocky")
    else:
        family, version = OsFamily.SUSE, _pick(rng, (("15 SP6", 0.7), ("15 SP5", 0.3)))
    role, stem, _, exposed = rng.choices(_LINUX_ROLES, weights=[w for _, _, w, _ in _LINUX_ROLES])[
        0
    ]
    return _Draft(named(stem), family, version, role, exposed, tags, True)


def _tenant_hosts(
    rng: random.Random, slug: str, prefix: str, sites: list[Site], count: int
) -> list[Host]:
    counters: dict[str, int] = {}
    drafts = [_draft(rng, prefix, counters) for _ in range(count)]
    # Rings per tenant, so every client proves patches on its own lab and pilot machines.
    eligible = [i for i, d in enumerate(drafts) if d.role not in _NEVER_IN_TEST_RINGS]
    rng.shuffle(eligible)
    n_lab = max(1, round(0.05 * count)) if count >= 5 else 0
    n_pilot = max(1, round(0.10 * count)) if count >= 3 else 0
    rings = dict.fromkeys(eligible[:n_lab], "lab")
    rings.update(dict.fromkeys(eligible[n_lab : n_lab + n_pilot], "pilot"))
    site_weights = (0.6, 0.25, 0.15)[: len(sites)]
    per_site: dict[str, int] = {}
    out = []
    for i, d in enumerate(drafts):
        # Every site gets at least one host; the head office gets most.
        site = sites[i] if i < len(sites) else rng.choices(sites, weights=site_weights)[0]
        ring = rings.get(i, "broad")
        windows = d.family is OsFamily.WINDOWS
        rdp = windows and d.server and (d.role == "rds" or rng.random() < 0.04)
        facing = (rdp and rng.random() < 0.6) or rng.random() < d.exposed_p
        rdp = rdp and facing  # "RDP exposed" means reachable from the internet
        tags = {f"role:{d.role}", *d.tags}
        if ring != "broad":
            tags.add(ring)
        if d.server and ring == "broad" and rng.random() < 0.015:
            tags.add("no-patch")  # e.g. a vendor-certified appliance the client may not touch
        k = per_site.get(site.name, 0)
        per_site[site.name] = k + 1
        octet2 = 10 + 40 * sites.index(site) + k // (256 * 254)
        out.append(
            Host(
                tenant=slug,
                site=site.name,
                name=d.name,
                os_family=d.family,
                os_version=d.version,
                connector=Connector.SIMULATED,
                address=f"10.{octet2}.{(k // 254) % 256}.{k % 254 + 1}",
                tags=frozenset(tags),
                ring=ring,
                criticality=_criticality(rng, d.role, ring),
                internet_facing=facing,
                rdp_exposed=rdp,
                calendar="always" if ring == "lab" else site.calendar,
                credential_ref=f"secret:{slug}-{'winrm' if windows else 'ssh'}",
            )
        )
    return out


def _criticality(rng: random.Random, role: str, ring: str) -> Criticality:
    if ring == "lab":
        return Criticality.LOW
    if role in _CRITICAL_ROLES:
        return Criticality.CRITICAL if rng.random() < 0.7 else Criticality.HIGH
    if role == "workstation":
        return Criticality.LOW if rng.random() < 0.8 else Criticality.MEDIUM
    return Criticality.HIGH if rng.random() < 0.4 else Criticality.MEDIUM
