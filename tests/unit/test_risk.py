"""The risk model on real CVEs from the shipped CISA KEV catalogue (2025.08.25)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from patchwave.domain.models import (
    Advisory,
    Classification,
    Criticality,
    Finding,
    Host,
    OsFamily,
    Risk,
    Severity,
    Sla,
    Tier,
)
from patchwave.domain.risk import (
    RiskModel,
    deadline_for,
    rank_findings,
    sort_key,
    tier_for_score,
)
from patchwave.feeds.kev import KevCatalogue, shipped_kev

TOOLSHELL = "CVE-2025-53770"  # SharePoint, KEV, ransomware use, due 2025-07-21
SHAREPOINT_RCE = "CVE-2025-49704"  # SharePoint, KEV, ransomware use, due 2025-07-23
SUDO = "CVE-2021-3156"  # Baron Samedit, KEV, no known ransomware use, due 2022-04-27
GIT = "CVE-2025-48384"  # Git, KEV, no known ransomware use, added 2025-08-25, due 2025-09-15
REGRESSHION = "CVE-2024-6387"  # OpenSSH, not in KEV
TCPIP_IPV6 = "CVE-2024-38063"  # Windows TCP/IP, not in KEV


def make_host(**overrides: object) -> Host:
    fields: dict[str, object] = {
        "tenant": "acme",
        "site": "hq",
        "name": "srv01",
        "os_family": OsFamily.WINDOWS,
        "criticality": Criticality.MEDIUM,
    }
    fields.update(overrides)
    return Host(**fields)  # type: ignore[arg-type]


def make_advisory(**overrides: object) -> Advisory:
    fields: dict[str, object] = {"id": "KB5002768", "vendor": "microsoft", "title": "update"}
    fields.update(overrides)
    return Advisory(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def kev() -> KevCatalogue:
    return shipped_kev()


@pytest.fixture
def model(kev: KevCatalogue) -> RiskModel:
    return RiskModel(kev)


def test_toolshell_on_an_internet_facing_sharepoint_server_is_p1_and_already_due(
    model: RiskModel,
) -> None:
    advisory = make_advisory(cves=(TOOLSHELL,), cvss=9.8, epss=0.84, severity=Severity.CRITICAL)
    host = make_host(internet_facing=True, criticality=Criticality.HIGH)

    risk = model.score(advisory, host, sla=Sla(), first_seen=date(2025, 7, 22))

    assert risk.tier is Tier.P1
    assert risk.score == 100  # 30+10+15+29+15+7 = 106, capped
    assert risk.reasons == (
        "KEV",
        "ransomware use",
        "internet-facing",
        "CVSS 9.8",
        "EPSS 84%",
        "high-criticality host",
    )
    # CISA's due date (2025-07-21) is before first_seen + 7 days and even before first_seen.
    assert risk.deadline == date(2025, 7, 21)
    assert risk.reason_text.startswith("KEV, ransomware use, internet-facing, CVSS 9.8")


def test_breakdown_explains_every_point(model: RiskModel) -> None:
    advisory = make_advisory(cves=(TOOLSHELL,), cvss=9.8, epss=0.84)
    assessment = model.assess(advisory, make_host(internet_facing=True))
    assert dict(assessment.breakdown) == {
        "KEV": 30,
        "ransomware use": 10,
        "internet-facing": 15,
        "CVSS 9.8": 29,
        "EPSS 84%": 15,
        "medium-criticality host": 3,
    }
    assert assessment.score == min(100, sum(points for _, points in assessment.breakdown))
    assert "medium-criticality host" not in assessment.reasons
    assert assessment.kev_cves == (TOOLSHELL,)


def test_kev_with_ransomware_use_is_p1_even_when_the_score_is_low(model: RiskModel) -> None:
    advisory = make_advisory(cves=(TOOLSHELL,))  # no CVSS, no severity, no EPSS
    host = make_host(os_family=OsFamily.DEBIAN, criticality=Criticality.LOW)
    risk = model.score(advisory, host, sla=Sla(), first_seen=date(2025, 7, 22))
    assert risk.score == 40
    assert tier_for_score(risk.score) is Tier.P3
    assert risk.tier is Tier.P1


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (make_host(os_family=OsFamily.DEBIAN, criticality=Criticality.LOW), Tier.P2),
        (make_host(os_family=OsFamily.DEBIAN, criticality=Criticality.CRITICAL), Tier.P1),
        (make_host(os_family=OsFamily.DEBIAN, internet_facing=True), Tier.P1),
    ],
    ids=["internal-low", "critical-host", "internet-facing"],
)
def test_kev_without_ransomware_is_at_least_p2_and_p1_when_exposed_or_critical(
    model: RiskModel, host: Host, expected: Tier
) -> None:
    advisory = make_advisory(id="DSA-4839-1", vendor="debian", cves=(SUDO,))
    risk = model.score(advisory, host, sla=Sla(), first_seen=date(2025, 8, 25))
    assert risk.tier is expected
    assert risk.reasons[0] == "KEV"
    assert "ransomware use" not in risk.reasons


def test_sudo_kev_on_an_internal_server_scores_p2_and_its_past_due_date_shows(
    model: RiskModel,
) -> None:
    advisory = make_advisory(id="DSA-4839-1", vendor="debian", cves=(SUDO,), cvss=7.8)
    host = make_host(os_family=OsFamily.DEBIAN)
    risk = model.score(advisory, host, sla=Sla(), first_seen=date(2025, 8, 25))
    assert (risk.tier, risk.score) == (Tier.P2, 56)  # 30 + 23 + 3
    assert risk.reasons == ("KEV", "CVSS 7.8")
    assert risk.deadline == date(2022, 4, 27)  # CISA's due date, long past: overdue


def test_sla_deadline_applies_when_sooner_than_the_kev_due_date(model: RiskModel) -> None:
    advisory = make_advisory(id="USN-7626-1", vendor="ubuntu", cves=(GIT,), cvss=8.1)
    host = make_host(os_family=OsFamily.UBUNTU)
    first_seen = date(2025, 8, 25)

    risk = model.score(advisory, host, sla=Sla(), first_seen=first_seen)
    assert risk.tier is Tier.P2
    assert risk.deadline == date(2025, 9, 8)  # 14 days, before CISA's 2025-09-15

    relaxed = Sla(p2_days=30)
    risk = model.score(advisory, host, sla=relaxed, first_seen=first_seen)
    assert risk.deadline == date(2025, 9, 15)  # CISA's due date wins when sooner


def test_the_earliest_due_date_among_the_advisorys_kev_cves_wins(model: RiskModel) -> None:
    advisory = make_advisory(cves=(SHAREPOINT_RCE, TOOLSHELL, REGRESSHION))
    # ToolShell (due 07-21) beats CVE-2025-49704 (due 07-23) and first_seen + 7 (07-27).
    risk = model.score(advisory, make_host(), sla=Sla(), first_seen=date(2025, 7, 20))
    assert risk.deadline == date(2025, 7, 21)
    assert model.assess(advisory, make_host()).kev_cves == (SHAREPOINT_RCE, TOOLSHELL)


def test_non_kev_cve_is_ranked_by_cvss_epss_and_exposure(kev: KevCatalogue) -> None:
    model = RiskModel(kev, epss={REGRESSHION: 0.38})
    advisory = make_advisory(id="DSA-5724-1", vendor="debian", cves=(REGRESSHION,), cvss=8.1)
    exposed = make_host(os_family=OsFamily.DEBIAN, internet_facing=True)
    internal = make_host(os_family=OsFamily.DEBIAN, name="db01")

    outside = model.score(advisory, exposed, sla=Sla(), first_seen=date(2025, 8, 25))
    inside = model.score(advisory, internal, sla=Sla(), first_seen=date(2025, 8, 25))

    assert (outside.tier, outside.score) == (Tier.P2, 52)  # 15 + 24 + 10 + 3
    assert outside.reasons == ("internet-facing", "CVSS 8.1", "EPSS 38%")
    assert "KEV" not in outside.reasons
    assert (inside.tier, inside.score) == (Tier.P3, 37)
    assert inside.deadline == date(2025, 9, 24)


def test_rdp_exposure_weighs_more_on_windows(model: RiskModel) -> None:
    advisory = make_advisory(cves=(TCPIP_IPV6,), cvss=9.8)
    windows = model.assess(advisory, make_host(rdp_exposed=True))
    linux = model.assess(advisory, make_host(os_family=OsFamily.RHEL, rdp_exposed=True))
    neither = model.assess(advisory, make_host())
    assert windows.score - neither.score == 10
    assert linux.score - neither.score == 4
    assert "RDP exposed" in windows.reasons


def test_vendor_severity_is_used_without_cvss_and_as_a_floor(model: RiskModel) -> None:
    host = make_host()
    only_severity = model.assess(make_advisory(severity=Severity.CRITICAL), host)
    assert only_severity.score == 30
    assert only_severity.reasons == ("vendor severity critical",)

    floored = model.assess(make_advisory(id="KB2", severity=Severity.CRITICAL, cvss=7.5), host)
    assert floored.score == 30  # CVSS 7.5 gives 22 < 27
    assert floored.reasons == ("vendor severity critical",)

    above = model.assess(make_advisory(id="KB3", severity=Severity.MODERATE, cvss=7.5), host)
    assert above.reasons == ("CVSS 7.5",)
    assert above.score == 25


@pytest.mark.parametrize(
    "classification",
    [
        Classification.FEATURE,
        Classification.DRIVER,
        Classification.FIRMWARE,
        Classification.DEFINITION,
        Classification.BUGFIX,
    ],
)
def test_non_security_updates_without_cves_score_low_whatever_the_host(
    model: RiskModel, classification: Classification
) -> None:
    advisory = make_advisory(classification=classification, severity=Severity.CRITICAL, cvss=9.0)
    host = make_host(internet_facing=True, rdp_exposed=True, criticality=Criticality.CRITICAL)
    risk = model.score(advisory, host, sla=Sla(), first_seen=date(2025, 8, 1))
    assert risk.tier is Tier.P4
    assert risk.score == 17  # 5 + critical host 12
    assert risk.reasons == (f"{classification.value} update without CVE", "critical host")
    assert risk.deadline == date(2025, 10, 30)  # 90 days


def test_a_non_security_update_that_carries_a_cve_is_scored_as_security(
    model: RiskModel,
) -> None:
    advisory = make_advisory(id="RHBA-1", classification=Classification.BUGFIX, cves=(SUDO,))
    risk = model.score(advisory, make_host(), sla=Sla(), first_seen=date(2025, 8, 1))
    assert risk.reasons[0] == "KEV"
    assert risk.tier.at_least(Tier.P2)


def test_epss_comes_from_the_advisory_first_then_the_highest_of_its_cves(
    kev: KevCatalogue,
) -> None:
    model = RiskModel(kev, epss={REGRESSHION: 0.02, TCPIP_IPV6: 0.6})
    both = make_advisory(cves=(REGRESSHION, TCPIP_IPV6))
    assert "EPSS 60%" in model.assess(both, make_host()).reasons
    own = make_advisory(id="KB9", cves=(REGRESSHION, TCPIP_IPV6), epss=0.05)
    assert "EPSS 5%" in model.assess(own, make_host()).reasons


@pytest.mark.parametrize(
    ("epss", "points"),
    [(0.0, 0), (0.0099, 0), (0.01, 5), (0.0999, 5), (0.1, 10), (0.4999, 10), (0.5, 15), (1.0, 15)],
)
def test_epss_steps(model: RiskModel, epss: float, points: int) -> None:
    base = model.assess(make_advisory(id="base"), make_host()).score
    assert model.assess(make_advisory(epss=epss), make_host()).score - base == points


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (100, Tier.P1),
        (65, Tier.P1),
        (64, Tier.P2),
        (45, Tier.P2),
        (44, Tier.P3),
        (25, Tier.P3),
        (24, Tier.P4),
        (0, Tier.P4),
    ],
)
def test_tier_thresholds(score: int, tier: Tier) -> None:
    assert tier_for_score(score) is tier


def test_out_of_range_cvss_and_epss_are_clamped(model: RiskModel) -> None:
    wild = make_advisory(cvss=42.0, epss=3.0)
    assert model.assess(wild, make_host()).score == 30 + 15 + 3
    negative = make_advisory(id="neg", cvss=-1.0, epss=-0.5)
    assert model.assess(negative, make_host()).score == 3
    nan = make_advisory(id="nan", cvss=float("nan"), epss=float("nan"), severity=Severity.LOW)
    assert model.assess(nan, make_host()).reasons == ("vendor severity low",)


def test_cve_ids_are_matched_ignoring_case_and_blanks(model: RiskModel) -> None:
    advisory = make_advisory(cves=(" cve-2025-53770 ",))
    assert model.assess(advisory, make_host()).kev_cves == (TOOLSHELL,)


def test_a_datetime_first_seen_counts_as_its_date(model: RiskModel) -> None:
    advisory = make_advisory(cves=(REGRESSHION,), cvss=8.1)
    at = datetime(2025, 8, 25, 23, 59)
    risk = model.score(advisory, make_host(), sla=Sla(), first_seen=at)
    assert risk.deadline == date(2025, 9, 24)
    assert type(risk.deadline) is date


def test_memoised_results_are_shared_per_exposure_profile(model: RiskModel) -> None:
    advisory = make_advisory(cves=(TOOLSHELL,), cvss=9.8)
    sla = Sla()
    first = model.score(advisory, make_host(name="a"), sla=sla, first_seen=date(2025, 8, 1))
    second = model.score(advisory, make_host(name="b"), sla=sla, first_seen=date(2025, 8, 1))
    assert second is first
    assert model.cache_size == 1
    model.score(advisory, make_host(name="c", internet_facing=True), sla=sla, first_seen=date.min)
    assert model.cache_size == 2


def test_an_advisory_changed_under_the_same_id_is_not_served_from_the_cache(
    model: RiskModel,
) -> None:
    host = make_host()
    low = make_advisory(cvss=3.0)
    high = replace(low, cvss=9.8)
    assert model.assess(low, host).score == 12
    assert model.assess(high, host).score == 32
    assert model.assess(replace(low), host).score == 12  # equal copy: same result


def test_a_new_sla_object_is_never_confused_with_an_old_one(model: RiskModel) -> None:
    advisory = make_advisory(cves=(REGRESSHION,), cvss=8.1)
    first_seen = date(2025, 8, 1)
    for days in range(20, 40):  # each Sla may reuse a freed object's id
        risk = model.score(advisory, make_host(), sla=Sla(p3_days=days), first_seen=first_seen)
        assert risk.deadline == first_seen + timedelta(days=days)


def test_deadline_for_matches_the_model(model: RiskModel) -> None:
    advisory = make_advisory(cves=(GIT,), cvss=8.1)
    first_seen = date(2025, 8, 25)
    sla = Sla(p2_days=30)
    risk = model.score(advisory, make_host(), sla=sla, first_seen=first_seen)
    kev_due = model.assess(advisory, make_host()).kev_due
    assert risk.deadline == deadline_for(risk.tier, sla=sla, first_seen=first_seen, kev_due=kev_due)
    assert deadline_for(Tier.P4, sla=sla, first_seen=first_seen) == date(2025, 11, 23)


def test_sort_key_orders_tier_then_score_then_deadline() -> None:
    d = date(2025, 9, 1)
    risks = [
        Risk(Tier.P2, 60, (), d),
        Risk(Tier.P1, 70, (), d + timedelta(days=1)),
        Risk(Tier.P1, 70, (), d),
        Risk(Tier.P1, 90, (), d + timedelta(days=5)),
        Risk(Tier.P3, 99, (), d),  # a high score never jumps a tier
    ]
    ordered = sorted(risks, key=sort_key)
    assert [(r.tier, r.score, r.deadline) for r in ordered] == [
        (Tier.P1, 90, d + timedelta(days=5)),
        (Tier.P1, 70, d),
        (Tier.P1, 70, d + timedelta(days=1)),
        (Tier.P2, 60, d),
        (Tier.P3, 99, d),
    ]


def test_rank_findings_puts_the_most_urgent_first_and_unscored_last(model: RiskModel) -> None:
    seen = datetime(2025, 8, 25, 9, 0)
    sla = Sla()
    web = make_host(name="web01", internet_facing=True)
    desk = make_host(name="desk01", criticality=Criticality.LOW)
    toolshell = make_advisory(id="KB5002768", cves=(TOOLSHELL,), cvss=9.8)
    driver = make_advisory(id="DRV-1", classification=Classification.DRIVER)
    findings = [
        Finding(desk, driver, seen, seen, model.score(driver, desk, sla=sla, first_seen=seen)),
        Finding(desk, toolshell, seen, seen),  # not scored yet
        Finding(
            desk, toolshell, seen, seen, model.score(toolshell, desk, sla=sla, first_seen=seen)
        ),
        Finding(web, toolshell, seen, seen, model.score(toolshell, web, sla=sla, first_seen=seen)),
    ]
    ranked = rank_findings(findings)
    assert [(f.host.name, f.advisory.id, f.risk is None) for f in ranked] == [
        ("web01", "KB5002768", False),
        ("desk01", "KB5002768", False),
        ("desk01", "DRV-1", False),
        ("desk01", "KB5002768", True),
    ]


def test_a_plain_dict_works_as_the_kev_source(kev: KevCatalogue) -> None:
    model = RiskModel({TOOLSHELL: kev[TOOLSHELL]})
    assert model.assess(make_advisory(cves=(TOOLSHELL,)), make_host()).tier is Tier.P1
    assert model.assess(make_advisory(id="x", cves=(SUDO,)), make_host()).kev_cves == ()


@pytest.mark.parametrize(
    ("advisory", "host", "sla", "first_seen", "expected"),
    [
        (
            make_advisory(cves=("CVE-2025-32433",), cvss=10.0),
            make_host(os_family=OsFamily.DEBIAN),
            Sla(),
            date(2025, 6, 10),
            (Tier.P2, 63, "KEV, CVSS 10.0", date(2025, 6, 24)),
        ),
        (
            make_advisory(cves=("CVE-2025-32433",), cvss=10.0),
            make_host(os_family=OsFamily.DEBIAN, internet_facing=True),
            Sla(),
            date(2025, 6, 10),
            (Tier.P1, 78, "KEV, internet-facing, CVSS 10.0", date(2025, 6, 17)),
        ),
        (
            make_advisory(cves=("CVE-2025-32433",), cvss=10.0),
            make_host(os_family=OsFamily.DEBIAN),
            Sla(p2_days=30),
            date(2025, 6, 10),
            (Tier.P2, 63, "KEV, CVSS 10.0", date(2025, 6, 30)),
        ),
        (
            make_advisory(cves=("CVE-2019-0708",), cvss=9.8),
            make_host(rdp_exposed=True),
            Sla(),
            date(2025, 8, 25),
            (Tier.P1, 82, "KEV, ransomware use, RDP exposed, CVSS 9.8", date(2022, 5, 3)),
        ),
        (
            make_advisory(cves=(TCPIP_IPV6,), cvss=9.8, epss=0.07),
            make_host(criticality=Criticality.LOW),
            Sla(),
            date(2025, 8, 25),
            (Tier.P3, 34, "CVSS 9.8, EPSS 7%", date(2025, 9, 24)),
        ),
        (
            make_advisory(severity=Severity.CRITICAL),
            make_host(rdp_exposed=True, internet_facing=True),
            Sla(),
            date(2025, 8, 25),
            (
                Tier.P2,
                55,
                "internet-facing, RDP exposed, vendor severity critical",
                date(2025, 9, 8),
            ),
        ),
    ],
    ids=["erlang", "erlang-exposed", "erlang-sla30", "bluekeep", "ipv6", "severity-only"],
)
def test_the_examples_in_docs_risk_model(
    model: RiskModel,
    *,
    advisory: Advisory,
    host: Host,
    sla: Sla,
    first_seen: date,
    expected: tuple[Tier, int, str, date],
) -> None:
    risk = model.score(advisory, host, sla=sla, first_seen=first_seen)
    assert (risk.tier, risk.score, risk.reason_text, risk.deadline) == expected
