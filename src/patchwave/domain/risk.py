"""The risk model: a tier P1-P4, a 0-100 score, the reasons and a deadline for each finding.

Pure: plain data in, plain data out. The model is additive, so every point can be explained
(docs/risk-model.md is the user-facing description; keep the two in step):

=================================  =========================================================
factor                             points
=================================  =========================================================
a CVE is in CISA KEV               +30
  ... with known ransomware use    +10
host is internet-facing            +15
host has RDP exposed               +10 on Windows, +4 on other systems
CVSS (highest of the advisory)     3 per CVSS point, rounded down (9.8 -> 29)
vendor severity                    critical 27, important 21, moderate 12, low 5; used when
                                   CVSS is unknown, and as a floor under CVSS
EPSS (exploit probability)         >= 50%: +15, >= 10%: +10, >= 1%: +5
host criticality                   low 0, medium 3, high 7, critical 12
=================================  =========================================================

The sum is capped at 100. Tier by score: P1 >= 65, P2 >= 45, P3 >= 25, else P4. KEV rules
override upwards: any KEV is at least P2; KEV on an internet-facing or critical host, or with
known ransomware use, is P1. Updates classified bugfix/feature/driver/firmware/definition that
carry no CVE score only ``5 + criticality`` and are always P4.

Deadline: first seen + the tenant's SLA days for the tier; the earliest CISA due date among the
advisory's KEV CVEs wins when sooner, even when it is already past (the finding shows overdue).

Every factor only adds points and every tier rule only raises the tier, so adding KEV, raising
CVSS/EPSS/severity or making a host more exposed or critical never lowers score or tier.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from patchwave.domain.models import (
    Advisory,
    Classification,
    Criticality,
    Finding,
    Host,
    KevEntry,
    OsFamily,
    Risk,
    Severity,
    Sla,
    Tier,
)

__all__ = [
    "CRITICALITY_POINTS",
    "CVSS_POINTS_PER_UNIT",
    "EPSS_STEPS",
    "INTERNET_FACING_POINTS",
    "KEV_POINTS",
    "NON_SECURITY_POINTS",
    "RANSOMWARE_POINTS",
    "RDP_POINTS",
    "RDP_POINTS_WINDOWS",
    "SECURITY_CLASSIFICATIONS",
    "SEVERITY_POINTS",
    "TIER_THRESHOLDS",
    "Assessment",
    "RiskModel",
    "deadline_for",
    "finding_sort_key",
    "rank_findings",
    "sort_key",
    "tier_for_score",
]

KEV_POINTS = 30
RANSOMWARE_POINTS = 10
INTERNET_FACING_POINTS = 15
# RDP is the classic ransomware entry point on Windows; an exposed xrdp on Linux matters less.
RDP_POINTS_WINDOWS = 10
RDP_POINTS = 4
CVSS_POINTS_PER_UNIT = 3
# What a CVSS score typical of the severity would give (critical ~ 9.0, important ~ 7.0...).
SEVERITY_POINTS: Mapping[Severity, int] = {
    Severity.CRITICAL: 27,
    Severity.IMPORTANT: 21,
    Severity.MODERATE: 12,
    Severity.LOW: 5,
    Severity.UNSPECIFIED: 0,
}
# Steps rather than a curve so that "EPSS 12% -> +10" can be read off a table.
EPSS_STEPS: tuple[tuple[float, int], ...] = ((0.5, 15), (0.1, 10), (0.01, 5))
CRITICALITY_POINTS: Mapping[Criticality, int] = {
    Criticality.LOW: 0,
    Criticality.MEDIUM: 3,
    Criticality.HIGH: 7,
    Criticality.CRITICAL: 12,
}
NON_SECURITY_POINTS = 5
TIER_THRESHOLDS: tuple[tuple[int, Tier], ...] = ((65, Tier.P1), (45, Tier.P2), (25, Tier.P3))
SECURITY_CLASSIFICATIONS = frozenset({Classification.SECURITY, Classification.CRITICAL})

_CRITICALITY_LABELS = {
    Criticality.LOW: "low-criticality host",
    Criticality.MEDIUM: "medium-criticality host",
    Criticality.HIGH: "high-criticality host",
    Criticality.CRITICAL: "critical host",
}
_MEDIUM_LABEL = _CRITICALITY_LABELS[Criticality.MEDIUM]


def tier_for_score(score: int) -> Tier:
    """The tier a score earns on its own, before the KEV rules."""
    for threshold, tier in TIER_THRESHOLDS:
        if score >= threshold:
            return tier
    return Tier.P4


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a finding's risk is before dates: the part memoised per advisory and host profile.

    ``breakdown`` lists every factor with its points (it sums to the score before the cap of
    100); ``reasons`` are the labels a user sees, without the medium-criticality baseline.
    """

    tier: Tier
    score: int
    reasons: tuple[str, ...]
    breakdown: tuple[tuple[str, int], ...]
    kev_cves: tuple[str, ...]
    kev_due: date | None


