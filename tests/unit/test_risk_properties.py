"""Properties of the risk model (hypothesis): bounded, consistent, monotone, deterministic."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from patchwave.domain.models import (
    Advisory,
    Classification,
    Criticality,
    Host,
    KevEntry,
    OsFamily,
    Severity,
    Sla,
    Tier,
)
from patchwave.domain.risk import Assessment, RiskModel, tier_for_score
from patchwave.feeds.kev import shipped_kev

CATALOGUE = shipped_kev()
# Real KEV entries with and without ransomware use, with due dates from 2021 to 2025...
KEV_POOL = (
    "CVE-2025-53770",
    "CVE-2025-49704",
    "CVE-2021-44228",
    "CVE-2021-3156",
    "CVE-2025-48384",
    "CVE-2024-21413",
    "CVE-2023-44487",
)
# ...and real CVEs that are not in the catalogue.
OTHER_POOL = ("CVE-2024-6387", "CVE-2024-38063", "CVE-2025-53771", "CVE-2023-38545")
FULL_KEV = {cve: CATALOGUE[cve] for cve in KEV_POOL}

CRITICALITY_ORDER = list(Criticality)  # low < medium < high < critical
SEVERITY_ORDER = [
    Severity.UNSPECIFIED,
    Severity.LOW,
    Severity.MODERATE,
    Severity.IMPORTANT,
    Severity.CRITICAL,
]

cvss_values = st.none() | st.floats(min_value=0.0, max_value=10.0, allow_nan=False)
epss_values = st.none() | st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def advisories(draw: st.DrawFn) -> Advisory:
    return Advisory(
        id=draw(st.sampled_from(["KB5002768", "DSA-5724-1", "RHSA-2025:1234"])),
        vendor="vendor",
        title="title",
        classification=draw(st.sampled_from(list(Classification))),
        severity=draw(st.sampled_from(list(Severity))),
        cves=tuple(draw(st.lists(st.sampled_from(KEV_POOL + OTHER_POOL), max_size=4))),
        cvss=draw(cvss_values),
        epss=draw(epss_values),
    )


@st.composite
def hosts(draw: st.DrawFn) -> Host:
    return Host(
        tenant="acme",
        site="hq",
        name=draw(st.sampled_from(["web01", "db01", "desk42"])),
        os_family=draw(st.sampled_from(list(OsFamily))),
        criticality=draw(st.sampled_from(CRITICALITY_ORDER)),
        internet_facing=draw(st.booleans()),
        rdp_exposed=draw(st.booleans()),
    )


slas = st.builds(
    Sla,
    p1_days=st.integers(0, 30),
    p2_days=st.integers(0, 60),
    p3_days=st.integers(0, 120),
    p4_days=st.integers(0, 365),
)
first_seens = st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31))
kev_subsets = st.sets(st.sampled_from(KEV_POOL)).map(
    lambda cves: {cve: FULL_KEV[cve] for cve in cves}
)
epss_maps = st.dictionaries(
    st.sampled_from(KEV_POOL + OTHER_POOL), st.floats(0.0, 1.0, allow_nan=False), max_size=6
)


def assert_not_lower(low: Assessment, high: Assessment) -> None:
    assert high.score >= low.score, (low, high)
    assert high.tier.at_least(low.tier), (low, high)


def expected_tier(score: int, kev: list[KevEntry], host: Host) -> Tier:
    tier = tier_for_score(score)
    if not kev:
        return tier
    if host.internet_facing or host.criticality is Criticality.CRITICAL:
        return Tier.P1
    if any(entry.ransomware for entry in kev):
        return Tier.P1
    return tier if tier.at_least(Tier.P2) else Tier.P2


@given(advisories(), hosts(), kev_subsets, epss_maps, st.tuples(slas, first_seens))
def test_score_is_bounded_and_the_tier_follows_thresholds_and_kev_rules(
    advisory: Advisory,
    host: Host,
    kev: dict[str, KevEntry],
    epss: dict[str, float],
    when: tuple[Sla, date],
) -> None:
    sla, first_seen = when
    risk = RiskModel(kev, epss).score(advisory, host, sla=sla, first_seen=first_seen)
    assert 0 <= risk.score <= 100
    hits = [kev[cve] for cve in dict.fromkeys(advisory.cves) if cve in kev]
    assert risk.tier is expected_tier(risk.score, hits, host)
    assert ("KEV" in risk.reasons) == bool(hits)
    if hits:
        assert risk.tier.at_least(Tier.P2)


@given(advisories(), hosts(), kev_subsets, slas, first_seens)
def test_deadline_is_never_later_than_the_sla_and_never_ignores_a_kev_due_date(
    advisory: Advisory, host: Host, kev: dict[str, KevEntry], sla: Sla, first_seen: date
) -> None:
    risk = RiskModel(kev).score(advisory, host, sla=sla, first_seen=first_seen)
    by_sla = first_seen + timedelta(days=sla.days(risk.tier))
    due_dates = [kev[cve].due_date for cve in advisory.cves if cve in kev]
    assert risk.deadline <= by_sla
    assert risk.deadline == min([by_sla, *due_dates])


@given(advisories(), hosts(), kev_subsets, kev_subsets)
def test_adding_kev_entries_never_lowers_score_or_tier(
    advisory: Advisory, host: Host, kev: dict[str, KevEntry], more: dict[str, KevEntry]
) -> None:
    assert_not_lower(
        RiskModel(kev).assess(advisory, host), RiskModel(kev | more).assess(advisory, host)
    )


@given(advisories(), hosts(), st.sampled_from(KEV_POOL))
def test_adding_a_kev_cve_to_any_advisory_never_lowers_score_or_tier(
    advisory: Advisory, host: Host, cve: str
) -> None:
    model = RiskModel(FULL_KEV)
    with_kev = replace(advisory, id=advisory.id + "-kev", cves=(*advisory.cves, cve))
    assert_not_lower(model.assess(advisory, host), model.assess(with_kev, host))


@given(advisories(), hosts(), cvss_values, cvss_values)
def test_raising_cvss_never_lowers_score_or_tier(
    advisory: Advisory, host: Host, x: float | None, y: float | None
) -> None:
    # None (unknown) sorts below every known score.
    low, high = sorted([x, y], key=lambda v: -1.0 if v is None else v)
    model = RiskModel(FULL_KEV)
    a = replace(advisory, id="low", cvss=low)
    b = replace(advisory, id="high", cvss=high)
    assert_not_lower(model.assess(a, host), model.assess(b, host))


@given(advisories(), hosts(), epss_values, epss_values, epss_maps)
def test_raising_epss_never_lowers_score_or_tier(
    advisory: Advisory, host: Host, x: float | None, y: float | None, epss: dict[str, float]
) -> None:
    model = RiskModel(FULL_KEV)
    low, high = sorted([x or 0.0, y or 0.0])
    a = replace(advisory, id="low", epss=low)
    b = replace(advisory, id="high", epss=high)
    assert_not_lower(model.assess(a, host), model.assess(b, host))
    # The same through the EPSS feed: raising every CVE's probability.
    plain = replace(advisory, epss=None)
    raised = {cve: min(1.0, p + 0.3) for cve, p in epss.items()}
    assert_not_lower(
        RiskModel(FULL_KEV, epss).assess(plain, host),
        RiskModel(FULL_KEV, raised).assess(plain, host),
    )


@given(advisories(), hosts(), st.sampled_from(SEVERITY_ORDER), st.sampled_from(SEVERITY_ORDER))
def test_raising_vendor_severity_never_lowers_score_or_tier(
    advisory: Advisory, host: Host, x: Severity, y: Severity
) -> None:
    low, high = sorted([x, y], key=SEVERITY_ORDER.index)
    model = RiskModel(FULL_KEV)
    a = replace(advisory, id="low", severity=low)
    b = replace(advisory, id="high", severity=high)
    assert_not_lower(model.assess(a, host), model.assess(b, host))


@given(advisories(), hosts(), st.data())
def test_more_exposure_or_criticality_never_lowers_score_or_tier(
    advisory: Advisory, host: Host, data: st.DataObject
) -> None:
    model = RiskModel(FULL_KEV)
    higher = CRITICALITY_ORDER[CRITICALITY_ORDER.index(host.criticality) :]
    worse = replace(
        host,
        criticality=data.draw(st.sampled_from(higher)),
        internet_facing=host.internet_facing or data.draw(st.booleans()),
        rdp_exposed=host.rdp_exposed or data.draw(st.booleans()),
    )
    assert_not_lower(model.assess(advisory, host), model.assess(advisory, worse))


@given(
    st.lists(st.tuples(advisories(), hosts(), slas, first_seens), min_size=1, max_size=20),
    kev_subsets,
    epss_maps,
)
@settings(max_examples=50)
def test_scoring_is_deterministic_and_the_cache_never_changes_an_answer(
    cases: list[tuple[Advisory, Host, Sla, date]],
    kev: dict[str, KevEntry],
    epss: dict[str, float],
) -> None:
    # One long-lived model sees advisories that share ids but differ: it must still agree with a
    # fresh model for every single finding.
    shared = RiskModel(kev, epss)
    for advisory, host, sla, first_seen in cases:
        fresh = RiskModel(kev, epss).score(advisory, host, sla=sla, first_seen=first_seen)
        again = RiskModel(kev, epss).score(advisory, host, sla=sla, first_seen=first_seen)
        assert fresh == again
        assert shared.score(advisory, host, sla=sla, first_seen=first_seen) == fresh
