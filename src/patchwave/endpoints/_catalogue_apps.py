# Data tables: rows are built by positional helpers, which read best here, hence the noqa.
# ruff: noqa: PLR0917
"""Third-party application rows of the simulated catalogue (Windows hosts).

CVE ids are real; the KEV members (Chrome/Edge CVE-2025-2783, -5419, -6554, -6558, 7-Zip
CVE-2025-0411, WinRAR CVE-2025-8088, Firefox CVE-2024-9680, Acrobat CVE-2023-26369) were
checked against the CISA KEV snapshot 2025.08.25. Version numbers are the vendors' fixed
releases as far as we know them; Edge, Zoom, TeamViewer and VMware Tools builds are
ILLUSTRATIVE. Ids are ours (vendor prefix + fixed version) except Mozilla's MFSA and Adobe's
APSB bulletin numbers.
"""

from __future__ import annotations

from patchwave.domain.models import Classification
from patchwave.endpoints._catalogue_rows import (
    FEATURE,
    SEC,
    WIN_ALL,
    WIN_CLIENTS,
    WIN_SERVERS,
    Row,
    sev,
)


def _app(
    id_: str,
    released: str,
    line: str,
    platforms: tuple[str, ...],
    vendor: str,
    product: str,
    version: str,
    cves: str,
    cvss: float | None,
    severity: str = "important",
    *,
    minutes: float = 2.0,
    reboot: bool = False,
    classification: Classification = SEC,
    title: str | None = None,
) -> Row:
    kind = "Security update" if classification is SEC else "Update"
    return Row(
        id=id_,
        released=released,
        line=line,
        platforms=platforms,
        title=title or f"{kind}: {product} {version}",
        vendor=vendor,
        product=product,
        cves=cves,
        cvss=cvss,
        severity=sev(severity),
        classification=classification,
        packages="",
        reboot=reboot,
        minutes=minutes,
    )


def _chrome() -> list[Row]:
    def c(ver: str, day: str, cves: str, cvss: float, severity: str = "important") -> Row:
        return _app(
            f"CHROME-{ver}",
            day,
            "chrome",
            WIN_ALL,
            "Google",
            "Google Chrome",
            ver,
            cves,
            cvss,
            severity,
        )

    def e(ver: str, day: str, cves: str, cvss: float) -> Row:
        return _app(
            f"EDGE-{ver}", day, "edge", WIN_ALL, "Microsoft", "Microsoft Edge", ver, cves, cvss
        )

    return [
        c("134.0.6998.177", "2025-03-25", "CVE-2025-2783", 8.3),
        c("137.0.7151.68", "2025-06-02", "CVE-2025-5419 CVE-2025-5068", 8.8),
        c("138.0.7204.96", "2025-06-30", "CVE-2025-6554", 8.1),
        c("138.0.7204.157", "2025-07-15", "CVE-2025-6558 CVE-2025-7656 CVE-2025-7657", 8.8),
        c("139.0.7258.127", "2025-08-12", "CVE-2025-8576 CVE-2025-8577 CVE-2025-8578", 8.8),
        e("134.0.3124.93", "2025-03-26", "CVE-2025-2783", 8.3),
        e("137.0.3296.62", "2025-06-03", "CVE-2025-5419", 8.8),
        e("138.0.3351.65", "2025-07-01", "CVE-2025-6554", 8.1),
        e("138.0.3351.95", "2025-07-17", "CVE-2025-6558", 8.8),
    ]


