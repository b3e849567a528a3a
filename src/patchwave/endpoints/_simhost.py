"""How one simulated host behaves: its profile, seeded traits, missing advisories and the
messages its package manager would print. Pure functions of (seed, host); no state."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from patchwave.domain.models import Advisory, Host, OsFamily
from patchwave.endpoints import catalogue
from patchwave.errors import InventoryError

BEHAVIOURS = (
    "install-fails",
    "install-fails-once",
    "unreachable",
    "flaky-scan",
    "no-return",
    "verify-fails",
    "low-disk",
    "pending-reboot",
    "postcheck-fails",
    "slow",
)


@dataclass(frozen=True, slots=True)
class SimProfile:
    """How a simulated fleet behaves. Rates are per-host probabilities drawn once per host from
    the seed: a host that fails installs fails them in every process."""

    mean_missing: float = 20.0
    compliant_share: float = 0.04  # hosts missing nothing at all
    install_fails: float = 0.02  # PatchFailed on every install
    install_fails_once: float = 0.02  # TransientEndpointError on the first install, then fine
    unreachable: float = 0.01  # HostUnreachable on everything
    flaky_scan: float = 0.02  # the first scan raises HostUnreachable
    no_return: float = 0.005  # never comes back from a reboot
    verify_fails: float = 0.005  # first install of an advisory reports success, does not take
    low_disk: float = 0.01  # under 1 GiB free
    pending_reboot: float = 0.01  # a reboot is pending until the host is rebooted
    postcheck_fails: float = 0.005  # services-up fails once something was installed
    slow: float = 0.02  # everything takes slow_factor times longer
    windows_cu_minutes: tuple[float, float] = (20.0, 60.0)
    linux_minutes: tuple[float, float] = (3.0, 15.0)
    reboot_minutes: tuple[float, float] = (2.0, 8.0)
    slow_factor: float = 3.0
    fixed_install_seconds: float | None = None  # every install takes exactly this (benches)
    fixed_reboot_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("compliant_share", *(b.replace("-", "_") for b in BEHAVIOURS)):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"SimProfile.{name} must be a probability in [0, 1], got {value}")
        if self.mean_missing < 0:
            raise ValueError("SimProfile.mean_missing must be >= 0")

    def rate(self, behaviour: str) -> float:
        return float(getattr(self, behaviour.replace("-", "_")))

    @classmethod
    def reliable(cls, **changes: Any) -> SimProfile:
        """A fleet where nothing ever fails and nothing is slow (tests and benches)."""
        zero: dict[str, Any] = {b.replace("-", "_"): 0.0 for b in BEHAVIOURS}
        return replace(cls(), **{**zero, **changes})


@dataclass(frozen=True, slots=True)
class Traits:
    behaviours: frozenset[str]
    speed: float  # install-duration factor
    reboot_seconds: float
    scan_seconds: float
    free_disk_mb: int


def digest(seed: int, key: str, purpose: str) -> bytes:
    """Stable randomness for (seed, host key, purpose), identical in every process."""
    return hashlib.blake2b(f"{seed}\x00{key}\x00{purpose}".encode(), digest_size=64).digest()


def _rng(seed: int, key: str, purpose: str) -> random.Random:
    return random.Random(int.from_bytes(digest(seed, key, purpose)[:16], "big"))


@lru_cache(maxsize=64)
def _thresholds(profile: SimProfile) -> tuple[int, ...]:
    return tuple(int(profile.rate(b) * 2**32) for b in BEHAVIOURS)


def _uniform(raw: bytes, index: int, low: float, high: float) -> float:
    return low + (high - low) * int.from_bytes(raw[4 * index : 4 * index + 4], "big") / 2**32


def draw_traits(seed: int, host: Host, profile: SimProfile) -> Traits:
    forced = {t[4:] for t in host.tags if t.startswith("sim:")}
    unknown = forced - {*BEHAVIOURS, "clean"}
    if unknown:
        raise InventoryError(
            f"host {host.key}: unknown simulation tag(s) "
            f"{', '.join('sim:' + u for u in sorted(unknown))}; known: sim:clean, "
            + ", ".join(f"sim:{b}" for b in BEHAVIOURS)
        )
    # One 64-byte digest: 4 bytes per behaviour draw (10), then 4 per trait draw.
    raw = digest(seed, host.key, "traits")
    if forced:
        behaviours = frozenset(forced - {"clean"})
    else:
        behaviours = frozenset(
            b
            for i, (b, limit) in enumerate(zip(BEHAVIOURS, _thresholds(profile), strict=True))
            if limit and int.from_bytes(raw[4 * i : 4 * i + 4], "big") < limit
        )
    n = len(BEHAVIOURS)
    slow = profile.slow_factor if "slow" in behaviours else 1.0
    windows = host.os_family is OsFamily.WINDOWS
    scan = _uniform(raw, n + 2, 60, 180) if windows else _uniform(raw, n + 2, 10, 40)
    low_disk = "low-disk" in behaviours
    return Traits(
        behaviours=behaviours,
        speed=_uniform(raw, n, 0.6, 1.7),
        reboot_seconds=_uniform(raw, n + 1, *profile.reboot_minutes) * 60.0 * slow,
        scan_seconds=scan * slow,
        free_disk_mb=int(
            _uniform(raw, n + 3, 500, 900) if low_disk else 2 ** _uniform(raw, n + 3, 13, 17.6)
        ),  # under 1 GiB when low, else 8 GiB .. 200 GiB
    )


def draw_missing(seed: int, host: Host, profile: SimProfile) -> tuple[Advisory, ...]:
    """The seeded subset of the host's applicable catalogue it misses before any change."""
    lines = catalogue.update_line_positions(host)
    if not lines or profile.compliant_share >= 1.0:
        return ()
    draw = _rng(seed, host.key, "missing").random
    if draw() < profile.compliant_share:
        return ()
    mean = profile.mean_missing / (1.0 - profile.compliant_share)
    target = round(mean * (0.5 + draw()))
    count = len(lines)
    order = list(range(count))
    picked: list[int] = []
    # A partial Fisher-Yates shuffle: visit lines in seeded order until the target is met.
    for i in range(count):
        if len(picked) >= target:
            break
        j = i + int(draw() * (count - i))
        order[i], order[j] = order[j], order[i]
        line = lines[order[i]]
        # Most hosts are a month or two behind on a line, a few far behind. Like a
        # vulnerability scanner (unlike WUA, which hides superseded updates) every missed
        # member is reported, so old KEV CVEs stay visible; installing the newest member
        # satisfies the older ones.
        picked.extend(line[len(line) - 1 - int(draw() ** 2 * len(line)) :])
    picked.sort()
    return tuple(map(catalogue.ADVISORIES.__getitem__, picked))


