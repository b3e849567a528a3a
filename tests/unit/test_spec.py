"""Campaign specs: shipped files, defaults, rules, error messages (file:line:col, path, expected),
hashing, and the duration/percentage parsers."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patchwave.domain.models import Advisory, Classification, Host, OsFamily, PackageFix, Tier
from patchwave.errors import CampaignSpecError
from patchwave.spec import (
    CampaignKind,
    CampaignSpec,
    GateFailure,
    RebootPolicy,
    SelectHosts,
    SelectInventoryRing,
    SelectRest,
    SelectShare,
    SelectTags,
    format_duration,
    load_campaign,
    parse_campaign,
    parse_duration,
    parse_percent,
    spec_hash,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "campaigns"
SHIPPED = sorted((ROOT / "campaigns").glob("*.yaml"))
GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))

MINIMAL = """\
name: tiny
owner: bob
scope: {tenants: all}
windows: {default: always}
rings:
  - {name: all, select: {rest: true}}
"""


def make_host(**overrides: object) -> Host:
    fields: dict[str, object] = {
        "tenant": "acme",
        "site": "paris",
        "name": "web01",
        "os_family": OsFamily.UBUNTU,
    }
    fields.update(overrides)
    return Host(**fields)  # type: ignore[arg-type]


def make_advisory(**overrides: object) -> Advisory:
    fields: dict[str, object] = {"id": "USN-7000-1", "vendor": "ubuntu", "title": "openssl"}
    fields.update(overrides)
    return Advisory(**fields)  # type: ignore[arg-type]


def error_of(text: str, source: str = "campaigns/x.yaml") -> str:
    with pytest.raises(CampaignSpecError) as info:
        parse_campaign(text, source)
    return str(info.value)


def test_all_three_shipped_campaigns_exist() -> None:
    assert [p.name for p in SHIPPED] == ["demo.yaml", "emergency-kev.yaml", "monthly-security.yaml"]


@pytest.mark.parametrize("path", SHIPPED + GOOD, ids=lambda p: p.name)
def test_good_files_validate_and_survive_a_json_round_trip(path: Path) -> None:
    spec = load_campaign(path)
    again = CampaignSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert spec_hash(again) == spec_hash(spec)


def test_monthly_security_is_the_design_example() -> None:
    spec = load_campaign(ROOT / "campaigns" / "monthly-security.yaml")
    assert spec.windows.default == "patch-tuesday-plus-3"
    calendar = spec.calendars["patch-tuesday-plus-3"]
    assert (calendar.start, calendar.duration, calendar.offset_days) == ("22:00", "4h", 3)
    assert calendar.timezone == "from-site"
    assert calendar.blackouts == ("2026-12-24/2027-01-02",)
    assert [r.name for r in spec.rings] == ["lab", "pilot", "broad"]
    assert spec.ring_named("pilot") is spec.rings[1]
    with pytest.raises(KeyError):
        spec.ring_named("nope")
    assert spec.rings[0].approval.is_auto
    assert isinstance(spec.rings[1].select, SelectShare)
    assert spec.rings[1].select.share == 10.0
    assert isinstance(spec.rings[2].select, SelectRest)
    assert spec.deployment.on_gate_failure is GateFailure.HALT_AND_ROLLBACK
    assert spec.patches.exclude == ("KB5034441",)


def test_emergency_kev_needs_two_approvers_and_takes_only_kev() -> None:
    spec = load_campaign(ROOT / "campaigns" / "emergency-kev.yaml")
    assert spec.kind is CampaignKind.EMERGENCY
    assert spec.patches.kev_only
    required = [r.approval for r in spec.rings if r.approval.required]
    assert required
    assert all(a.min_approvers >= 2 for a in required)


def test_demo_runs_now_with_auto_lab_and_people_for_pilot_and_broad() -> None:
    spec = load_campaign(ROOT / "campaigns" / "demo.yaml")
    assert spec.windows.default == "always"
    assert not spec.windows.host_override  # the hosts' own calendars would not be open now
    assert [r.approval.is_auto for r in spec.rings] == [True, False, False]
    assert spec.rings[1].approval.approvers == ("tenant-admins",)
    assert spec.rings[2].approval.approvers == ("msp-leads",)
    assert spec.deployment.max_fail_percentage == 34.0
    assert spec.deployment.host_timeout >= timedelta(hours=2)  # a slow Windows CU plus reboot
    assert all(r.gate.soak <= timedelta(minutes=1) for r in spec.rings)


def test_minimal_file_takes_the_documented_defaults() -> None:
    spec = load_campaign(FIXTURES / "good" / "minimal.yaml")
    assert spec.kind is CampaignKind.STANDARD
    assert spec.scope.exclude_tags == ("no-patch",)
    assert spec.patches.classifications == (Classification.SECURITY, Classification.CRITICAL)
    assert spec.patches.min_tier is Tier.P4
    assert spec.patches.always_include_kev and not spec.patches.kev_only
    assert spec.windows.host_override and not spec.windows.ignore
    ring = spec.rings[0]
    assert ring.gate.min_success_rate == 0.95
    assert ring.gate.max_failures is None
    assert ring.gate.soak == timedelta(0)
    # An omitted approval is a required one: nothing is approved by default.
    assert ring.approval.required
    assert ring.approval.approvers == ("msp-leads",)
    assert ring.approval.expires == timedelta(hours=24)
    assert ring.approval.min_approvers == 1
    d = spec.deployment
    assert (d.concurrency.per_campaign, d.concurrency.per_tenant, d.concurrency.per_site) == (
        50,
        None,
        20,
    )
    assert d.max_fail_percentage == 10.0
    assert d.host_timeout == timedelta(minutes=90)
    assert (d.retries.count, d.retries.delay) == (2, timedelta(minutes=5))
    assert d.reboot is RebootPolicy.IF_REQUIRED
    assert d.reboot_timeout == timedelta(minutes=20)
    assert d.prechecks == ("free-disk-2g", "no-pending-reboot")
    assert d.postchecks == ("services-up",)
    assert d.snapshot is None
    assert d.on_gate_failure is GateFailure.HALT
    assert d.estimate(OsFamily.WINDOWS) == timedelta(minutes=45)
    assert d.estimate(OsFamily.RHEL) == timedelta(minutes=15)
    assert d.effective_wave_size == 200
    assert spec.report.template == "client-monthly"
    assert spec.report.formats == ("html", "csv")
    assert spec.notify.slack is None


def test_every_field_file_reads_every_shorthand() -> None:
    spec = load_campaign(FIXTURES / "good" / "every-field.yaml")
    assert spec.owner == "carol"  # "user:carol" names the same person
    assert spec.scope.tenants == ("acme", "globex")
    lab, named, pilot, servers, broad = spec.rings
    assert isinstance(lab.select, SelectInventoryRing)
    assert lab.gate.min_success_rate == 1.0  # written "100%"
    assert lab.gate.soak == timedelta(hours=1, minutes=30)
    assert isinstance(named.select, SelectHosts)
    assert named.approval.min_approvers == 2
    assert pilot.approval.approvers == ("tenant-admins",)  # singular role accepted
    assert pilot.approval.auto_approve_if is not None
    assert isinstance(servers.select, SelectTags)
    assert servers.select.tags == ("db", "server")
    assert isinstance(broad.select, SelectRest)  # `select: rest`
    d = spec.deployment
    assert d.max_fail_percentage == 5.0
    assert d.retries.delay == timedelta(0)
    assert d.estimate(OsFamily.WINDOWS) == timedelta(hours=1)
    assert d.estimate(OsFamily.SUSE) == timedelta(minutes=25)
    assert d.estimate(OsFamily.DEBIAN) == timedelta(minutes=15)  # default kept
    assert d.estimate(OsFamily.UNKNOWN) == timedelta(hours=1)  # the longest
    assert d.effective_wave_size == 150
    assert spec.notify.client_notice == timedelta(days=2)


def _expectations(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_file_names_file_line_field_and_expectation(path: Path) -> None:
    expectations = _expectations(path)
    assert expectations, f"{path.name} has no '# expect:' line"
    with pytest.raises(CampaignSpecError) as info:
        load_campaign(path)
    lines = str(info.value).splitlines()
    for expected in expectations:
        position = re.match(r"(\d+:\d+) (.*)", expected)
        prefix = f"{path}:{position.group(1)}: " if position else f"{path}"
        text = position.group(2) if position else expected
        assert any(line.startswith(prefix) and text in line for line in lines), (
            f"no line with {prefix!r} and {text!r} in:\n{info.value}"
        )
    # Every line names the file: the message is usable as it stands.
    assert all(line.startswith(str(path)) for line in lines)


def test_unknown_field_suggests_the_nearest_known_field() -> None:
    message = error_of(MINIMAL + "deployment: {reboot_timout: 10m}\n")
    assert "deployment.reboot_timout: unknown field 'reboot_timout'" in message
    assert "did you mean 'reboot_timeout'?" in message


def test_unknown_field_without_a_near_match_lists_the_known_fields() -> None:
    message = error_of(MINIMAL + "report: {zzz: 1}\n")
    assert "unknown field 'zzz' (known: template, formats, output_dir)" in message


def test_emergency_without_two_approvers_is_refused() -> None:
    text = MINIMAL.replace("owner: bob", "owner: bob\nkind: emergency").replace(
        "{rest: true}}", "{rest: true}, approval: {approvers: msp-leads, min_approvers: 1}}"
    )
    message = error_of(text)
    assert "rings[0].approval.min_approvers: emergency campaigns need two distinct approvers" in (
        message
    )


def test_emergency_defaults_to_two_approvers() -> None:
    spec = parse_campaign(MINIMAL.replace("owner: bob", "owner: bob\nkind: emergency"))
    assert spec.rings[0].approval.min_approvers == 2


def test_rest_ring_must_be_last() -> None:
    text = MINIMAL.replace(
        "  - {name: all, select: {rest: true}}",
        "  - {name: all, select: {rest: true}}\n  - {name: lab, select: {tags: [lab]}}",
    )
    message = error_of(text)
    assert "campaigns/x.yaml:6:25: rings[0].select: the `rest` ring" in message
    assert "must be last" in message


def test_rule_problems_are_all_reported_together() -> None:
    text = MINIMAL.replace(
        "  - {name: all, select: {rest: true}}",
        "  - {name: all, select: {rest: true}}\n  - {name: all, select: {tags: [x]}}",
    ).replace("default: always", "default: nowhere")
    lines = error_of(text).splitlines()
    assert len(lines) == 3
    assert [line.split(": ")[1] for line in lines] == [
        "windows.default",
        "rings[0].select",
        "rings[1].name",
    ]


def test_only_emergencies_with_a_reason_may_ignore_windows() -> None:
    ignoring = MINIMAL.replace("{default: always}", "{default: always, ignore: true}")
    assert "only emergency campaigns may ignore" in error_of(ignoring)
    emergency = ignoring.replace("owner: bob", "owner: bob\nkind: emergency")
    assert "needs a reason" in error_of(emergency)
    spec = parse_campaign(emergency.replace("ignore: true", "ignore: true, reason: KEV now"))
    assert spec.windows.ignore


def test_too_many_problems_are_cut_after_ten() -> None:
    rings = "\n".join(f"  - {{name: r{i}, select: {{share: 0}}}}" for i in range(14))
    head = MINIMAL.split("rings:", maxsplit=1)[0]
    lines = error_of(f"{head}rings:\n{rings}\n").splitlines()
    assert len(lines) == 11
    assert lines[-1] == "campaigns/x.yaml: ... and 4 more problem(s)"


def test_file_problems_are_campaign_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(CampaignSpecError, match=r"no-such\.yaml: no such file"):
        load_campaign(tmp_path / "no-such.yaml")
    with pytest.raises(CampaignSpecError, match="is a directory"):
        load_campaign(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(CampaignSpecError, match=r"binary\.yaml: cannot read"):
        load_campaign(binary)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    with pytest.raises(CampaignSpecError, match="top level is 'just text', expected a mapping"):
        load_campaign(scalar)


def test_spec_hash_ignores_key_order_and_spelling_but_not_values() -> None:
    reordered = """\
