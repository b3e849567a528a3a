"""Every Slack message renders from its template with StrictUndefined into Block Kit that Slack
accepts, escapes user text, and stays inside Block Kit's limits; the channel pacer's arithmetic."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchwave.domain.models import Tier
from patchwave.notify.blocks import window
from patchwave.notify.messages import (
    MESSAGE_TYPES,
    ApprovalDecided,
    ApprovalRequest,
    CampaignCompleted,
    ClientNotice,
    FailureAlert,
    GateHalted,
    Message,
    MessageRenderer,
    PatchLine,
    TenantSummary,
    WaveProgress,
    parse_approval_value,
)
from patchwave.notify.ratelimit import ChannelPacer

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 1, 17, 22, 0, tzinfo=PARIS)
ALLOWED_BLOCKS = {"header", "section", "context", "actions", "divider"}
# The only `<` we emit on purpose: Slack date tokens and links built by our filters.
OUR_TOKENS = re.compile(
    r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>|<https?://[^<>|]+\|[^<>]*>"
)


def make_patches(count: int, **overrides: Any) -> tuple[PatchLine, ...]:
    return tuple(
        PatchLine(
            advisory_id=f"KB50{i:05d}",
            title=f"Security update {i}",
            tier=[Tier.P1, Tier.P2, Tier.P3, Tier.P4][i % 4],
            kev=i % 5 == 0,
            ransomware=i % 10 == 0,
            hosts=i + 1,
            reboot=i % 2 == 0,
            **overrides,
        )
        for i in range(count)
    )


def make_messages(text: str = "web-01", patches: int = 3) -> list[Message]:
    """One of each message, with ``text`` in every user-controlled field."""
    p = tuple(replace(x, title=text) for x in make_patches(patches))
    return [
        ClientNotice(
            tenant="acme",
            tenant_name=text,
            campaign=text,
            window_start=T0,
            window_end=T0 + timedelta(hours=4),
            host_count=12,
            patches=p,
            reboot_expected=True,
            hosts=(text, "db-01"),
            contact=text,
        ),
        ApprovalRequest(
            request_id="apr-7",
            campaign=text,
            run_id="run-42",
            ring=text,
            host_count=40,
            patches=p,
            window_start=T0,
            window_end=T0 + timedelta(hours=4),
            expires_at=T0 + timedelta(days=1),
            plan_hash="9f" * 32,
            requested_by=text,
            tenants=(text, "beta"),
            approvers=text,
            required_approvals=2,
        ),
        WaveProgress(
            run_id="run-42",
            campaign=text,
            ring=text,
            wave=2,
            total=100,
            started_at=T0,
            updated_at=T0 + timedelta(minutes=7),
            succeeded=50,
            failed=3,
            running=10,
            deferred=5,
        ),
        FailureAlert(
            run_id="run-42",
            campaign=text,
            ring=text,
            wave=2,
            host=text,
            patch=text,
            step="installing",
            error=text,
            remedy=text,
            occurred_at=T0,
            attempts=3,
            tenant=text,
        ),
        GateHalted(
            run_id="run-42",
            campaign=text,
            ring=text,
            reasons=(text, "success rate 80.0 % < 95.0 %"),
            hosts=100,
            succeeded=80,
            failures=20,
            success_rate=0.8,
            min_success_rate=0.95,
            next_step=text,
            max_failures=3,
            rolling_back=True,
        ),
        CampaignCompleted(
            run_id="run-42",
            campaign=text,
            status="completed",
            started_at=T0,
            finished_at=T0 + timedelta(hours=3, minutes=5),
            hosts=200,
            succeeded=190,
            failed=5,
            deferred=5,
            tenants=(TenantSummary(text, 100, 2), TenantSummary("beta", 90, 3, 5)),
            report_url="https://reports.example/run-42?tenant=a&x=1",
            compliance_before=0.61,
            compliance_after=0.97,
        ),
        ApprovalDecided(
            request_id="apr-7",
            campaign=text,
            run_id="run-42",
            ring=text,
            decision="approved",
            decided_by=text,
            decided_at=T0,
            via="slack",
            plan_hash="9f" * 32,
            comment=text,
        ),
    ]


def texts(node: Any) -> list[str]:
    """Every `text` string anywhere in a Block Kit structure."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(texts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(texts(item))
    return found


def assert_valid_block_kit(blocks: list[dict[str, Any]], fallback: str) -> None:
    """Slack's rules, written out here rather than trusting blocks.check_blocks."""
    json.loads(json.dumps(blocks))
    assert fallback.strip()
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        assert block["type"] in ALLOWED_BLOCKS, block
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
        if block["type"] == "actions":
            for button in block["elements"]:
                assert len(button["text"]["text"]) <= 75
                assert len(button["value"]) <= 2000


def patch_listing(blocks: list[dict[str, Any]]) -> str:
    return next(t for t in texts(blocks) if t.startswith("•"))