def install_minutes(
    host: Host, patches: list[Advisory], traits: Traits, profile: SimProfile
) -> float:
    minutes = [
        catalogue.ENTRIES[p.id].install_minutes for p in patches if p.id in catalogue.ENTRIES
    ] or [1.0]
    # One transaction: the longest item dominates, the others add a quarter of theirs.
    top = max(minutes)
    total = (top + 0.25 * (sum(minutes) - top)) * traits.speed
    if host.os_family is OsFamily.WINDOWS and top >= 20:
        low, high = profile.windows_cu_minutes
        total = min(max(total, low), high)
    elif host.os_family.is_linux:
        low, high = profile.linux_minutes
        total = min(max(total, low), high)
    if "slow" in traits.behaviours:
        total *= profile.slow_factor
    return total


def failure_message(host: Host, advisory: Advisory) -> str:
    """What the host's package manager says when an install fails for good."""
    pkg = advisory.packages[0] if advisory.packages else None
    name = pkg.name if pkg else advisory.id
    version = pkg.fixed_version if pkg else ""
    family = host.os_family
    if family is OsFamily.WINDOWS:
        return f"{advisory.id} failed to install: 0x800f0922 (CBS_E_INSTALLERS_FAILED)"
    if family in (OsFamily.DEBIAN, OsFamily.UBUNTU):
        return (
            f"dpkg: error processing package {name} (--configure): installed {name} package "
            "post-installation script subprocess returned error exit status 1"
        )
    if family is OsFamily.RHEL:
        return (
            f"Error: Transaction test error: file /usr/share/doc/{name} from install of "
            f"{name}-{version} conflicts with file from package {name}-compat"
        )
    return (
        f"Installation of {name}-{version} failed: Subprocess failed. Error: RPM failed: "
        f"error: %prein({name}-{version}) scriptlet failed, exit status 1"
    )


def lock_message(host: Host) -> str:
    """What the host says when another update run holds the lock (worth a retry)."""
    family = host.os_family
    if family is OsFamily.WINDOWS:
        return "another installation is in progress: 0x80240016 (WU_E_INSTALL_NOT_ALLOWED)"
    if family in (OsFamily.DEBIAN, OsFamily.UBUNTU):
        return (
            "Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2317 "
            "(unattended-upgr)"
        )
    if family is OsFamily.RHEL:
        return "Waiting for process with pid 2317 to finish: the rpm database is locked"
    return "System management is locked by the application with pid 2317 (zypper)"


def service_name(host: Host) -> str:
    windows = host.os_family is OsFamily.WINDOWS
    if "role:web" in host.tags:
        return "W3SVC" if windows else "nginx.service"
    if "role:sql" in host.tags or "role:db" in host.tags:
        return "MSSQLSERVER" if windows else "postgresql.service"
    return "Spooler" if windows else "sshd.service"