rings:
  - {select: {rest: true}, name: all}
windows: {default: always}
scope: {tenants: all}
owner: bob
name: tiny
deployment: {host_timeout: 1h30m}
"""
    base = parse_campaign(MINIMAL + "deployment: {host_timeout: 90m}\n")
    assert spec_hash(parse_campaign(reordered)) == spec_hash(base)
    changed = parse_campaign(MINIMAL + "deployment: {host_timeout: 91m}\n")
    assert spec_hash(changed) != spec_hash(base)
    assert re.fullmatch(r"[0-9a-f]{64}", spec_hash(base))


def test_spec_hash_ignores_tag_order_but_not_ring_order() -> None:
    tags = MINIMAL.replace("{tenants: all}", "{tenants: all, exclude_tags: [a, b]}")
    swapped = MINIMAL.replace("{tenants: all}", "{tenants: all, exclude_tags: [b, a]}")
    assert spec_hash(parse_campaign(tags)) == spec_hash(parse_campaign(swapped))
    two = MINIMAL.replace(
        "  - {name: all, select: {rest: true}}",
        "  - {name: a, select: {tags: [a]}}\n  - {name: b, select: {tags: [b]}}",
    )
    reversed_rings = MINIMAL.replace(
        "  - {name: all, select: {rest: true}}",
        "  - {name: b, select: {tags: [b]}}\n  - {name: a, select: {tags: [a]}}",
    )
    assert spec_hash(parse_campaign(two)) != spec_hash(parse_campaign(reversed_rings))


def test_specs_are_frozen() -> None:
    spec = parse_campaign(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


def test_scope_matches_hosts() -> None:
    spec = parse_campaign(
        MINIMAL.replace(
            "{tenants: all}",
            "{tenants: [acme], include_tags: [server], hosts: [web01, acme/db01], "
            "os_families: [ubuntu]}",
        )
    )
    scope = spec.scope
    server = frozenset({"server"})
    assert scope.matches(make_host(tags=server))
    assert scope.matches(make_host(name="DB01", tags=server))
    assert not scope.matches(make_host(tenant="globex", tags=server))
    assert not scope.matches(make_host(tags=frozenset()))
    assert not scope.matches(make_host(tags=server | {"no-patch"}))
    assert not scope.matches(make_host(name="web02", tags=server))
    assert not scope.matches(make_host(tags=server, os_family=OsFamily.WINDOWS))


def test_patch_filter_order_exclude_include_packages_kev_tier() -> None:
    text = MINIMAL + (
        "patches: {min_tier: P2, exclude: [KB50344*], include: [USN-9*], packages: [openssl*]}\n"
    )
    patches = parse_campaign(text).patches
    kb = make_advisory(id="KB5034441", vendor="microsoft")
    assert not patches.selects(kb, tier=Tier.P1, kev=True)  # exclude beats KEV
    assert patches.selects(make_advisory(id="usn-9000-1"), tier=Tier.P4, kev=False)
    openssl = make_advisory(packages=(PackageFix("openssl"),))
    curl = make_advisory(packages=(PackageFix("curl"),))
    assert patches.selects(openssl, tier=Tier.P2, kev=False)
    assert not patches.selects(openssl, tier=Tier.P3, kev=False)  # below min_tier
    assert not patches.selects(curl, tier=Tier.P1, kev=True)  # package filter
    assert patches.selects(make_advisory(id="KB1"), tier=Tier.P4, kev=True)  # KEV, no packages
    bugfix = make_advisory(id="KB2", classification=Classification.BUGFIX)
    assert not patches.selects(bugfix, tier=Tier.P1, kev=False)


def test_kev_only_takes_nothing_else() -> None:
    patches = parse_campaign(MINIMAL + "patches: {kev_only: true}\n").patches
    assert patches.selects(make_advisory(), tier=Tier.P4, kev=True)
    assert not patches.selects(make_advisory(), tier=Tier.P1, kev=False)


def test_auto_approve_if_requires_every_patch_to_qualify() -> None:
    spec = load_campaign(FIXTURES / "good" / "every-field.yaml")
    rule = spec.rings[2].approval.auto_approve_if
    assert rule is not None
    quiet = make_advisory(classification=Classification.BUGFIX)
    assert rule.allows([(quiet, Tier.P3), (quiet, Tier.P4)])
    assert not rule.allows([(quiet, Tier.P3), (quiet, Tier.P2)])
    assert not rule.allows([(make_advisory(classification=Classification.BUGFIX,
                                           reboot_required=True), Tier.P4)])  # fmt: skip
    assert not rule.allows([(make_advisory(), Tier.P4)])  # security, not bugfix


def test_auto_approve_if_without_a_condition_is_refused() -> None:
    text = MINIMAL.replace("{rest: true}}", "{rest: true}, approval: {auto_approve_if: {}}}")
    assert "needs at least one condition" in error_of(text)


def test_selections_match_hosts() -> None:
    host = make_host(tags=frozenset({"lab"}), ring="lab")
    assert SelectTags(tags=("lab", "x")).matches(host)
    assert not SelectTags(tags=("pilot",)).matches(host)
    assert SelectInventoryRing(inventory_ring="lab").matches(host)
    assert SelectHosts(hosts=("acme/WEB01",)).matches(host)


@given(st.integers(min_value=0, max_value=400 * 86400))
def test_duration_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    text = format_duration(value)
    assert parse_duration(text) == value
    assert re.fullmatch(r"(\d+d)?(\d+h)?(\d+m)?(\d+s)?", text)


@given(st.integers(0, 60), st.integers(0, 48), st.integers(0, 200), st.integers(0, 100))
def test_duration_parts_add_up(days: int, hours: int, minutes: int, seconds: int) -> None:
    text = "".join(
        f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n
    )
    expected = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    assert parse_duration(text or "0") == expected
    assert parse_duration(text.upper() or "0") == expected


@pytest.mark.parametrize("text", ["", "90", "1h30", "h", "4 hours", "1.5h", "-5m", "m30"])
def test_duration_refuses_unitless_or_odd_text(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_duration_refuses_numbers_other_than_zero() -> None:
    assert parse_duration(0) == timedelta(0)
    with pytest.raises(ValueError, match='"90m"'):
        parse_duration(90)
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(True)


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_percent_accepts_numbers_and_percent_strings(value: float) -> None:
    assert parse_percent(value) == value
    assert parse_percent(f"{value!r}%") == value
    assert parse_percent(f" {value!r} % ") == value


@pytest.mark.parametrize("bad", ["ten", "%", "", "10%%", True, None, [10]])
def test_percent_refuses_other_things(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a percentage"):
        parse_percent(bad)


def test_blackout_dates_written_as_yaml_dates_are_reported() -> None:
    text = MINIMAL.replace("default: always", "default: c") + (
        "calendars:\n  c: {rrule: FREQ=DAILY, start: '22:00', duration: 4h, "
        "blackouts: [2026-12-24]}\n"
    )
    message = error_of(text)
    # YAML reads an unquoted 2026-12-24 as a date, not text.
    assert "calendars.c.blackouts[0]: got 2026-12-24, expected text" in message


def test_a_list_whose_items_all_fail_is_not_also_called_too_short() -> None:
    message = error_of(MINIMAL.replace("select: {rest: true}", "select: {share: 0}"))
    assert message.splitlines() == [
        "campaigns/x.yaml:6:33: rings[0].select.share: got 0, expected a percentage greater "
        "than 0 and at most 100"
    ]


def test_reference_documentation_example_validates() -> None:
    text = (ROOT / "docs" / "campaign-spec.md").read_text(encoding="utf-8")
    examples = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert examples
    for example in examples:
        assert parse_campaign(example, "docs/campaign-spec.md").name


def test_keys_yaml_reads_as_booleans_or_numbers_are_refused() -> None:
    message = error_of(MINIMAL + "on: 1\n")
    assert (
        message
        == "campaigns/x.yaml:7:1: key 'on' is read as bool, expected text: quote it (\"on\")"
    )


def test_notification_addresses_are_checked() -> None:
    message = error_of(
        MINIMAL + "notify: {slack: {channel: general}, email: [ops@msp.example, x]}\n"
    )
    lines = message.splitlines()
    assert lines[0].startswith("campaigns/x.yaml:7:27: notify.slack.channel: got 'general', ")
    assert '"#patching" (in quotes)' in lines[0]
    assert lines[1] == "campaigns/x.yaml:7:62: notify.email[1]: got 'x', expected an email address"


def test_shipped_calendar_names_match_the_calendars_module() -> None:
    from patchwave import calendars
    from patchwave.spec import SHIPPED_CALENDAR_NAMES

    shipped = getattr(calendars, "SHIPPED_CALENDARS", None)
    if shipped is None:
        pytest.skip("patchwave.calendars does not ship named calendars yet")
    assert set(shipped) == SHIPPED_CALENDAR_NAMES