def _cvss_points(cvss: float | None) -> int | None:
    if cvss is None or math.isnan(cvss):
        return None
    # Clamped: a feed with a bad value must not push the score outside 0..100.
    return int(min(max(cvss, 0.0), 10.0) * CVSS_POINTS_PER_UNIT)


def _epss_points(epss: float) -> int:
    for threshold, points in EPSS_STEPS:
        if epss >= threshold:
            return points
    return 0


@dataclass(frozen=True, slots=True)
class _AdvisoryFacts:
    """What the model needs from one advisory, host aside (computed once per advisory)."""

    security: bool
    kev_entries: tuple[KevEntry, ...]
    # (label, points) for CVSS or vendor severity, and for EPSS; None when they add nothing.
    severity_factor: tuple[str, int] | None
    epss_factor: tuple[str, int] | None
    classification: Classification


# One memo entry: the advisory it was computed for, its assessment, and the Risk objects
# already built for it by deadline (Risk is immutable, so findings share them).
_Entry = tuple[Advisory, Assessment, dict[date, Risk]]
_ProfileKey = tuple[str, OsFamily, Criticality, bool, bool]


class RiskModel:
    """Scores findings from KEV, EPSS, the advisory and the host.

    Args:
        kev: CVE id -> KEV entry (a :class:`~patchwave.feeds.kev.KevCatalogue` or a dict).
        epss: CVE id -> EPSS probability, used when the advisory carries no EPSS of its own.

    The date-free part of a score depends only on the advisory and the host's exposure profile
    (OS family, criticality, internet-facing, RDP exposed), so it is computed once per pair and
    reused: a fleet scan has a few hundred advisories but hundreds of thousands of findings.
    Sharing one Advisory object per advisory id keeps cache hits to an identity check; a
    different advisory object with the same id is compared field by field, never trusted blindly.
    The KEV and EPSS mappings are read once per advisory: call :meth:`clear_cache` if they change.
    """

    def __init__(
        self, kev: Mapping[str, KevEntry], epss: Mapping[str, float] | None = None
    ) -> None:
        self._kev = kev
        self._epss: Mapping[str, float] = epss if epss is not None else {}
        self._cache: dict[_ProfileKey, _Entry] = {}
        self._facts: dict[str, tuple[Advisory, _AdvisoryFacts]] = {}
        self._slas: dict[int, tuple[Sla, dict[Tier, timedelta]]] = {}

    @property
    def cache_size(self) -> int:
        """How many (advisory, host profile) assessments are memoised."""
        return len(self._cache)

    def clear_cache(self) -> None:
        """Forget memoised results (after the KEV or EPSS data was changed in place)."""
        self._cache.clear()
        self._facts.clear()
        self._slas.clear()

    def assess(self, advisory: Advisory, host: Host) -> Assessment:
        """Tier, score, reasons and KEV due date of ``advisory`` missing on ``host``."""
        return self._entry(advisory, host)[1]

    def score(self, advisory: Advisory, host: Host, *, sla: Sla, first_seen: date) -> Risk:
        """The risk of ``advisory`` missing on ``host``, first seen on ``first_seen`` (a date;
        a datetime is reduced to its date)."""
        # The hot path of a fleet scan (hundreds of thousands of calls): lookups only.
        entry = self._cache.get(
            (advisory.id, host.os_family, host.criticality, host.internet_facing, host.rdp_exposed)
        )
        if entry is None or (entry[0] is not advisory and entry[0] != advisory):
            entry = self._entry(advisory, host)
        if isinstance(first_seen, datetime):
            first_seen = first_seen.date()
        deltas = self._slas.get(id(sla))
        if deltas is None or deltas[0] is not sla:
            deltas = self._register_sla(sla)
        assessment = entry[1]
        deadline = first_seen + deltas[1][assessment.tier]
        kev_due = assessment.kev_due
        if kev_due is not None and kev_due < deadline:
            deadline = kev_due
        # Findings with the same assessment and deadline share one (immutable) Risk.
        risk = entry[2].get(deadline)
        if risk is None:
            risk = Risk(assessment.tier, assessment.score, assessment.reasons, deadline)
            entry[2][deadline] = risk
        return risk

    def _entry(self, advisory: Advisory, host: Host) -> _Entry:
        key = (
            advisory.id,
            host.os_family,
            host.criticality,
            host.internet_facing,
            host.rdp_exposed,
        )
        entry = self._cache.get(key)
        if entry is not None and (entry[0] is advisory or entry[0] == advisory):
            return entry
        entry = (advisory, _assess(self._advisory_facts(advisory), host), {})
        self._cache[key] = entry
        return entry

    def _register_sla(self, sla: Sla) -> tuple[Sla, dict[Tier, timedelta]]:
        # Keyed by identity because hashing a dataclass is slow; the entry keeps the Sla alive so
        # its id cannot be taken by another object while the entry exists.
        if len(self._slas) >= 4096:  # a caller building a new Sla per finding
            self._slas.clear()
        entry = (sla, {tier: timedelta(days=sla.days(tier)) for tier in Tier})
        self._slas[id(sla)] = entry
        return entry

    def _advisory_facts(self, advisory: Advisory) -> _AdvisoryFacts:
        hit = self._facts.get(advisory.id)
        if hit is not None and (hit[0] is advisory or hit[0] == advisory):
            return hit[1]
        cves = tuple(dict.fromkeys(cve.strip().upper() for cve in advisory.cves))
        kev_entries = tuple(entry for cve in cves if (entry := self._kev.get(cve)) is not None)

        severity_factor: tuple[str, int] | None = None
        cvss_points = _cvss_points(advisory.cvss)
        severity_points = SEVERITY_POINTS[advisory.severity]
        if cvss_points is not None and cvss_points >= severity_points:
            if cvss_points:
                severity_factor = (f"CVSS {advisory.cvss:.1f}", cvss_points)
        elif severity_points:
            severity_factor = (f"vendor severity {advisory.severity.value}", severity_points)

        epss = advisory.epss
        if epss is None:
            epss = max((p for cve in cves if (p := self._epss.get(cve)) is not None), default=0.0)
        epss = 0.0 if math.isnan(epss) else min(max(epss, 0.0), 1.0)
        epss_points = _epss_points(epss)

        facts = _AdvisoryFacts(
            security=bool(cves) or advisory.classification in SECURITY_CLASSIFICATIONS,
            kev_entries=kev_entries,
            severity_factor=severity_factor,
            epss_factor=(f"EPSS {epss:.0%}", epss_points) if epss_points else None,
            classification=advisory.classification,
        )
        self._facts[advisory.id] = (advisory, facts)
        return facts