def _mozilla() -> list[Row]:
    def f(mfsa: str, ver: str, day: str, cves: str, cvss: float, severity: str) -> Row:
        return _app(
            f"MFSA-{mfsa}",
            day,
            "firefox",
            WIN_ALL,
            "Mozilla",
            "Mozilla Firefox",
            ver,
            cves,
            cvss,
            severity,
            title=f"Mozilla Foundation Security Advisory {mfsa}: Firefox {ver}",
        )

    def esr(mfsa: str, ver: str, day: str, cves: str, cvss: float) -> Row:
        return _app(
            f"MFSA-{mfsa}",
            day,
            "firefox-esr",
            WIN_CLIENTS,
            "Mozilla",
            "Mozilla Firefox ESR",
            ver,
            cves,
            cvss,
            title=f"Mozilla Foundation Security Advisory {mfsa}: Firefox ESR {ver}",
        )

    return [
        f("2024-51", "131.0.2", "2024-10-09", "CVE-2024-9680", 9.8, "critical"),
        f("2025-36", "138.0.4", "2025-05-17", "CVE-2025-4918 CVE-2025-4919", 8.8, "critical"),
        f("2025-42", "139.0", "2025-05-27", "CVE-2025-5263 CVE-2025-5264", 9.8, "important"),
        f("2025-51", "140.0", "2025-06-24", "CVE-2025-6424 CVE-2025-6425", 7.5, "important"),
        f("2025-56", "141.0", "2025-07-22", "CVE-2025-8027 CVE-2025-8028", 9.8, "important"),
        esr("2025-54", "128.12", "2025-06-24", "CVE-2025-6424", 7.5),
        esr("2025-59", "128.13", "2025-07-22", "CVE-2025-8027 CVE-2025-8028", 9.8),
    ]


def _archivers_and_tools() -> list[Row]:
    def z(ver: str, day: str, cves: str, cvss: float, severity: str = "important") -> Row:
        return _app(
            f"7ZIP-{ver}",
            day,
            "7zip",
            WIN_ALL,
            "Igor Pavlov",
            "7-Zip",
            ver,
            cves,
            cvss,
            severity,
            minutes=1.0,
        )

    def rar(ver: str, day: str, cves: str, cvss: float) -> Row:
        return _app(
            f"WINRAR-{ver}",
            day,
            "winrar",
            WIN_ALL,
            "RARLAB",
            "WinRAR",
            ver,
            cves,
            cvss,
            minutes=1.0,
        )

    return [
        z("24.09", "2024-11-30", "CVE-2025-0411 CVE-2024-11477", 7.8),
        z("25.00", "2025-07-05", "CVE-2025-53816 CVE-2025-53817", 5.5, "moderate"),
        z("25.01", "2025-08-03", "CVE-2025-55188", 3.6, "low"),
        rar("7.11", "2025-04-02", "CVE-2025-31334", 6.8),
        rar("7.12", "2025-06-24", "CVE-2025-6218", 7.8),
        rar("7.13", "2025-07-30", "CVE-2025-8088", 8.8),
        _app(
            "NPP-8.8.2",
            "2025-06-26",
            "notepad++",
            WIN_ALL,
            "Notepad++",
            "Notepad++",
            "8.8.2",
            "CVE-2025-49144",
            7.3,
            minutes=1.0,
        ),
        _app(
            "PUTTY-0.81",
            "2024-04-15",
            "putty",
            WIN_ALL,
            "Simon Tatham",
            "PuTTY",
            "0.81",
            "CVE-2024-31497",
            5.9,
            "moderate",
            minutes=1.0,
        ),
        _app(
            "WINSCP-6.3.3",
            "2024-04-16",
            "winscp",
            WIN_ALL,
            "Martin Prikryl",
            "WinSCP",
            "6.3.3",
            "CVE-2024-31497",
            5.9,
            "moderate",
            minutes=1.0,
        ),
        _app(
            "KEEPASS-2.54",
            "2023-06-03",
            "keepass",
            WIN_CLIENTS,
            "Dominik Reichl",
            "KeePass Password Safe",
            "2.54",
            "CVE-2023-32784",
            7.5,
            minutes=1.0,
        ),
        _app(
            "GIT-WIN-2.50.1",
            "2025-07-08",
            "git-for-windows",
            WIN_ALL,
            "Git for Windows",
            "Git for Windows",
            "2.50.1",
            "CVE-2025-46334 CVE-2025-46835 CVE-2025-48386",
            8.6,
            minutes=2.0,
        ),
    ]


