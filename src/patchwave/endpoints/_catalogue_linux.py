# Data tables: one advisory per line and positional rows read best, hence the noqa.
# ruff: noqa: E501, PLR0917
"""Linux rows of the simulated catalogue: Debian DSA/DLA, Ubuntu USN, Red Hat RHSA/RHBA/RHEA,
SUSE SUSE-SU/SUSE-RU.

CVE ids are real and attached to the releases they affected (regreSSHion CVE-2024-6387 hits
OpenSSH 8.5-9.7, so not Debian 11 or RHEL 8; Looney Tunables CVE-2023-4911 hits glibc 2.34+,
so not glibc 2.28/2.31; Baron Samedit CVE-2021-3156 and PwnKit CVE-2021-4034 appear on RHEL 8,
whose 2021-2022 errata fixed them). Fixed versions use each distribution's syntax (Debian
epochs and ``+debNNuN``/``~debNNuN``, Ubuntu ``ubuntuN``, EL ``.el9_N``, SUSE ``150600.N``).
Advisory numbers are real where we know them (e.g. DSA-5724-1, USN-6859-1, RHSA-2024:4312,
RHSA-2021:0218, RHSA-2022:0267, RHSA-2025:13933); the rest are ILLUSTRATIVE in the vendor's
format. A USN that covered several Ubuntu releases is listed under one release only, because
an ``Advisory`` carries one fixed version per package and ids are unique.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from patchwave.domain.models import Classification
from patchwave.endpoints._catalogue_rows import (
    BUGFIX,
    DEB11,
    DEB12,
    FEATURE,
    RHEL8,
    RHEL9,
    SEC,
    SLES15SP5,
    SLES15SP6,
    UBU22,
    UBU24,
    Row,
    sev,
)


class _Maker(Protocol):
    def __call__(
        self,
        id_: str,
        day: str,
        source: str,
        pkgs: str,
        cves: str = "",
        cvss: float | None = None,
        severity: str = "important",
        classification: Classification = SEC,
    ) -> Row: ...


_REBOOT_SOURCES = frozenset(
    {"linux", "kernel", "kernel-default", "intel-microcode", "microcode_ctl", "ucode-intel"}
)


def _debian_title(source: str, cves: str, severity: str, classification: Classification) -> str:
    return f"{source} {'security update' if classification is SEC else 'bug fix update'}"


def _ubuntu_title(source: str, cves: str, severity: str, classification: Classification) -> str:
    if not cves:
        return f"{source} bug fix"
    return f"{source} {'vulnerability' if len(cves.split()) == 1 else 'vulnerabilities'}"


def _redhat_title(source: str, cves: str, severity: str, classification: Classification) -> str:
    if classification is SEC:
        return f"{severity.capitalize()}: {source} security update"
    return f"{source} {'bug fix' if classification is BUGFIX else 'enhancement'} update"


def _suse_title(source: str, cves: str, severity: str, classification: Classification) -> str:
    return f"{'Security' if classification is SEC else 'Recommended'} update for {source}"


def _maker(
    vendor: str,
    product: str,
    platforms: tuple[str, ...],
    title: Callable[[str, str, str, Classification], str],
) -> _Maker:
    def make(
        id_: str,
        day: str,
        source: str,
        pkgs: str,
        cves: str = "",
        cvss: float | None = None,
        severity: str = "important",
        classification: Classification = SEC,
    ) -> Row:
        severity = severity if cves else "unspecified"
        reboot = source in _REBOOT_SOURCES
        # glibc and systemd restart every service: longer than a leaf package.
        minutes = 7.0 if reboot else 3.0 if source in ("glibc", "systemd") else 2.0
        return Row(
            id=id_,
            released=day,
            line=f"{'+'.join(platforms)}:{source}",
            platforms=platforms,
            title=title(source, cves, severity, classification),
            vendor=vendor,
            product=product,
            cves=cves,
            cvss=cvss,
            severity=sev(severity),
            classification=classification,
            packages=pkgs,
            reboot=reboot,
            minutes=minutes,
        )

    return make


# fmt: off
def _debian_rows() -> list[Row]:
    d = _maker("Debian", "Debian GNU/Linux 12", (DEB12,), _debian_title)
    b = _maker("Debian", "Debian GNU/Linux 11", (DEB11,), _debian_title)
    ssl12 = "openssl=3.0.{v} libssl3=3.0.{v}"
    ssh12 = "openssh-server=1:9.2p1-2+deb12u{v} openssh-client=1:9.2p1-2+deb12u{v}"
    libc12 = "libc6=2.36-9+deb12u{v} libc-bin=2.36-9+deb12u{v}"
    return [
        d("DSA-5532-1", "2023-10-25", "openssl", ssl12.format(v="11-1~deb12u2"), "CVE-2023-5363", 7.5),
        d("DSA-5764-1", "2024-08-28", "openssl", ssl12.format(v="14-1~deb12u2"), "CVE-2024-5535 CVE-2024-6119", 9.1),
        d("DSA-5870-1", "2025-02-20", "openssl", ssl12.format(v="16-1~deb12u1"), "CVE-2024-13176", 4.1, "moderate"),
        d("DSA-5724-1", "2024-07-01", "openssh", ssh12.format(v="3"), "CVE-2024-6387", 8.1),
        d("DSA-5868-1", "2025-02-18", "openssh", ssh12.format(v="5"), "CVE-2025-26465 CVE-2025-26466", 6.8, "moderate"),
        d("DSA-5514-1", "2023-10-03", "glibc", libc12.format(v="3"), "CVE-2023-4911", 7.8),
        d("DSA-5611-1", "2024-01-31", "glibc", libc12.format(v="4"), "CVE-2023-6246 CVE-2023-6779 CVE-2023-6780", 7.8),
        d("DSA-5673-1", "2024-04-23", "glibc", libc12.format(v="7"), "CVE-2024-2961", 8.8),
        d("DSA-5658-1", "2024-04-05", "linux", "linux-image-amd64=6.1.85-1", "CVE-2024-1086 CVE-2024-26642", 7.8),
        d("DSA-5860-1", "2025-02-11", "linux", "linux-image-amd64=6.1.128-1", "CVE-2024-53104 CVE-2024-50302", 7.8),
        d("DSA-5907-1", "2025-04-26", "linux", "linux-image-amd64=6.1.135-1", "CVE-2024-53197 CVE-2024-53150", 7.8),
        d("DSA-5973-1", "2025-07-30", "linux", "linux-image-amd64=6.1.147-1", "CVE-2025-37899 CVE-2025-38089", 7.8),
        d("DSA-5587-1", "2023-12-20", "curl", "curl=7.88.1-10+deb12u5 libcurl4=7.88.1-10+deb12u5", "CVE-2023-46218 CVE-2023-46219", 6.5, "moderate"),
        d("DSA-5836-1", "2025-01-08", "curl", "curl=7.88.1-10+deb12u8 libcurl4=7.88.1-10+deb12u8", "CVE-2024-2398 CVE-2024-11053", 8.6),
        d("DSA-5957-1", "2025-07-10", "git", "git=1:2.39.5-0+deb12u2", "CVE-2025-48384 CVE-2025-48385", 8.1),
        d("DSA-5729-1", "2024-07-11", "apache2", "apache2=2.4.61-1~deb12u1 apache2-bin=2.4.61-1~deb12u1", "CVE-2024-38475 CVE-2024-38474 CVE-2024-38476", 9.1, "critical"),
        d("DSA-5865-1", "2025-02-13", "nginx", "nginx=1.22.1-9+deb12u2", "CVE-2025-23419", 5.3, "moderate"),
        d("DSA-5864-1", "2025-02-14", "postgresql-15", "postgresql-15=15.11-0+deb12u1", "CVE-2025-1094", 8.1),
        d("DSA-5621-1", "2024-02-13", "bind9", "bind9=1:9.18.24-1", "CVE-2023-50387 CVE-2023-50868", 7.5),
        d("DSA-5880-1", "2025-03-10", "libxml2", "libxml2=2.9.14+dfsg-1.3~deb12u2", "CVE-2025-24928 CVE-2024-56171", 7.8),
        d("DSA-5843-1", "2025-01-14", "rsync", "rsync=3.2.7-1+deb12u2", "CVE-2024-12084 CVE-2024-12085 CVE-2024-12086 CVE-2024-12087 CVE-2024-12088", 9.8, "critical"),
        d("DSA-5759-1", "2024-08-30", "python3.11", "python3.11=3.11.2-6+deb12u3", "CVE-2024-6232 CVE-2024-7592", 7.5),
        d("DSA-5886-1", "2025-03-20", "expat", "libexpat1=2.5.0-1+deb12u2", "CVE-2024-8176", 7.5),
        d("DSA-5924-1", "2025-05-14", "intel-microcode", "intel-microcode=3.20250512.1~deb12u1", "CVE-2024-28956 CVE-2025-20103 CVE-2025-20623", 5.6, "moderate"),
        d("DSA-5734-1", "2024-07-08", "exim4", "exim4-daemon-light=4.96-15+deb12u5", "CVE-2024-39929", 9.1, "critical"),
        d("DSA-5953-1", "2025-07-02", "chromium", "chromium=138.0.7204.96-1~deb12u1", "CVE-2025-6554", 8.1),
        d("DSA-5964-1", "2025-07-23", "firefox-esr", "firefox-esr=128.13.0esr-1~deb12u1", "CVE-2025-8027 CVE-2025-8028", 9.8),
        d("DEB12-PU-12.11-systemd", "2025-05-17", "systemd", "systemd=252.38-1~deb12u1 libsystemd0=252.38-1~deb12u1", classification=BUGFIX),
        d("DEB12-PU-12.11-tzdata", "2025-05-17", "tzdata", "tzdata=2025b-0+deb12u1", classification=BUGFIX),
        b("DLA-3942-1", "2024-10-25", "openssl", "openssl=1.1.1w-0+deb11u2 libssl1.1=1.1.1w-0+deb11u2", "CVE-2024-5535 CVE-2024-9143", 9.1),
        b("DLA-4063-1", "2025-02-25", "openssh", "openssh-server=1:8.4p1-5+deb11u4 openssh-client=1:8.4p1-5+deb11u4", "CVE-2025-26465", 6.8, "moderate"),
        b("DLA-3807-1", "2024-05-06", "glibc", "libc6=2.31-13+deb11u9 libc-bin=2.31-13+deb11u9", "CVE-2024-2961 CVE-2024-33599", 8.8),
        b("DLA-4075-1", "2025-03-01", "linux", "linux-image-amd64=5.10.234-1", "CVE-2024-53104 CVE-2024-50302", 7.8),
        b("DLA-4178-1", "2025-05-30", "linux", "linux-image-amd64=5.10.237-1", "CVE-2024-53197 CVE-2024-53150", 7.8),
        b("DSA-5321-1", "2023-01-18", "sudo", "sudo=1.9.5p2-3+deb11u1", "CVE-2023-22809", 7.8),
        b("DLA-3788-1", "2024-04-15", "curl", "curl=7.74.0-1.3+deb11u12 libcurl4=7.74.0-1.3+deb11u12", "CVE-2024-2398", 8.6),
        b("DLA-3858-1", "2024-07-22", "apache2", "apache2=2.4.61-1~deb11u1 apache2-bin=2.4.61-1~deb11u1", "CVE-2024-38475 CVE-2024-38474", 9.1, "critical"),
        b("DLA-4008-1", "2025-01-15", "rsync", "rsync=3.2.3-4+deb11u2", "CVE-2024-12084 CVE-2024-12085 CVE-2024-12086", 9.8, "critical"),
        b("DLA-4239-1", "2025-07-14", "git", "git=1:2.30.2-1+deb11u5", "CVE-2025-48384", 8.1),
        b("DLA-4185-1", "2025-06-04", "openssl", "openssl=1.1.1w-0+deb11u3 libssl1.1=1.1.1w-0+deb11u3", "CVE-2024-13176", 4.1, "moderate"),
        b("DLA-4080-1", "2025-03-11", "glibc", "libc6=2.31-13+deb11u12 libc-bin=2.31-13+deb11u12", "CVE-2025-0395", 7.5),
        b("DLA-4226-1", "2025-07-03", "linux", "linux-image-amd64=5.10.238-1", "CVE-2025-21756 CVE-2025-38089", 7.8),
        b("DLA-4045-1", "2025-02-19", "nginx", "nginx=1.18.0-6.1+deb11u4", "CVE-2025-23419", 5.3, "moderate"),
        b("DLA-4054-1", "2025-02-21", "postgresql-13", "postgresql-13=13.20-0+deb11u1", "CVE-2025-1094", 8.1),
        b("DLA-3753-1", "2024-03-03", "bind9", "bind9=1:9.16.48-1", "CVE-2023-50387 CVE-2023-50868", 7.5),
        b("DLA-4098-1", "2025-03-29", "libxml2", "libxml2=2.9.10+dfsg-6.7+deb11u6", "CVE-2025-24928 CVE-2024-56171", 7.8),
        b("DLA-3948-1", "2024-11-02", "python3.9", "python3.9=3.9.2-1+deb11u2", "CVE-2024-6232 CVE-2024-7592", 7.5),
        b("DLA-4090-1", "2025-03-25", "expat", "libexpat1=2.2.10-2+deb11u7", "CVE-2024-8176", 7.5),
        b("DLA-4176-1", "2025-05-27", "intel-microcode", "intel-microcode=3.20250512.1~deb11u1", "CVE-2024-28956 CVE-2025-20103", 5.6, "moderate"),
        b("DLA-3863-1", "2024-07-29", "exim4", "exim4-daemon-light=4.94.2-7+deb11u3", "CVE-2024-39929", 9.1, "critical"),
        b("DLA-4246-1", "2025-07-25", "firefox-esr", "firefox-esr=128.13.0esr-1~deb11u1", "CVE-2025-8027 CVE-2025-8028", 9.8),
        b("DLA-4085-1", "2025-03-22", "tzdata", "tzdata=2025a-0+deb11u1", classification=BUGFIX),
    ]


def _ubuntu_rows() -> list[Row]:
    j = _maker("Canonical", "Ubuntu 22.04 LTS", (UBU22,), _ubuntu_title)
    n = _maker("Canonical", "Ubuntu 24.04 LTS", (UBU24,), _ubuntu_title)
    return [
        j("USN-6859-1", "2024-07-01", "openssh", "openssh-server=1:8.9p1-3ubuntu0.10 openssh-client=1:8.9p1-3ubuntu0.10", "CVE-2024-6387", 8.1),
        j("USN-7270-1", "2025-02-18", "openssh", "openssh-server=1:8.9p1-3ubuntu0.11 openssh-client=1:8.9p1-3ubuntu0.11", "CVE-2025-26465 CVE-2025-26466", 6.8, "moderate"),
        j("USN-6409-1", "2023-10-03", "glibc", "libc6=2.35-0ubuntu3.4 libc-bin=2.35-0ubuntu3.4", "CVE-2023-4911", 7.8),
        j("USN-6737-1", "2024-04-23", "glibc", "libc6=2.35-0ubuntu3.7 libc-bin=2.35-0ubuntu3.7", "CVE-2024-2961", 8.8),
        j("USN-6937-1", "2024-08-01", "openssl", "openssl=3.0.2-0ubuntu1.17 libssl3=3.0.2-0ubuntu1.17", "CVE-2024-5535 CVE-2024-4741", 9.1),
        j("USN-7264-1", "2025-02-11", "openssl", "openssl=3.0.2-0ubuntu1.19 libssl3=3.0.2-0ubuntu1.19", "CVE-2024-13176", 4.1, "moderate"),
        j("USN-6719-1", "2024-04-03", "linux", "linux-image-generic=5.15.0.102.99", "CVE-2024-1086", 7.8),
        j("USN-7383-1", "2025-03-27", "linux", "linux-image-generic=5.15.0.136.134", "CVE-2024-53104 CVE-2024-50302", 7.8),
        j("USN-7523-1", "2025-05-21", "linux", "linux-image-generic=5.15.0.141.136", "CVE-2024-53197 CVE-2024-53150", 7.8),
        j("USN-5811-1", "2023-01-18", "sudo", "sudo=1.9.9-1ubuntu2.2", "CVE-2023-22809", 7.8),
        j("USN-6718-1", "2024-03-27", "curl", "curl=7.81.0-1ubuntu1.16 libcurl4=7.81.0-1ubuntu1.16", "CVE-2024-2398", 8.6),
        j("USN-6885-1", "2024-07-08", "apache2", "apache2=2.4.52-1ubuntu4.10", "CVE-2024-38475 CVE-2024-38474", 9.1, "critical"),
        j("USN-7206-1", "2025-01-14", "rsync", "rsync=3.2.7-0ubuntu0.22.04.3", "CVE-2024-12084 CVE-2024-12085 CVE-2024-12086", 9.8, "critical"),
        j("USN-7277-1", "2025-02-20", "postgresql-14", "postgresql-14=14.16-0ubuntu0.22.04.1", "CVE-2025-1094", 8.1),
        j("USN-7286-1", "2025-02-26", "nginx", "nginx=1.18.0-6ubuntu14.6", "CVE-2025-23419", 5.3, "moderate"),
        j("USN-7303-1", "2025-02-25", "libxml2", "libxml2=2.9.13+dfsg-1ubuntu0.6", "CVE-2025-24928 CVE-2024-56171", 7.8),
        j("USN-7015-1", "2024-09-17", "python3.10", "python3.10=3.10.12-1~22.04.6", "CVE-2024-6232 CVE-2024-7592", 7.5),
        j("USN-6657-1", "2024-02-15", "bind9", "bind9=1:9.18.18-0ubuntu0.22.04.2", "CVE-2023-50387 CVE-2023-50868", 7.5),
        j("USN-7393-1", "2025-03-31", "expat", "libexpat1=2.4.7-1ubuntu0.6", "CVE-2024-8176", 7.5),
        j("USN-7535-1", "2025-05-26", "intel-microcode", "intel-microcode=3.20250512.0ubuntu0.22.04.1", "CVE-2024-28956 CVE-2025-20103", 5.6, "moderate"),
        j("USN-7627-1", "2025-07-09", "git", "git=1:2.34.1-1ubuntu1.14", "CVE-2025-48384", 8.1),
        j("UBU22-SRU-tzdata-2025b", "2025-04-02", "tzdata", "tzdata=2025b-0ubuntu0.22.04", classification=BUGFIX),
        j("UBU22-SRU-systemd-249.11-0ubuntu3.16", "2025-06-11", "systemd", "systemd=249.11-0ubuntu3.16 libsystemd0=249.11-0ubuntu3.16", classification=BUGFIX),
        n("USN-7604-1", "2025-06-30", "sudo", "sudo=1.9.15p5-3ubuntu5.24.04.1", "CVE-2025-32463 CVE-2025-32462", 9.3, "critical"),
        n("USN-7271-1", "2025-02-18", "openssh", "openssh-server=1:9.6p1-3ubuntu13.8 openssh-client=1:9.6p1-3ubuntu13.8", "CVE-2025-26465 CVE-2025-26466", 6.8, "moderate"),
        n("USN-7457-1", "2025-04-24", "openssh", "openssh-server=1:9.6p1-3ubuntu13.11 openssh-client=1:9.6p1-3ubuntu13.11", "CVE-2025-32728", 4.3, "low"),
        n("USN-7278-1", "2025-02-12", "openssl", "openssl=3.0.13-0ubuntu3.5 libssl3t64=3.0.13-0ubuntu3.5", "CVE-2024-13176", 4.1, "moderate"),
        n("USN-7541-1", "2025-05-20", "glibc", "libc6=2.39-0ubuntu8.5 libc-bin=2.39-0ubuntu8.5", "CVE-2025-4802", 7.8),
        n("USN-7326-1", "2025-03-05", "linux", "linux-image-generic=6.8.0-55.57", "CVE-2024-53104 CVE-2024-50302", 7.8),
        n("USN-7539-1", "2025-05-28", "linux", "linux-image-generic=6.8.0-60.63", "CVE-2024-53197 CVE-2024-53150", 7.8),
        n("USN-7654-1", "2025-07-23", "linux", "linux-image-generic=6.8.0-71.71", "CVE-2025-37899 CVE-2025-38089", 7.8),
        n("USN-7162-1", "2024-12-11", "curl", "curl=8.5.0-2ubuntu10.6 libcurl4t64=8.5.0-2ubuntu10.6", "CVE-2024-11053", 3.4, "low"),
        n("USN-7626-1", "2025-07-09", "git", "git=1:2.43.0-1ubuntu7.3", "CVE-2025-48384 CVE-2025-48385", 8.1),
        n("USN-7302-1", "2025-02-25", "libxml2", "libxml2=2.9.14+dfsg-1.3ubuntu3.2", "CVE-2025-24928 CVE-2024-56171", 7.8),
        n("USN-7285-1", "2025-02-26", "nginx", "nginx=1.24.0-2ubuntu7.3", "CVE-2025-23419", 5.3, "moderate"),
        n("USN-7570-1", "2025-06-10", "python3.12", "python3.12=3.12.3-1ubuntu0.7", "CVE-2025-4517 CVE-2025-4330", 9.4, "critical"),
        n("USN-7259-1", "2025-02-13", "postgresql-16", "postgresql-16=16.7-0ubuntu0.24.04.1", "CVE-2025-1094", 8.1),
        n("USN-6886-1", "2024-07-09", "apache2", "apache2=2.4.58-1ubuntu8.4", "CVE-2024-38475 CVE-2024-38474", 9.1, "critical"),
        n("USN-7207-1", "2025-01-14", "rsync", "rsync=3.2.7-1ubuntu1.2", "CVE-2024-12084 CVE-2024-12085 CVE-2024-12086", 9.8, "critical"),
        n("USN-7582-1", "2025-06-18", "bind9", "bind9=1:9.18.30-0ubuntu0.24.04.2", "CVE-2025-40775", 7.5),
        n("USN-7394-1", "2025-03-31", "expat", "libexpat1=2.6.1-2ubuntu0.3", "CVE-2024-8176", 7.5),
        n("USN-7536-1", "2025-05-26", "intel-microcode", "intel-microcode=3.20250512.0ubuntu0.24.04.1", "CVE-2024-28956 CVE-2025-20103", 5.6, "moderate"),
        n("USN-7258-1", "2025-02-13", "glibc", "libc6=2.39-0ubuntu8.4 libc-bin=2.39-0ubuntu8.4", "CVE-2025-0395", 7.5),
        n("USN-7605-1", "2025-07-02", "curl", "curl=8.5.0-2ubuntu10.7 libcurl4t64=8.5.0-2ubuntu10.7", "CVE-2024-9681", 6.5, "moderate"),
        n("UBU24-SRU-tzdata-2025b", "2025-04-02", "tzdata", "tzdata=2025b-0ubuntu0.24.04", classification=BUGFIX),
        n("UBU24-SRU-systemd-255.4-1ubuntu8.8", "2025-06-11", "systemd", "systemd=255.4-1ubuntu8.8 libsystemd0=255.4-1ubuntu8.8", classification=BUGFIX),
    ]


def _redhat_rows() -> list[Row]:
    r9 = _maker("Red Hat", "Red Hat Enterprise Linux 9", (RHEL9,), _redhat_title)
    r8 = _maker("Red Hat", "Red Hat Enterprise Linux 8", (RHEL8,), _redhat_title)
    k9 = "kernel=5.14.0-{v} kernel-core=5.14.0-{v}"
    k8 = "kernel=4.18.0-{v} kernel-core=4.18.0-{v}"
    return [
        r9("RHSA-2024:4312", "2024-07-03", "openssh", "openssh=8.7p1-38.el9_4.1 openssh-server=8.7p1-38.el9_4.1", "CVE-2024-6387", 8.1),
        r9("RHSA-2025:3837", "2025-04-15", "openssh", "openssh=8.7p1-45.el9 openssh-server=8.7p1-45.el9", "CVE-2025-26465", 6.8, "moderate"),
        r9("RHSA-2023:5453", "2023-10-03", "glibc", "glibc=2.34-60.el9_2.7 glibc-common=2.34-60.el9_2.7", "CVE-2023-4911", 7.8),
        r9("RHSA-2024:2722", "2024-05-06", "glibc", "glibc=2.34-100.el9_4.2 glibc-common=2.34-100.el9_4.2", "CVE-2024-2961 CVE-2024-33599", 8.8),
        r9("RHSA-2024:3138", "2024-05-22", "kernel", k9.format(v="427.18.1.el9_4"), "CVE-2024-1086 CVE-2024-26642", 7.8),
        r9("RHSA-2025:1068", "2025-02-05", "kernel", k9.format(v="503.26.1.el9_5"), "CVE-2024-53104 CVE-2024-50302", 7.8),
        r9("RHSA-2025:6966", "2025-05-13", "kernel", k9.format(v="570.12.1.el9_6"), "CVE-2024-53197 CVE-2024-53150", 7.8),
        r9("RHSA-2025:11861", "2025-07-28", "kernel", k9.format(v="570.28.1.el9_6"), "CVE-2025-37899 CVE-2025-38089", 7.8),
        r9("RHSA-2025:10737", "2025-07-09", "sudo", "sudo=1.9.5p2-10.el9_6.1", "CVE-2025-32462", 8.8, "moderate"),
        r9("RHSA-2024:5312", "2024-08-13", "openssl", "openssl=1:3.0.7-28.el9_4 openssl-libs=1:3.0.7-28.el9_4", "CVE-2024-5535", 9.1, "moderate"),
        r9("RHSA-2025:1330", "2025-02-11", "openssl", "openssl=1:3.2.2-6.el9_5.1 openssl-libs=1:3.2.2-6.el9_5.1", "CVE-2024-12797", 6.3),
        r9("RHSA-2024:5654", "2024-08-20", "curl", "curl=7.76.1-29.el9_4.1 libcurl=7.76.1-29.el9_4.1", "CVE-2024-2398", 8.6, "moderate"),
        r9("RHSA-2025:13933", "2025-08-18", "git", "git=2.47.3-1.el9_6 git-core=2.47.3-1.el9_6", "CVE-2025-48384 CVE-2025-48385", 8.1),
        r9("RHSA-2024:4726", "2024-07-23", "httpd", "httpd=2.4.57-11.el9_4.1 mod_ssl=1:2.4.57-11.el9_4.1", "CVE-2024-38475 CVE-2024-38474", 9.1),
        r9("RHSA-2025:1736", "2025-02-20", "postgresql", "postgresql=13.20-1.el9_5 postgresql-server=13.20-1.el9_5", "CVE-2025-1094", 8.1),
        r9("RHSA-2024:1522", "2024-03-26", "bind", "bind=32:9.16.23-15.el9_3.3 bind-libs=32:9.16.23-15.el9_3.3", "CVE-2023-50387 CVE-2023-50868", 7.5),
        r9("RHSA-2025:4051", "2025-04-22", "libxml2", "libxml2=2.9.13-9.el9_5", "CVE-2025-32414 CVE-2025-32415", 7.5, "moderate"),
        r9("RHSA-2025:3029", "2025-03-18", "microcode_ctl", "microcode_ctl=4:20250211-1.el9_5", "CVE-2024-31068 CVE-2024-36293", 5.6, "moderate"),
        r9("RHSA-2024:6975", "2024-09-24", "python3.9", "python3=3.9.19-8.el9_5.1 python3-libs=3.9.19-8.el9_5.1", "CVE-2024-6232 CVE-2024-7592", 7.5, "moderate"),
        r9("RHSA-2025:3531", "2025-04-02", "expat", "expat=2.5.0-3.el9_5.3", "CVE-2024-8176", 7.5, "moderate"),
        r9("RHSA-2025:0925", "2025-02-04", "rsync", "rsync=3.2.3-20.el9_5.1", "CVE-2024-12084 CVE-2024-12085 CVE-2024-12086", 9.8),
        r9("RHSA-2025:1673", "2025-02-19", "nginx", "nginx=1:1.20.1-22.el9_5.1", "CVE-2025-23419", 5.3, "moderate"),
        r9("RHSA-2025:7451", "2025-05-13", "vim", "vim-minimal=2:8.2.2637-21.el9_6", "CVE-2025-22134 CVE-2025-24014", 4.2, "low"),
        r9("RHBA-2025:4110", "2025-04-23", "tzdata", "tzdata=2025b-1.el9", classification=BUGFIX),
        r9("RHBA-2025:7456", "2025-05-13", "systemd", "systemd=252-51.el9_6.1 systemd-libs=252-51.el9_6.1", classification=BUGFIX),
        r9("RHEA-2025:7502", "2025-05-13", "insights-client", "insights-client=0:3.2.8-1.el9", classification=FEATURE),
        r8("RHSA-2021:0218", "2021-01-26", "sudo", "sudo=1.8.29-6.el8_3.1", "CVE-2021-3156", 7.8),
        r8("RHSA-2023:0291", "2023-01-23", "sudo", "sudo=1.8.29-8.el8_7.1", "CVE-2023-22809", 7.8),
        r8("RHSA-2022:0267", "2022-01-25", "polkit", "polkit=0.115-13.el8_5.1 polkit-libs=0.115-13.el8_5.1", "CVE-2021-4034", 7.8),
        r8("RHSA-2024:3339", "2024-05-23", "glibc", "glibc=2.28-236.el8_9.13 glibc-common=2.28-236.el8_9.13", "CVE-2024-2961 CVE-2024-33599", 8.8),
        r8("RHSA-2024:3618", "2024-06-05", "kernel", k8.format(v="553.5.1.el8_10"), "CVE-2024-1086", 7.8),
        r8("RHSA-2025:1659", "2025-02-19", "kernel", k8.format(v="553.40.1.el8_10"), "CVE-2024-53104 CVE-2024-50302", 7.8),
        r8("RHSA-2025:7423", "2025-05-14", "kernel", k8.format(v="553.53.1.el8_10"), "CVE-2024-53197 CVE-2024-53150", 7.8),
        r8("RHSA-2024:5138", "2024-08-08", "openssl", "openssl=1:1.1.1k-14.el8_10 openssl-libs=1:1.1.1k-14.el8_10", "CVE-2024-5535", 9.1, "moderate"),
        r8("RHSA-2024:5529", "2024-08-19", "curl", "curl=7.61.1-34.el8_10.2 libcurl=7.61.1-34.el8_10.2", "CVE-2024-2398", 8.6, "moderate"),
        r8("RHSA-2024:5193", "2024-08-12", "httpd", "httpd=2.4.37-65.module+el8.10.0+22069+b47f5c72.1", "CVE-2024-38475 CVE-2024-38474", 9.1),
        r8("RHSA-2025:13934", "2025-08-18", "git", "git=2.43.7-1.el8_10 git-core=2.43.7-1.el8_10", "CVE-2025-48384", 8.1),
        r8("RHSA-2024:5962", "2024-08-28", "python3", "platform-python=3.6.8-67.el8_10 python3-libs=3.6.8-67.el8_10", "CVE-2024-6232", 7.5, "moderate"),
        r8("RHSA-2025:3893", "2025-04-15", "expat", "expat=2.2.5-17.el8_10", "CVE-2024-8176", 7.5, "moderate"),
        r8("RHSA-2024:1648", "2024-04-03", "bind", "bind=32:9.11.36-11.el8_9.1 bind-libs=32:9.11.36-11.el8_9.1", "CVE-2023-50387 CVE-2023-50868", 7.5),
        r8("RHSA-2025:1737", "2025-02-20", "postgresql", "postgresql=13.20-1.module+el8.10.0+22851+3b6a9f2e", "CVE-2025-1094", 8.1),
        r8("RHSA-2025:0325", "2025-01-16", "rsync", "rsync=3.1.3-20.el8_10", "CVE-2024-12085 CVE-2024-12086 CVE-2024-12087 CVE-2024-12088", 7.5),
        r8("RHSA-2025:3030", "2025-03-18", "microcode_ctl", "microcode_ctl=4:20250211-1.el8_10", "CVE-2024-31068 CVE-2024-36293", 5.6, "moderate"),
        r8("RHSA-2025:1680", "2025-02-19", "openssh", "openssh=8.0p1-25.el8_10 openssh-server=8.0p1-25.el8_10", "CVE-2025-26465", 6.8, "moderate"),
        r8("RHSA-2025:0829", "2025-01-29", "glibc", "glibc=2.28-251.el8_10.13 glibc-common=2.28-251.el8_10.13", "CVE-2025-0395", 7.5, "moderate"),
        r8("RHSA-2025:11858", "2025-07-28", "kernel", k8.format(v="553.63.1.el8_10"), "CVE-2025-38089 CVE-2025-21756", 7.8),
        r8("RHBA-2025:7510", "2025-05-13", "systemd", "systemd=239-82.el8_10.5 systemd-libs=239-82.el8_10.5", classification=BUGFIX),
        r8("RHBA-2025:4111", "2025-04-23", "tzdata", "tzdata=2025b-1.el8", classification=BUGFIX),
    ]


def _suse_rows() -> list[Row]:
    s6 = _maker("SUSE", "SUSE Linux Enterprise Server 15 SP6", (SLES15SP6,), _suse_title)
    s5 = _maker("SUSE", "SUSE Linux Enterprise Server 15 SP5", (SLES15SP5,), _suse_title)
    # SP6 reuses the SP5 package streams (150500 releases) for much of userland.
    s = _maker("SUSE", "SUSE Linux Enterprise Server 15", (SLES15SP5, SLES15SP6), _suse_title)
    k6 = "kernel-default=6.4.0-150600.23.{v}"
    return [
        s6("SUSE-SU-2024:2275-1", "2024-07-01", "openssh", "openssh=9.6p1-150600.6.3.1 openssh-server=9.6p1-150600.6.3.1", "CVE-2024-6387", 8.1),
        s6("SUSE-SU-2025:00582-1", "2025-02-18", "openssh", "openssh=9.6p1-150600.6.15.1 openssh-server=9.6p1-150600.6.15.1", "CVE-2025-26465 CVE-2025-26466", 6.8, "moderate"),
        s6("SUSE-SU-2024:1436-1", "2024-04-26", "glibc", "glibc=2.38-150600.14.3.1", "CVE-2024-2961", 8.8),
        s6("SUSE-SU-2025:01702-1", "2025-05-26", "glibc", "glibc=2.38-150600.14.26.1", "CVE-2025-4802", 7.8),
        s6("SUSE-SU-2025:0847-1", "2025-03-13", "kernel-default", k6.format(v="38.1"), "CVE-2024-53104 CVE-2024-50302", 7.8),
        s6("SUSE-SU-2025:01707-1", "2025-05-27", "kernel-default", k6.format(v="47.1"), "CVE-2024-53197 CVE-2024-53150", 7.8),
        s6("SUSE-SU-2025:02588-1", "2025-07-31", "kernel-default", k6.format(v="60.1"), "CVE-2025-37899 CVE-2025-38089", 7.8),
        s6("SUSE-SU-2025:02177-1", "2025-06-30", "sudo", "sudo=1.9.15p5-150600.3.9.1", "CVE-2025-32463 CVE-2025-32462", 9.3, "critical"),
        s6("SUSE-SU-2025:0430-1", "2025-02-12", "openssl-3", "openssl-3=3.1.4-150600.5.24.1 libopenssl3=3.1.4-150600.5.24.1", "CVE-2024-13176 CVE-2024-12797", 6.3, "moderate"),
        s6("SUSE-SU-2025:0057-1", "2025-01-09", "curl", "curl=8.6.0-150600.4.15.1 libcurl4=8.6.0-150600.4.15.1", "CVE-2024-11053", 3.4, "low"),
        s("SUSE-SU-2025:02401-1", "2025-07-18", "git", "git=2.43.0-150600.3.12.1 git-core=2.43.0-150600.3.12.1", "CVE-2025-48384 CVE-2025-48385", 8.1),
        s6("SUSE-SU-2024:2491-1", "2024-07-17", "apache2", "apache2=2.4.58-150600.5.18.1", "CVE-2024-38475 CVE-2024-38474", 9.1, "critical"),
        s("SUSE-SU-2025:0535-1", "2025-02-14", "postgresql16", "postgresql16=16.8-150600.16.15.1", "CVE-2025-1094", 8.1),
        s("SUSE-RU-2025:01296-1", "2025-04-17", "timezone", "timezone=2025b-150000.75.31.1", classification=BUGFIX),
        s6("SUSE-RU-2025:02004-1", "2025-06-19", "systemd", "systemd=254.25-150600.4.28.1 libsystemd0=254.25-150600.4.28.1", classification=BUGFIX),
        s("SUSE-SU-2025:0851-1", "2025-03-14", "libxml2", "libxml2-2=2.10.3-150500.5.20.1", "CVE-2025-24928 CVE-2024-56171", 7.8),
        s("SUSE-SU-2025:01010-1", "2025-03-27", "expat", "libexpat1=2.7.1-150400.3.28.1", "CVE-2024-8176", 7.5),
        s("SUSE-SU-2024:3217-1", "2024-09-11", "python311", "python311=3.11.10-150400.9.35.1", "CVE-2024-6232 CVE-2024-7592", 7.5),
        s("SUSE-SU-2024:0475-1", "2024-02-14", "bind", "bind=9.16.48-150500.8.14.1", "CVE-2023-50387 CVE-2023-50868", 7.5),
        s("SUSE-SU-2025:01653-1", "2025-05-21", "ucode-intel", "ucode-intel=20250512-150200.56.1", "CVE-2024-28956 CVE-2025-20103", 5.6, "moderate"),
        s("SUSE-SU-2025:0286-1", "2025-01-30", "rsync", "rsync=3.2.3-150400.3.23.1", "CVE-2024-12084 CVE-2024-12085 CVE-2024-12086", 9.8, "critical"),
        s("SUSE-SU-2025:02319-1", "2025-07-14", "vim", "vim=9.1.1406-150500.20.27.1", "CVE-2025-53905 CVE-2025-53906", 4.1, "low"),
        s("SUSE-SU-2025:0692-1", "2025-02-27", "openssl-1_1", "libopenssl1_1=1.1.1w-150500.17.40.1", "CVE-2024-13176", 4.1, "moderate"),
        s5("SUSE-SU-2025:01614-1", "2025-05-20", "kernel-default", "kernel-default=5.14.21-150500.55.103.1", "CVE-2024-53197 CVE-2024-53150", 7.8),
        s5("SUSE-SU-2025:0834-1", "2025-03-12", "kernel-default", "kernel-default=5.14.21-150500.55.97.1", "CVE-2024-53104 CVE-2024-50302", 7.8),
        s5("SUSE-SU-2025:00585-1", "2025-02-18", "openssh", "openssh=8.4p1-150300.3.43.1", "CVE-2025-26465", 6.8, "moderate"),
        s5("SUSE-SU-2024:1419-1", "2024-04-25", "glibc", "glibc=2.31-150300.83.1", "CVE-2024-2961", 8.8),
        s5("SUSE-SU-2025:02178-1", "2025-06-30", "sudo", "sudo=1.9.12p1-150500.7.10.1", "CVE-2025-32462", 8.8, "moderate"),
        s5("SUSE-SU-2024:2519-1", "2024-07-18", "apache2", "apache2=2.4.51-150400.6.26.1", "CVE-2024-38475", 9.1, "critical"),
    ]
# fmt: on


ROWS: tuple[Row, ...] = (*_debian_rows(), *_ubuntu_rows(), *_redhat_rows(), *_suse_rows())
