# Data tables: rows are built by positional helpers, which read best here, hence the noqa.
# ruff: noqa: PLR0917
"""Microsoft rows of the simulated catalogue: monthly cumulative updates January-August 2025,
out-of-band releases, .NET, Defender, servicing stack, server products, drivers and firmware.

CVE ids are real (the KEV members were checked against the CISA KEV snapshot 2025.08.25).
KB numbers of the cumulative updates are Microsoft's as far as we know them; the out-of-band,
.NET, Office, server-product, driver and firmware ids are ILLUSTRATIVE: right format, numbers
not checked against the Update Catalog. The CVE list of a month is shared by every Windows
version for brevity; in reality a few CVEs apply to some versions only.
"""

from __future__ import annotations

from patchwave.domain.models import Classification
from patchwave.endpoints._catalogue_rows import (
    CRIT,
    DEFINITION,
    DRIVER,
    FIRMWARE,
    SEC,
    W10,
    W11_23,
    W11_24,
    W2016,
    W2019,
    W2022,
    W2025,
    WIN_ALL,
    WIN_CLIENTS,
    WIN_SERVERS,
    Row,
    sev,
)

# fmt: off
# Patch Tuesdays of 2025 and each month's notable CVEs with their CVSS 3.1 base scores.
_MONTHS: tuple[tuple[str, str, tuple[tuple[str, float], ...]], ...] = (
    ("2025-01", "2025-01-14", (
        ("CVE-2025-21333", 7.8), ("CVE-2025-21334", 7.8), ("CVE-2025-21335", 7.8),  # KEV
        ("CVE-2025-21298", 9.8), ("CVE-2025-21311", 9.8), ("CVE-2025-21307", 9.8),
    )),
    ("2025-02", "2025-02-11", (
        ("CVE-2025-21418", 7.8), ("CVE-2025-21391", 7.1),  # KEV
        ("CVE-2025-21376", 8.1), ("CVE-2025-21377", 6.5), ("CVE-2025-21379", 7.1),
    )),
    ("2025-03", "2025-03-11", (
        ("CVE-2025-24983", 7.0), ("CVE-2025-24984", 4.6), ("CVE-2025-24985", 7.8),  # KEV
        ("CVE-2025-24991", 5.5), ("CVE-2025-24993", 7.8), ("CVE-2025-26633", 7.0),  # KEV
        ("CVE-2025-24054", 6.5),  # KEV (NTLM hash disclosure)
        ("CVE-2025-24035", 8.1), ("CVE-2025-24045", 8.1),  # Remote Desktop Services RCE
    )),
    ("2025-04", "2025-04-08", (
        ("CVE-2025-29824", 7.8),  # KEV, CLFS, used by ransomware
        ("CVE-2025-27480", 8.1), ("CVE-2025-27482", 8.1),  # Remote Desktop Gateway RCE
        ("CVE-2025-26663", 8.1), ("CVE-2025-26670", 8.1),  # LDAP RCE
    )),
    ("2025-05", "2025-05-13", (
        ("CVE-2025-32701", 7.8), ("CVE-2025-32706", 7.8), ("CVE-2025-32709", 7.8),  # KEV
        ("CVE-2025-30397", 7.5), ("CVE-2025-30400", 7.8),  # KEV
        ("CVE-2025-29966", 8.1), ("CVE-2025-29967", 8.8),  # Remote Desktop
    )),
    ("2025-06", "2025-06-10", (
        ("CVE-2025-33053", 8.8),  # KEV, WebDAV
        ("CVE-2025-33073", 8.8),  # SMB client elevation of privilege
        ("CVE-2025-32710", 8.1), ("CVE-2025-33071", 8.1), ("CVE-2025-29828", 8.1),
    )),
    ("2025-07", "2025-07-08", (
        ("CVE-2025-47981", 9.8), ("CVE-2025-48822", 8.6), ("CVE-2025-49735", 8.1),
        ("CVE-2025-48817", 8.8),  # Remote Desktop client RCE
    )),
    ("2025-08", "2025-08-12", (
        ("CVE-2025-53779", 7.2), ("CVE-2025-50165", 9.8), ("CVE-2025-53766", 9.8),
        ("CVE-2025-50171", 9.1), ("CVE-2025-53778", 8.8), ("CVE-2025-50177", 8.1),
    )),
)

