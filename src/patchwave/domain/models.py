"""Domain nouns shared by every layer: tenants, hosts, advisories, findings and host-job states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class OsFamily(StrEnum):
    WINDOWS = "windows"
    DEBIAN = "debian"
    UBUNTU = "ubuntu"
    RHEL = "rhel"
    SUSE = "suse"
    UNKNOWN = "unknown"

    @property
    def package_manager(self) -> str | None:
        return _PACKAGE_MANAGERS.get(self)

    @property
    def is_linux(self) -> bool:
        return self in (OsFamily.DEBIAN, OsFamily.UBUNTU, OsFamily.RHEL, OsFamily.SUSE)


_PACKAGE_MANAGERS = {
    OsFamily.WINDOWS: "wua",
    OsFamily.DEBIAN: "apt",
    OsFamily.UBUNTU: "apt",
    OsFamily.RHEL: "dnf",
    OsFamily.SUSE: "zypper",
}

# os-release IDs and common spellings mapped to the family whose package manager they use.
OS_ALIASES: dict[str, OsFamily] = {
    "windows": OsFamily.WINDOWS,
    "win": OsFamily.WINDOWS,
    "windows-server": OsFamily.WINDOWS,
    "debian": OsFamily.DEBIAN,
    "raspbian": OsFamily.DEBIAN,
    "ubuntu": OsFamily.UBUNTU,
    "rhel": OsFamily.RHEL,
    "redhat": OsFamily.RHEL,
    "centos": OsFamily.RHEL,
    "rocky": OsFamily.RHEL,
    "almalinux": OsFamily.RHEL,
    "alma": OsFamily.RHEL,
    "ol": OsFamily.RHEL,
    "oracle": OsFamily.RHEL,
    "fedora": OsFamily.RHEL,
    "amzn": OsFamily.RHEL,
    "suse": OsFamily.SUSE,
    "sles": OsFamily.SUSE,
    "sled": OsFamily.SUSE,
    "opensuse": OsFamily.SUSE,
    "opensuse-leap": OsFamily.SUSE,
    "opensuse-tumbleweed": OsFamily.SUSE,
}


def parse_os_family(value: str) -> OsFamily:
    """Map a spelling ("Rocky", "sles", "Windows") to a family; UNKNOWN when not recognised."""
    key = value.strip().lower().replace(" ", "-").replace("_", "-")
    return OS_ALIASES.get(key, OsFamily.UNKNOWN)


class Connector(StrEnum):
    SIMULATED = "simulated"
    SSH = "ssh"
    WINDOWS = "windows"
    LOCAL = "local"


class Criticality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Classification(StrEnum):
    SECURITY = "security"
    CRITICAL = "critical"
    BUGFIX = "bugfix"
    FEATURE = "feature"
    DRIVER = "driver"
    FIRMWARE = "firmware"
    DEFINITION = "definition"


class Severity(StrEnum):
    """Vendor severity, normalised (Microsoft Important = Red Hat Important = Debian high)."""

    CRITICAL = "critical"
    IMPORTANT = "important"
    MODERATE = "moderate"
    LOW = "low"
    UNSPECIFIED = "unspecified"


SEVERITY_ALIASES: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "important": Severity.IMPORTANT,
    "high": Severity.IMPORTANT,
    "moderate": Severity.MODERATE,
    "medium": Severity.MODERATE,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
    "unimportant": Severity.LOW,
    "none": Severity.UNSPECIFIED,
    "unspecified": Severity.UNSPECIFIED,
    "": Severity.UNSPECIFIED,
}


def parse_severity(value: str | None) -> Severity:
    return SEVERITY_ALIASES.get((value or "").strip().lower(), Severity.UNSPECIFIED)


class Tier(StrEnum):
    """Risk tier; P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        return int(self.value[1])

    def at_least(self, other: Tier) -> bool:
        """True when this tier is as urgent as ``other`` or more (P1 is at least P3)."""
        return self.rank <= other.rank