def _runtimes_and_readers() -> list[Row]:
    def java(line: str, ver: str, day: str, cves: str, cvss: float) -> Row:
        return _app(
            f"ORACLE-JDK-{ver}",
            day,
            line,
            WIN_ALL,
            "Oracle",
            f"Oracle Java SE {line.removeprefix('jdk')}",
            ver,
            cves,
            cvss,
            minutes=3.0,
        )

    apr = "CVE-2025-21587 CVE-2025-30691 CVE-2025-30698"
    jul = "CVE-2025-50106 CVE-2025-30749 CVE-2025-30754"

    def adobe(apsb: str, ver: str, day: str, cves: str, cvss: float) -> Row:
        return _app(
            f"APSB{apsb}",
            day,
            "acrobat-reader",
            WIN_CLIENTS,
            "Adobe",
            "Adobe Acrobat Reader",
            ver,
            cves,
            cvss,
            "critical",
            minutes=4.0,
            title=f"Adobe security bulletin APSB{apsb}: Acrobat Reader {ver}",
        )

    return [
        java("jdk8", "8u451", "2025-04-15", apr, 7.4),
        java("jdk8", "8u461", "2025-07-15", jul, 8.1),
        java("jdk17", "17.0.15", "2025-04-15", apr, 7.4),
        java("jdk17", "17.0.16", "2025-07-15", jul, 8.1),
        java("jdk21", "21.0.7", "2025-04-15", apr, 7.4),
        java("jdk21", "21.0.8", "2025-07-15", jul, 8.1),
        adobe("23-34", "23.006.20320", "2023-09-12", "CVE-2023-26369", 7.8),
        adobe("25-30", "25.001.20474", "2025-04-08", "CVE-2025-24431 CVE-2025-27158", 7.8),
        adobe("25-57", "25.001.20531", "2025-07-08", "CVE-2025-43578 CVE-2025-43576", 7.8),
        adobe("25-85", "25.001.20630", "2025-08-12", "CVE-2025-54257 CVE-2025-54255", 7.8),
    ]


def _collaboration_and_agents() -> list[Row]:
    return [
        _app(
            "VLC-3.0.21",
            "2024-06-10",
            "vlc",
            WIN_CLIENTS,
            "VideoLAN",
            "VLC media player",
            "3.0.21",
            "CVE-2024-46461",
            8.1,
            minutes=1.0,
        ),
        _app(
            "ZOOM-6.3.10",
            "2025-03-11",
            "zoom",
            WIN_CLIENTS,
            "Zoom",
            "Zoom Workplace",
            "6.3.10",
            "CVE-2025-27440 CVE-2025-0151",
            8.8,
            minutes=2.0,
        ),
        _app(
            "ZOOM-6.4.10",
            "2025-07-08",
            "zoom",
            WIN_CLIENTS,
            "Zoom",
            "Zoom Workplace",
            "6.4.10",
            "CVE-2025-49457",
            9.6,
            "critical",
            minutes=2.0,
        ),
        _app(
            "TEAMVIEWER-15.58.4",
            "2024-09-24",
            "teamviewer",
            WIN_ALL,
            "TeamViewer",
            "TeamViewer",
            "15.58.4",
            "CVE-2024-7479 CVE-2024-7481",
            8.8,
            minutes=2.0,
        ),
        _app(
            "VMTOOLS-12.5.1",
            "2025-03-25",
            "vmware-tools",
            WIN_SERVERS,
            "Broadcom",
            "VMware Tools for Windows",
            "12.5.1",
            "CVE-2025-22230",
            7.8,
            minutes=4.0,
            reboot=True,
        ),
        _app(
            "VMTOOLS-12.5.2",
            "2025-05-12",
            "vmware-tools",
            WIN_SERVERS,
            "Broadcom",
            "VMware Tools for Windows",
            "12.5.2",
            "CVE-2025-22247",
            6.1,
            "moderate",
            minutes=4.0,
            reboot=True,
        ),
        _app(
            "TEAMS-25153.1010",
            "2025-06-10",
            "teams",
            WIN_CLIENTS,
            "Microsoft",
            "Microsoft Teams",
            "25153.1010.3727.5483",
            "",
            None,
            "unspecified",
            classification=FEATURE,
            minutes=2.0,
        ),
    ]


ROWS: tuple[Row, ...] = (
    *_chrome(),
    *_mozilla(),
    *_archivers_and_tools(),
    *_runtimes_and_readers(),
    *_collaboration_and_agents(),
)