# Cumulative update KB per Windows version, January..August 2025. Windows 11 24H2 and Windows
# Server 2025 share a servicing branch and so one KB per month.
_CU_KBS: tuple[tuple[tuple[str, ...], str, float, tuple[str, ...]], ...] = (
    ((W2016,), "Windows Server 2016", 55.0, (
        "KB5049993", "KB5052006", "KB5053594", "KB5055521",
        "KB5058383", "KB5061010", "KB5062560", "KB5063871",
    )),
    ((W2019,), "Windows Server 2019", 40.0, (
        "KB5050008", "KB5052000", "KB5053596", "KB5055519",
        "KB5058392", "KB5060531", "KB5062557", "KB5063877",
    )),
    ((W2022,), "Microsoft server operating system version 21H2", 35.0, (
        "KB5049983", "KB5051979", "KB5053603", "KB5055526",
        "KB5058385", "KB5060526", "KB5062572", "KB5063880",
    )),
    ((W2025, W11_24), "Windows 11 Version 24H2 and Windows Server 2025", 35.0, (
        "KB5050009", "KB5051987", "KB5053598", "KB5055523",
        "KB5058411", "KB5060842", "KB5062553", "KB5063878",
    )),
    ((W11_23,), "Windows 11 Version 23H2", 30.0, (
        "KB5050021", "KB5051989", "KB5053602", "KB5055528",
        "KB5058405", "KB5060999", "KB5062552", "KB5063875",
    )),
    ((W10,), "Windows 10 Version 22H2", 30.0, (
        "KB5049981", "KB5051974", "KB5053606", "KB5055518",
        "KB5058379", "KB5060533", "KB5062554", "KB5063709",
    )),
)


def _cumulative_updates() -> list[Row]:
    rows: list[Row] = []
    for platforms, product, minutes, kbs in _CU_KBS:
        line = "cu:" + "+".join(platforms)
        for kb, (month, released, cves) in zip(kbs, _MONTHS, strict=True):
            top = max(score for _, score in cves)
            rows.append(Row(
                id=kb, released=released, line=line, platforms=platforms,
                title=f"{month} Cumulative Update for {product} for x64-based Systems ({kb})",
                vendor="Microsoft", product=product,
                cves=" ".join(cve for cve, _ in cves), cvss=top,
                severity=sev("critical" if top >= 9.0 else "important"),
                classification=SEC, packages="", reboot=True, minutes=minutes,
            ))
    return rows


def _ms(
    kb: str, released: str, line: str | None, platforms: tuple[str, ...], title: str,
    product: str, cves: str = "", cvss: float | None = None, severity: str = "important",
    classification: Classification = SEC, *, reboot: bool = True, minutes: float = 10.0,
    roles: tuple[str, ...] = (),
) -> Row:
    return Row(
        id=kb, released=released, line=line, platforms=platforms, title=title,
        vendor="Microsoft", product=product, cves=cves, cvss=cvss, severity=sev(severity),
        classification=classification, packages="", reboot=reboot, minutes=minutes, roles=roles,
    )