def _assess(facts: _AdvisoryFacts, host: Host) -> Assessment:
    factors: list[tuple[str, int]] = []
    if not facts.security:
        # A driver or feature update fixes no known vulnerability: whatever the host, it stays
        # below P3 so it never crowds out security work.
        label = f"{facts.classification.value} update without CVE"
        factors.append((label, NON_SECURITY_POINTS))
    else:
        if facts.kev_entries:
            factors.append(("KEV", KEV_POINTS))
            if any(entry.ransomware for entry in facts.kev_entries):
                factors.append(("ransomware use", RANSOMWARE_POINTS))
        if host.internet_facing:
            factors.append(("internet-facing", INTERNET_FACING_POINTS))
        if host.rdp_exposed:
            windows = host.os_family is OsFamily.WINDOWS
            factors.append(("RDP exposed", RDP_POINTS_WINDOWS if windows else RDP_POINTS))
        if facts.severity_factor is not None:
            factors.append(facts.severity_factor)
        if facts.epss_factor is not None:
            factors.append(facts.epss_factor)
    criticality_points = CRITICALITY_POINTS[host.criticality]
    if criticality_points:
        factors.append((_CRITICALITY_LABELS[host.criticality], criticality_points))

    score = min(100, sum(points for _, points in factors))
    tier = tier_for_score(score)
    kev_entries = facts.kev_entries
    if kev_entries:
        if (
            host.internet_facing
            or host.criticality is Criticality.CRITICAL
            or any(entry.ransomware for entry in kev_entries)
        ):
            tier = Tier.P1
        elif not tier.at_least(Tier.P2):
            tier = Tier.P2
    return Assessment(
        tier=tier,
        score=score,
        # The medium-criticality baseline applies to most hosts: listing it would be noise.
        reasons=tuple(label for label, _ in factors if label != _MEDIUM_LABEL),
        breakdown=tuple(factors),
        kev_cves=tuple(entry.cve for entry in kev_entries),
        kev_due=min((entry.due_date for entry in kev_entries), default=None),
    )


def deadline_for(tier: Tier, *, sla: Sla, first_seen: date, kev_due: date | None = None) -> date:
    """First seen + the SLA days of ``tier``, or the KEV due date when that is sooner."""
    if isinstance(first_seen, datetime):
        first_seen = first_seen.date()
    deadline = first_seen + timedelta(days=sla.days(tier))
    return kev_due if kev_due is not None and kev_due < deadline else deadline


# Tier.rank goes through Enum.value on every call; sorting 200,000 findings notices.
_TIER_RANK = {tier: tier.rank for tier in Tier}


def sort_key(risk: Risk) -> tuple[int, int, date]:
    """Most urgent first: tier, then higher score, then earlier deadline."""
    return (_TIER_RANK[risk.tier], -risk.score, risk.deadline)


def finding_sort_key(finding: Finding) -> tuple[int, int, date, str, str]:
    """:func:`sort_key` for findings; unscored findings go last; ties break on host then
    advisory so the order is stable between runs."""
    risk = finding.risk
    if risk is None:
        return (5, 0, date.max, finding.host.key, finding.advisory.id)
    return (
        _TIER_RANK[risk.tier],
        -risk.score,
        risk.deadline,
        finding.host.key,
        finding.advisory.id,
    )


def rank_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered most urgent first (see :func:`finding_sort_key`)."""
    return sorted(findings, key=finding_sort_key)
