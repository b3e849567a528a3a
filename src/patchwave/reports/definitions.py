"""What the numbers in the reports mean, in the words printed in every report's footer."""

DEFINITIONS = {
    "host_compliant": (
        "A host is compliant when it has no open finding rated P1 or P2 and no open finding of "
        "a vulnerability listed in the CISA Known Exploited Vulnerabilities catalogue (KEV). "
        "Host compliance is the share of the hosts in scope that are compliant."
    ),
    "before_after": (
        "Before is measured when the campaign detected what was missing (the start of the run); "
        "after, at the end of the run, from the verification scans."
    ),
    "patch_compliance": (
        "Patch compliance is the share of the patches this campaign set out to install (one per "
        "host and advisory) that scans no longer find missing."
    ),
    "time_to_patch": (
        "Time to patch runs from when a missing patch was first seen on a host to when a scan "
        "confirmed it installed; median and 90th percentile over the patches resolved during "
        "the run."
    ),
    "sla": (
        "SLA met is the share of those patches resolved on or before their deadline: the "
        "client's SLA for the finding's risk tier from when it was first seen, or the CISA KEV "
        "due date when that is earlier. Overdue: open findings past their deadline at the end."
    ),
    "scope": (
        "Hosts in scope: hosts the campaign's scope selects (quarantined hosts excluded), "
        "including those that had nothing to patch."
    ),
}

FLEET_DEFINITIONS = {
    "host_compliant": (
        "A host is compliant when it has no open finding rated P1 or P2 and no open finding of "
        "a vulnerability listed in the CISA Known Exploited Vulnerabilities catalogue (KEV), "
        "the same rule as the campaign reports. A host that was never scanned is not counted "
        "as compliant: nothing is known about it."
    ),
    "sla": (
        "SLA met (30 days): the share of findings resolved in the last 30 days that were "
        "resolved on or before their deadline (the client's SLA for the risk tier from first "
        "seen, or the CISA KEV due date when earlier)."
    ),
    "age": "Age of an open finding: time since it was first seen; the median over open findings.",
    "overdue": "Overdue: open findings whose deadline has passed.",
}