def _other_microsoft() -> list[Row]:
    sp_roles = ("role:sharepoint",)
    sql_roles = ("role:sql",)
    return [
        # Out-of-band releases (illustrative KBs except KB5064489): they join the CU chain of
        # their version, superseding that month's CU and superseded by the next one.
        _ms("KB5064489", "2025-07-13", "cu:" + W2025 + "+" + W11_24, (W2025, W11_24),
            "2025-07 Out-of-band Cumulative Update for Windows 11 Version 24H2 and Windows "
            "Server 2025 (KB5064489)", "Windows 11 Version 24H2 and Windows Server 2025",
            severity="unspecified", classification=CRIT, minutes=35.0),
        _ms("KB5061906", "2025-05-22", "cu:" + W2022, (W2022,),
            "2025-05 Out-of-band Cumulative Update for Microsoft server operating system "
            "version 21H2 (KB5061906)", "Windows Server 2022",
            severity="unspecified", classification=CRIT, minutes=35.0),
        _ms("KB5055688", "2025-04-22", "cu:" + W2019, (W2019,),
            "2025-04 Out-of-band Cumulative Update for Windows Server 2019 (KB5055688)",
            "Windows Server 2019", severity="unspecified", classification=CRIT, minutes=40.0),
        _ms("KB5062799", "2025-07-08", "ssu:" + W2016, (W2016,),
            "2025-07 Servicing Stack Update for Windows Server 2016 (KB5062799)",
            "Windows Server 2016", severity="unspecified", classification=CRIT,
            reboot=False, minutes=5.0),
        # .NET Framework cumulative updates (illustrative KBs; the CVEs are real, the
        # February 2024 one is in KEV).
        _ms("KB5034612", "2024-02-13", "dotnet", WIN_ALL,
            "2024-02 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5034612)",
            ".NET Framework", "CVE-2024-21386 CVE-2024-21404 CVE-2024-29059", 7.5,
            minutes=8.0),
        _ms("KB5050187", "2025-01-14", "dotnet", WIN_ALL,
            "2025-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5050187)",
            ".NET Framework", "CVE-2025-21176", 8.8, minutes=8.0),
        _ms("KB5055170", "2025-04-08", "dotnet", WIN_ALL,
            "2025-04 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5055170)",
            ".NET Framework", "CVE-2025-26646", 8.0, minutes=8.0),
        _ms("KB5060996", "2025-06-10", "dotnet", WIN_ALL,
            "2025-06 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5060996)",
            ".NET Framework", "CVE-2025-30399", 7.5, minutes=8.0),
        # Defender: the real, ever-reused KB numbers; the version lives in the title.
        _ms("KB2267602", "2025-08-25", None, WIN_ALL,
            "Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 "
            "(Version 1.435.254.0)", "Microsoft Defender Antivirus", severity="unspecified",
            classification=DEFINITION, reboot=False, minutes=1.0),
        _ms("KB4052623", "2025-08-05", None, WIN_ALL,
            "Update for Microsoft Defender Antivirus antimalware platform - KB4052623 "
            "(Version 4.18.25070.5)", "Microsoft Defender Antivirus", severity="unspecified",
            classification=DEFINITION, reboot=False, minutes=2.0),
        _ms("KB890830", "2025-08-12", None, WIN_ALL,
            "Windows Malicious Software Removal Tool x64 - v5.135 (KB890830)",
            "Malicious Software Removal Tool", severity="unspecified",
            classification=DEFINITION, reboot=False, minutes=3.0),
        # SharePoint: the July 2025 "ToolShell" chain. The emergency updates of 20/21 July
        # supersede the July Patch Tuesday ones.
        _ms("KB5002741", "2025-07-08", "sharepoint-se", (W2022, W2025),
            "Security Update for Microsoft SharePoint Server Subscription Edition (KB5002741)",
            "SharePoint Server Subscription Edition", "CVE-2025-49704 CVE-2025-49706", 8.8,
            "critical", reboot=False, minutes=45.0, roles=sp_roles),
        _ms("KB5002768", "2025-07-20", "sharepoint-se", (W2022, W2025),
            "Security Update for Microsoft SharePoint Server Subscription Edition (KB5002768)",
            "SharePoint Server Subscription Edition", "CVE-2025-53770 CVE-2025-53771", 9.8,
            "critical", reboot=False, minutes=45.0, roles=sp_roles),
        _ms("KB5002754", "2025-07-20", "sharepoint-2019", (W2019,),
            "Security Update for Microsoft SharePoint Server 2019 (KB5002754)",
            "SharePoint Server 2019", "CVE-2025-53770 CVE-2025-53771 CVE-2025-49704 "
            "CVE-2025-49706", 9.8, "critical", reboot=False, minutes=45.0, roles=sp_roles),
        _ms("KB5002760", "2025-07-21", "sharepoint-2016", (W2016,),
            "Security Update for Microsoft SharePoint Enterprise Server 2016 (KB5002760)",
            "SharePoint Server 2016", "CVE-2025-53770 CVE-2025-53771 CVE-2025-49704 "
            "CVE-2025-49706", 9.8, "critical", reboot=False, minutes=45.0, roles=sp_roles),
        _ms("KB5058721", "2025-07-08", "sql2022", WIN_SERVERS,
            "Security Update for SQL Server 2022 RTM GDR (KB5058721)", "SQL Server 2022",
            "CVE-2025-49719", 7.5, reboot=False, minutes=15.0, roles=sql_roles),
        _ms("KB5063814", "2025-08-12", "sql2022", WIN_SERVERS,
            "Security Update for SQL Server 2022 RTM CU20 (KB5063814)", "SQL Server 2022",
            "CVE-2025-49758 CVE-2025-24999", 8.8, reboot=False, minutes=20.0,
            roles=sql_roles),
        _ms("KB5035606", "2024-02-13", "exchange2019", (W2019, W2022),
            "Cumulative Update 14 for Exchange Server 2019 (KB5035606)",
            "Exchange Server 2019", "CVE-2024-21410", 9.8, "critical", minutes=75.0,
            roles=("role:exchange",)),
        _ms("KB5002700", "2025-04-08", "office2016", WIN_CLIENTS,
            "Security Update for Microsoft Office 2016 (KB5002700)", "Office 2016",
            "CVE-2025-29791 CVE-2025-27745", 7.8, reboot=False, minutes=10.0),
        _ms("KB5002763", "2025-07-08", "office2016", WIN_CLIENTS,
            "Security Update for Microsoft Office 2016 (KB5002763)", "Office 2016",
            "CVE-2025-49695 CVE-2025-49696", 8.4, "critical", reboot=False, minutes=10.0),
        _ms("KB5002776", "2025-08-12", "office2016", WIN_CLIENTS,
            "Security Update for Microsoft Office 2016 (KB5002776)", "Office 2016",
            "CVE-2025-53740 CVE-2025-53731", 8.4, "critical", reboot=False, minutes=10.0),
    ]


