"""The row shape of the simulated advisory catalogue and the platform keys it uses.

A platform key is ``"<family>/<canonical version>"`` (``windows/server-2022``, ``debian/12``,
``rhel/9``, ``suse/15-sp6``); ``catalogue.platform_key`` maps what inventories say to it.
"""

from __future__ import annotations

from typing import NamedTuple

from patchwave.domain.models import Classification, Severity

W2016 = "windows/server-2016"
W2019 = "windows/server-2019"
W2022 = "windows/server-2022"
W2025 = "windows/server-2025"
W10 = "windows/10-22h2"
W11_23 = "windows/11-23h2"
W11_24 = "windows/11-24h2"
WIN_SERVERS = (W2016, W2019, W2022, W2025)
WIN_CLIENTS = (W10, W11_23, W11_24)
WIN_ALL = WIN_SERVERS + WIN_CLIENTS

DEB11 = "debian/11"
DEB12 = "debian/12"
UBU22 = "ubuntu/22.04"
UBU24 = "ubuntu/24.04"
RHEL8 = "rhel/8"
RHEL9 = "rhel/9"
SLES15SP5 = "suse/15-sp5"
SLES15SP6 = "suse/15-sp6"

SEC = Classification.SECURITY
CRIT = Classification.CRITICAL
BUGFIX = Classification.BUGFIX
FEATURE = Classification.FEATURE
DRIVER = Classification.DRIVER
FIRMWARE = Classification.FIRMWARE
DEFINITION = Classification.DEFINITION


class Row(NamedTuple):
    """One advisory as the tables write it; ``catalogue`` turns rows into ``Advisory`` objects.

    Rows sharing a ``line`` form a supersedence chain: each supersedes the previous one by
    release date (the next cumulative update, the next package version).
    """

    id: str
    released: str  # ISO date
    line: str | None
    platforms: tuple[str, ...]
    title: str
    vendor: str
    product: str
    cves: str  # space-separated CVE ids
    cvss: float | None
    severity: Severity
    classification: Classification
    packages: str  # "name=fixed-version name=fixed-version" (empty for KBs)
    reboot: bool
    minutes: float  # typical install time on an average host
    roles: tuple[str, ...] = ()  # host must carry one of these tags (e.g. role:sql)


def sev(value: str) -> Severity:
    return Severity(value)