@dataclass(frozen=True, slots=True)
class Sla:
    """Days allowed to patch, per tier, from when a finding is first seen."""

    p1_days: int = 7
    p2_days: int = 14
    p3_days: int = 30
    p4_days: int = 90

    def days(self, tier: Tier) -> int:
        return (self.p1_days, self.p2_days, self.p3_days, self.p4_days)[tier.rank - 1]


@dataclass(frozen=True, slots=True)
class Tenant:
    slug: str
    name: str
    timezone: str = "UTC"
    sla: Sla = field(default_factory=Sla)
    calendar: str | None = None
    slack_channel: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    tenant: str
    name: str
    timezone: str = "UTC"
    calendar: str | None = None


@dataclass(frozen=True, slots=True)
class Host:
    """A managed machine. ``credential_ref`` names a secret ("secret:NAME" or "env:VAR"); it is
    never the secret itself."""

    tenant: str
    site: str
    name: str
    os_family: OsFamily
    os_version: str = ""
    connector: Connector = Connector.SIMULATED
    address: str | None = None
    tags: frozenset[str] = frozenset()
    ring: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    internet_facing: bool = False
    rdp_exposed: bool = False
    calendar: str | None = None
    credential_ref: str | None = None
    quarantined: bool = False
    id: int | None = None

    @property
    def key(self) -> str:
        """Unique, stable name across tenants: ``tenant/name``."""
        return f"{self.tenant}/{self.name}"


@dataclass(frozen=True, slots=True)
class PackageFix:
    """A package and the version that fixes the advisory (empty for Windows KBs)."""

    name: str
    fixed_version: str = ""
    installed_version: str = ""


@dataclass(frozen=True, slots=True)
class Advisory:
    """A patch as a vendor publishes it: a KB, a DSA/USN/RHSA/SUSE-SU, or a package update."""

    id: str
    vendor: str
    title: str
    classification: Classification = Classification.SECURITY
    severity: Severity = Severity.UNSPECIFIED
    cves: tuple[str, ...] = ()
    cvss: float | None = None
    epss: float | None = None
    packages: tuple[PackageFix, ...] = ()
    released: date | None = None
    reboot_required: bool = False
    supersedes: tuple[str, ...] = ()
    product: str = ""


@dataclass(frozen=True, slots=True)
class KevEntry:
    """One CISA Known Exploited Vulnerabilities entry."""

    cve: str
    vendor: str
    product: str
    name: str
    date_added: date
    due_date: date
    ransomware: bool


@dataclass(frozen=True, slots=True)
class Risk:
    """The explained risk of one finding."""

    tier: Tier
    score: int
    reasons: tuple[str, ...]
    deadline: date

    @property
    def reason_text(self) -> str:
        return ", ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class Finding:
    """A patch missing on a host."""

    host: Host
    advisory: Advisory
    first_seen: datetime
    last_seen: datetime
    risk: Risk | None = None


class JobState(StrEnum):
    """The persisted state of one host in one campaign run (see DESIGN.md). A state is written
    before the side effect it announces."""

    PENDING = "pending"
    APPROVED = "approved"
    QUEUED = "queued"
    PRECHECKED = "prechecked"
    SNAPSHOTTED = "snapshotted"
    INSTALLING = "installing"
    REBOOTING = "rebooting"
    VERIFYING = "verifying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def in_flight(self) -> bool:
        """A side effect may have started on the host: re-verify by scanning before going on."""
        return self in IN_FLIGHT_STATES


TERMINAL_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.SKIPPED, JobState.ROLLED_BACK}
)
IN_FLIGHT_STATES = frozenset(
    {
        JobState.SNAPSHOTTED,
        JobState.INSTALLING,
        JobState.REBOOTING,
        JobState.VERIFYING,
        JobState.ROLLING_BACK,
    }
)