def _hardware() -> list[Row]:
    # Windows Update identifies drivers and firmware by GUID; these ids are ours.
    def hw(id_: str, released: str, platforms: tuple[str, ...], vendor: str, title: str,
           classification: Classification, *, reboot: bool, minutes: float) -> Row:
        return Row(
            id=id_, released=released, line=None, platforms=platforms, title=title,
            vendor=vendor, product=title.split(" - ", maxsplit=1)[0], cves="", cvss=None,
            severity=sev("unspecified"), classification=classification, packages="",
            reboot=reboot, minutes=minutes,
        )

    return [
        hw("WU-DRV-INTEL-NET-29.2", "2025-05-20", WIN_ALL, "Intel",
           "Intel - Net - 12.19.2.60", DRIVER, reboot=False, minutes=3.0),
        hw("WU-DRV-VMWARE-PVSCSI-1.3.26", "2025-03-18", WIN_SERVERS, "VMware",
           "VMware, Inc. - SCSIAdapter - 1.3.26.0", DRIVER, reboot=True, minutes=4.0),
        hw("WU-DRV-INTEL-GFX-32.0.101.6790", "2025-06-17", WIN_CLIENTS, "Intel",
           "Intel Corporation - Display - 32.0.101.6790", DRIVER, reboot=False, minutes=6.0),
        hw("WU-DRV-REALTEK-AUDIO-6.0.9750", "2025-04-15", WIN_CLIENTS, "Realtek",
           "Realtek Semiconductor Corp. - MEDIA - 6.0.9750.1", DRIVER, reboot=False,
           minutes=3.0),
        hw("WU-FW-DELL-BIOS-PE-1.17.2", "2025-06-03", WIN_SERVERS, "Dell",
           "Dell Inc. - Firmware - 1.17.2", FIRMWARE, reboot=True, minutes=15.0),
        hw("WU-FW-LENOVO-BIOS-N3B-1.52", "2025-05-06", WIN_CLIENTS, "Lenovo",
           "Lenovo Ltd. - Firmware - 1.52.0.0", FIRMWARE, reboot=True, minutes=12.0),
    ]


# fmt: on
ROWS: tuple[Row, ...] = (*_cumulative_updates(), *_other_microsoft(), *_hardware())