def assert_no_live_markup(blocks: list[dict[str, Any]], fallback: str) -> None:
    for text in [*texts(blocks), fallback]:
        stripped = OUR_TOKENS.sub("", text)
        assert "<" not in stripped and ">" not in stripped, text


@pytest.fixture(scope="module")
def renderer() -> MessageRenderer:
    return MessageRenderer()


@pytest.mark.parametrize("index", range(len(MESSAGE_TYPES)), ids=[t.kind for t in MESSAGE_TYPES])
def test_each_message_renders_valid_block_kit(renderer: MessageRenderer, index: int) -> None:
    message = make_messages()[index]
    out = renderer.render(message)
    assert out.kind == type(message).kind
    assert_valid_block_kit(out.blocks, out.text)
    assert_no_live_markup(out.blocks, out.text)


def test_every_message_type_has_a_template_and_a_factory() -> None:
    kinds = {type(m).kind for m in make_messages()}
    assert kinds == {t.kind for t in MESSAGE_TYPES}
    templates = Path(MessageRenderer().template_dir)
    assert {p.name.removesuffix(".json.j2") for p in templates.glob("*.json.j2")} == kinds


def test_minimal_messages_render_without_optional_fields(renderer: MessageRenderer) -> None:
    minimal: list[Message] = [
        ClientNotice("acme", "Acme", "c", T0, T0 + timedelta(hours=1), 1, (), False),
        WaveProgress("r", "c", "lab", 1, 0, T0, T0),
        GateHalted("r", "c", "lab", (), 0, 0, 0, 0.0, 1.0, "look"),
        CampaignCompleted("r", "c", "expired", T0, T0, 0, 0, 0),
        ApprovalDecided("a", "c", "r", "lab", "rejected", "bob", T0, "cli", "h"),
    ]
    for message in minimal:
        out = renderer.render(message)
        assert_valid_block_kit(out.blocks, out.text)
    completed = renderer.render(minimal[3])
    assert "not measured" in json.dumps(completed.blocks)
    assert "report" not in json.dumps(completed.blocks).lower()


def test_a_host_named_channel_mention_does_not_ping(renderer: MessageRenderer) -> None:
    for message in make_messages("<!channel> & <!here> <@U024BE7LH> <#C123|general>"):
        out = renderer.render(message)
        raw = json.dumps({"text": out.text, "blocks": out.blocks})
        for mention in ("<!channel>", "<!here>", "<@U024BE7LH>", "<#C123"):
            assert mention not in raw
        assert "&lt;!channel&gt; &amp; &lt;!here&gt;" in raw
        assert_no_live_markup(out.blocks, out.text)


def test_html_entities_other_than_slacks_three_are_not_used(renderer: MessageRenderer) -> None:
    out = renderer.render(make_messages('O\'Brien "quoted" café')[3])
    raw = json.dumps(out.blocks, ensure_ascii=False)
    assert "O'Brien" in raw and '\\"quoted\\"' in raw and "café" in raw
    assert "&#39;" not in raw and "&quot;" not in raw


def test_approval_buttons_carry_request_id_and_plan_hash(renderer: MessageRenderer) -> None:
    request = make_messages()[1]
    assert isinstance(request, ApprovalRequest)
    out = renderer.render(request)
    actions = [b for b in out.blocks if b["type"] == "actions"]
    assert len(actions) == 1
    buttons = {e["action_id"]: e for e in actions[0]["elements"]}
    assert set(buttons) == {"approve", "reject"}
    assert buttons["approve"]["style"] == "primary" and buttons["reject"]["style"] == "danger"
    for button in buttons.values():
        assert parse_approval_value(button["value"]) == ("apr-7", "9f" * 32)
    assert "Approve this ring?" in json.dumps(buttons["approve"]["confirm"])


def test_parse_approval_value_refuses_foreign_values() -> None:
    for value in ("", "{}", "[1]", '{"request_id": 1, "plan_hash": "x"}', "approve"):
        with pytest.raises(ValueError, match="not a patchwave approval"):
            parse_approval_value(value)


def test_patches_show_top_n_kev_first_and_how_many_more() -> None:
    renderer = MessageRenderer(max_patches=5)
    request = replace(make_messages()[1], patches=make_patches(23))
    out = renderer.render(request)
    listing = next(
        b["text"]["text"] for b in out.blocks if "•" in b.get("text", {}).get("text", "")
    )
    lines = [line for line in listing.split("\n") if line.startswith("•")]
    assert len(lines) == 5
    assert all(":warning: *KEV*" in line for line in lines)  # 5 of the 23 are KEV: all shown first
    assert "(ransomware)" in lines[0]
    assert "and 18 more" in listing
    assert "(:warning: 5 KEV)" in json.dumps(out.blocks)


def test_patch_order_is_kev_then_tier_then_hosts() -> None:
    request = replace(make_messages()[1], patches=make_patches(8))
    out = MessageRenderer().render(request)
    listing = next(
        b["text"]["text"] for b in out.blocks if "•" in b.get("text", {}).get("text", "")
    )
    ids = re.findall(r"`(KB\d+)`", listing)
    assert ids[:2] == ["KB5000000", "KB5000005"]  # the two KEV ones, P1 before P2
    assert ids[2:] == ["KB5000004", "KB5000001", "KB5000006", "KB5000002", "KB5000007", "KB5000003"]


def test_long_and_ampersand_heavy_text_stays_within_limits(renderer: MessageRenderer) -> None:
    for message in make_messages("&" * 5000, patches=60):
        out = renderer.render(message)
        assert_valid_block_kit(out.blocks, out.text)
        for text in texts(out.blocks):
            assert not re.search(r"&[a-z]{0,3}…", text), "an entity was cut in half"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=400), patches=st.integers(0, 70))
def test_any_user_text_renders_valid_escaped_block_kit(text: str, patches: int) -> None:
    renderer = MessageRenderer()
    for message in make_messages(text, patches):
        out = renderer.render(message)
        assert_valid_block_kit(out.blocks, out.text)
        assert_no_live_markup(out.blocks, out.text)


def test_a_missing_template_variable_fails_the_render(tmp_path: Path) -> None:
    (tmp_path / "gate_halted.json.j2").write_text(
        '{"text": "{{ ctx.no_such_field }}", "blocks": []}'
    )
    with pytest.raises(jinja2.UndefinedError):
        MessageRenderer(tmp_path).render(make_messages()[4])


def test_none_reaching_the_output_fails_the_render(tmp_path: Path) -> None:
    (tmp_path / "gate_halted.json.j2").write_text(
        '{"text": "{{ ctx.max_failures }}", "blocks": []}'
    )
    halted = replace(make_messages()[4], max_failures=None)
    with pytest.raises(ValueError, match="printed None"):
        MessageRenderer(tmp_path).render(halted)


def test_naive_times_and_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WaveProgress("r", "c", "lab", 1, 10, datetime(2026, 1, 1), T0)
    with pytest.raises(ValueError, match="add up to more"):
        WaveProgress("r", "c", "lab", 1, 10, T0, T0, succeeded=8, failed=3)


def test_window_text_in_local_time_across_dst() -> None:
    assert window(T0, T0 + timedelta(hours=1)) == "Sat 17 Jan 2026 22:00–23:00 CET"
    assert window(T0, T0 + timedelta(hours=4)).endswith("→ Sun 18 Jan 2026 02:00 CET")
    start = datetime(2026, 3, 29, 1, 0, tzinfo=PARIS)  # clocks go forward at 02:00
    end = (start.astimezone(UTC) + timedelta(hours=3)).astimezone(PARIS)
    assert window(start, end) == "Sun 29 Mar 2026 01:00 CET → Sun 29 Mar 2026 05:00 CEST"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacer_spaces_one_channel_and_leaves_others_alone() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(1.0, clock=clock)
    assert [pacer.reserve("#a") for _ in range(3)] == [0.0, 1.0, 2.0]
    assert pacer.reserve("#b") == 0.0
    clock.now += 10  # an idle channel does not bank slots beyond its burst
    assert [pacer.reserve("#a") for _ in range(2)] == [0.0, 1.0]


def test_pacer_burst_allows_that_many_at_once() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(2.0, burst=3, clock=clock)
    assert [pacer.reserve("#a") for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]


def test_pacer_block_holds_the_channel_for_retry_after() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(20.0, clock=clock)
    pacer.reserve("#a")
    pacer.block("#a", 3.0)
    assert pacer.blocked_for("#a") == 3.0
    assert pacer.blocked_for("#b") == 0.0
    waited = asyncio.run(pacer.wait_turn("#a", clock.sleep))
    assert waited == pytest.approx(3.0)
    assert clock.now == pytest.approx(103.0)


def test_a_slot_booked_before_a_429_waits_for_the_block_to_end() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(10.0, clock=clock)
    pacer.reserve("#a")
    assert pacer.reserve("#a") == pytest.approx(0.1)  # booked before the block
    pacer.block("#a", 2.0)
    clock.now += 0.1  # the booked slot arrives while the block still runs
    waited = asyncio.run(pacer.wait_turn("#a", clock.sleep))
    assert clock.now >= 102.0
    assert waited == pytest.approx(1.9)


def test_pacer_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        ChannelPacer(0)
    with pytest.raises(ValueError, match="burst"):
        ChannelPacer(1, burst=0)


def test_rendering_is_deterministic() -> None:
    first = [MessageRenderer().render(m) for m in make_messages()]
    second = [MessageRenderer().render(m) for m in make_messages()]
    assert first == second
