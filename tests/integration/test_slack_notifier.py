"""SlackNotifier with the real slack-sdk AsyncWebClient against the Slack-shaped loopback server:
delivery, threads, edits in place, 429 / 5xx retries, permanent errors, Slack down, pacing."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for tests.support

from patchwave.domain.models import Tier
from patchwave.notify import (
    ApprovalDecided,
    ApprovalRequest,
    ClientNotice,
    DeliveryResult,
    FailureAlert,
    GateHalted,
    MessageRef,
    MessageRenderer,
    PatchLine,
    SlackConfigError,
    SlackNotifier,
    WaveProgress,
    parse_approval_value,
)
from tests.support.slack_server import DEFAULT_TOKEN, SlackTestServer, channel_id_for

T0 = datetime(2026, 1, 17, 21, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic clock + async sleep that only pretend to wait (HTTP stays real)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def slack() -> Iterator[SlackTestServer]:
    with SlackTestServer(enforce_retry_after=False) as server:
        yield server


@pytest.fixture(autouse=True)
def bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)


def make_notifier(server: SlackTestServer, **overrides: Any) -> SlackNotifier:
    options: dict[str, Any] = {
        "token_ref": "env:SLACK_BOT_TOKEN",
        "default_channel": "#patching",
        "tenant_channels": {"acme": "#acme-maintenance"},
        "base_url": server.url,
        "rate_per_channel": 1000.0,
    }
    options.update(overrides)
    return SlackNotifier(**options)


def progress(**overrides: Any) -> WaveProgress:
    values: dict[str, Any] = {
        "run_id": "run-1",
        "campaign": "monthly",
        "ring": "pilot",
        "wave": 1,
        "total": 20,
        "started_at": T0,
        "updated_at": T0,
    }
    values.update(overrides)
    return WaveProgress(**values)


def failure(host: str = "web-07", **overrides: Any) -> FailureAlert:
    values: dict[str, Any] = {
        "run_id": "run-1",
        "campaign": "monthly",
        "ring": "pilot",
        "wave": 1,
        "host": host,
        "patch": "DSA-5678-1",
        "step": "installing",
        "error": "E: dpkg was interrupted",
        "remedy": "Run `dpkg --configure -a` on the host, then resume the run.",
        "occurred_at": T0,
    }
    values.update(overrides)
    return FailureAlert(**values)


def halted(**overrides: Any) -> GateHalted:
    values: dict[str, Any] = {
        "run_id": "run-1",
        "campaign": "monthly",
        "ring": "pilot",
        "reasons": ("success rate 80.0 % is below 95.0 %",),
        "hosts": 20,
        "succeeded": 16,
        "failures": 4,
        "success_rate": 0.8,
        "min_success_rate": 0.95,
        "next_step": "Look at the failures in the wave thread, then resume or roll back.",
    }
    values.update(overrides)
    return GateHalted(**values)


def approval_request(**overrides: Any) -> ApprovalRequest:
    values: dict[str, Any] = {
        "request_id": "apr-1",
        "campaign": "monthly",
        "run_id": "run-1",
        "ring": "broad",
        "host_count": 180,
        "patches": (PatchLine("KB5034441", "Cumulative update", Tier.P1, kev=True, hosts=180),),
        "window_start": T0,
        "window_end": T0 + timedelta(hours=4),
        "expires_at": T0 + timedelta(days=3),
        "plan_hash": "c0ffee" * 10,
        "requested_by": "alice",
        "required_approvals": 2,
    }
    values.update(overrides)
    return ApprovalRequest(**values)


def decision(**overrides: Any) -> ApprovalDecided:
    values: dict[str, Any] = {
        "request_id": "apr-1",
        "campaign": "monthly",
        "run_id": "run-1",
        "ring": "broad",
        "decision": "approved",
        "decided_by": "bob",
        "decided_at": T0 + timedelta(hours=1),
        "via": "slack",
        "plan_hash": "c0ffee" * 10,
        "approvals": 2,
        "required_approvals": 2,
    }
    values.update(overrides)
    return ApprovalDecided(**values)


def test_messages_reach_the_tenant_channel_or_the_default(slack: SlackTestServer) -> None:
    seen: list[DeliveryResult] = []
    notifier = make_notifier(slack, on_result=seen.append)
    notice = ClientNotice(
        tenant="acme",
        tenant_name="Acme & Sons",
        campaign="monthly",
        window_start=T0,
        window_end=T0 + timedelta(hours=4),
        host_count=12,
        patches=(),
        reboot_expected=True,
    )

    first = asyncio.run(notifier.send(notice))
    second = asyncio.run(notifier.send(halted(tenant="globex")))  # no mapping: default channel

    assert first.ok and second.ok
    assert (first.channel, second.channel) == ("#acme-maintenance", "#patching")
    assert first.channel_id == channel_id_for("#acme-maintenance")
    [stored] = slack.messages("#acme-maintenance")
    assert stored.ts == first.ts
    assert stored.blocks == MessageRenderer().render(notice).blocks
    assert "Acme &amp; Sons" in stored.text
    assert len(slack.messages("#patching")) == 1
    assert seen == list(notifier.outbox) == [first, second]
    assert notifier.drain_outbox() == [first, second] and notifier.outbox == ()


def test_wave_progress_is_one_message_edited_in_place_with_failures_in_its_thread(
    slack: SlackTestServer,
) -> None:
    notifier = make_notifier(slack)

    async def wave() -> list[DeliveryResult]:
        results = [await notifier.show_wave_progress(progress(running=5))]
        results.append(await notifier.alert_failure(failure("web-07")))
        results.append(await notifier.show_wave_progress(progress(succeeded=10, failed=1)))
        results.append(await notifier.alert_failure(failure("db-02"), broadcast=True))
        results.append(await notifier.show_wave_progress(progress(succeeded=18, failed=2)))
        return results

    posted, alert1, update1, alert2, update2 = asyncio.run(wave())

    assert all(r.ok for r in (posted, alert1, update1, alert2, update2))
    assert posted.method == "chat.postMessage"
    assert update1.method == update2.method == "chat.update"
    assert update1.ts == update2.ts == posted.ts
    channel = slack.messages("#patching")
    top_level = [m for m in channel if m.thread_ts is None]
    assert len(top_level) == 1
    assert top_level[0].edits == 2 and "0/20 done" in top_level[0].history[0]
    assert "20/20 done, 2 failed" in top_level[0].text
    thread = slack.thread("#patching", posted.ts or "")
    assert [m.ts for m in thread] == [alert1.ts, alert2.ts]
    assert alert1.thread_ts == alert2.thread_ts == posted.ts
    assert [m.reply_broadcast for m in thread] == [False, True]
    # chat.update addressed the message by channel id and ts, as Slack requires
    updates = slack.calls_for("chat.update")
    assert {(c.params["channel"], c.params["ts"]) for c in updates} == {
        (posted.channel_id, posted.ts)
    }


def test_a_failure_before_any_progress_message_goes_to_the_channel(slack: SlackTestServer) -> None:
    notifier = make_notifier(slack)
    result = asyncio.run(notifier.alert_failure(failure(tenant="acme")))
    assert result.ok and result.thread_ts is None
    assert result.channel == "#acme-maintenance"


def test_a_resumed_run_edits_the_message_it_remembers(slack: SlackTestServer) -> None:
    first = make_notifier(slack)
    posted = asyncio.run(first.show_wave_progress(progress()))
    ref = first.message_refs[progress().ref_key]
    assert ref == MessageRef("#patching", posted.channel_id or "", posted.ts or "")

    after_restart = make_notifier(slack)
    after_restart.remember(progress().ref_key, ref)
    updated = asyncio.run(after_restart.show_wave_progress(progress(succeeded=20)))

    assert updated.method == "chat.update" and updated.ts == posted.ts
    assert len(slack.messages("#patching")) == 1


def test_an_edit_of_a_deleted_message_posts_a_new_one(slack: SlackTestServer) -> None:
    notifier = make_notifier(slack)
    gone = MessageRef("#patching", channel_id_for("#patching"), "1600000000.000100")
    notifier.remember(progress().ref_key, gone)

    result = asyncio.run(notifier.show_wave_progress(progress(succeeded=3)))

    assert result.ok and result.method == "chat.postMessage" and result.ts != gone.ts
    assert [c.method for c in slack.calls] == ["chat.update", "chat.postMessage"]
    assert notifier.outbox[0].error == "message_not_found"
    assert notifier.message_refs[progress().ref_key].ts == result.ts


def test_progress_updates_arriving_while_one_is_sent_are_folded_into_the_latest(
    slack: SlackTestServer,
) -> None:
    notifier = make_notifier(slack)

    async def burst() -> list[DeliveryResult]:
        updates = [progress(succeeded=n) for n in range(6)]
        return await asyncio.gather(*(notifier.show_wave_progress(u) for u in updates))

    results = asyncio.run(burst())

    assert all(r.ok for r in results)
    assert sum(r.coalesced for r in results) == 5
    calls = [c.method for c in slack.calls]
    assert calls == ["chat.postMessage", "chat.update"]
    [message] = slack.messages("#patching")
    assert "5/20 done" in message.text  # the newest state won


def test_approval_request_buttons_and_the_decision_replacing_them(slack: SlackTestServer) -> None:
    notifier = make_notifier(slack)

    async def flow() -> tuple[DeliveryResult, DeliveryResult, DeliveryResult]:
        asked = await notifier.request_approval(approval_request())
        first = await notifier.record_approval_decision(
            decision(decided_by="bob", approvals=1, comment="looks fine")
        )
        final = await notifier.record_approval_decision(decision(decided_by="carol"))
        return asked, first, final

    asked, first, final = asyncio.run(flow())

    [request_msg, partial_msg] = slack.messages("#patching")
    assert partial_msg.thread_ts == asked.ts and first.method == "chat.postMessage"
    assert "1 of 2 approvals" in str(partial_msg.blocks)
    assert final.method == "chat.update" and final.ts == asked.ts
    # Before the decision the request had the two buttons, with id and plan hash
    buttons = slack.calls_for("chat.postMessage")[0].params["blocks"][-2]["elements"]
    assert [b["action_id"] for b in buttons] == ["approve", "reject"]
    assert parse_approval_value(buttons[0]["value"]) == ("apr-1", "c0ffee" * 10)
    # After it, the message says who decided and offers nothing to click
    assert all(b["type"] != "actions" for b in request_msg.blocks)
    assert "approved by carol" in request_msg.text


def test_a_real_429_is_honoured_for_its_full_retry_after() -> None:
    """Real sleeps, real HTTP: the server answers 429 with Retry-After: 1 and would answer 429
    again (and record a violation) to a retry that came back early."""
    with SlackTestServer(enforce_retry_after=True) as server:
        server.fail_next(1, status=429, retry_after=1)
        notifier = make_notifier(server)
        started = time.monotonic()
        result = asyncio.run(notifier.announce_gate_halted(halted()))
        elapsed = time.monotonic() - started

    assert result.ok and result.attempts == 2
    rejected, accepted = server.calls
    assert rejected.status == 429 and accepted.ok
    assert accepted.at - rejected.at >= 1.0
    assert elapsed >= 1.0 and result.waited == pytest.approx(1.0, abs=0.05)
    assert server.retry_after_violations == []


def test_retry_after_goes_through_the_injected_sleep(slack: SlackTestServer) -> None:
    clock = FakeClock()
    slack.fail_next(2, status=429, retry_after=7)
    notifier = make_notifier(slack, clock=clock, sleep=clock.sleep)
    started = time.monotonic()

    result = asyncio.run(notifier.announce_gate_halted(halted()))

    assert result.ok and result.attempts == 3
    assert sum(clock.sleeps) >= 14.0 and result.waited >= 14.0
    assert time.monotonic() - started < 5  # nobody waited 14 real seconds


def test_a_429_quiets_only_its_own_channel() -> None:
    with SlackTestServer(enforce_retry_after=True) as server:
        notifier = make_notifier(server)
        server.fail_next(1, status=429, retry_after=1)

        async def timed(send: Any) -> tuple[DeliveryResult, float]:
            started = time.monotonic()
            result = await send
            return result, time.monotonic() - started

        async def both() -> tuple[tuple[DeliveryResult, float], tuple[DeliveryResult, float]]:
            limited = asyncio.create_task(timed(notifier.announce_gate_halted(halted())))
            await asyncio.sleep(0.1)  # the 429 has arrived: #patching is quiet for 1 s
            other = await timed(notifier.announce_gate_halted(halted(tenant="acme")))
            return await limited, other

        (limited, limited_secs), (other, other_secs) = asyncio.run(both())

    assert limited.ok and limited.attempts == 2 and limited_secs >= 1.0
    assert other.ok and other.attempts == 1 and other_secs < 0.5
    assert server.retry_after_violations == []


def test_a_longer_retry_after_than_allowed_is_recorded_not_waited(slack: SlackTestServer) -> None:
    clock = FakeClock()
    slack.fail_next(1, status=429, retry_after=600)
    notifier = make_notifier(slack, clock=clock, sleep=clock.sleep, max_retry_after=60)

    result = asyncio.run(notifier.announce_gate_halted(halted()))

    assert not result.ok and result.error == "ratelimited" and not result.permanent
    assert result.attempts == 1 and clock.sleeps == []


def test_5xx_is_retried_with_back_off(slack: SlackTestServer) -> None:
    clock = FakeClock()
    slack.fail_next(1, status=500)
    slack.fail_next(1, status=502)
    notifier = make_notifier(slack, clock=clock, sleep=clock.sleep, backoff=0.5)

    result = asyncio.run(notifier.announce_gate_halted(halted()))

    assert result.ok and result.attempts == 3
    assert [c.status for c in slack.calls] == [500, 502, 200]
    assert clock.sleeps[:1] == [0.5] and 1.0 in clock.sleeps


def test_5xx_that_never_ends_is_recorded_after_the_retries(slack: SlackTestServer) -> None:
    clock = FakeClock()
    slack.fail_next(100, status=503)
    notifier = make_notifier(slack, clock=clock, sleep=clock.sleep, max_retries=3)

    result = asyncio.run(notifier.announce_gate_halted(halted()))

    assert not result.ok and result.error == "http_503" and not result.permanent
    assert result.attempts == 4 and len(slack.calls) == 4


@pytest.mark.parametrize(
    ("token", "tenant", "error"),
    [("xoxb-revoked", None, "invalid_auth"), (DEFAULT_TOKEN, "acme", "channel_not_found")],
)
def test_permanent_errors_are_recorded_without_retry(
    monkeypatch: pytest.MonkeyPatch, token: str, tenant: str | None, error: str
) -> None:
    clock = FakeClock()
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    with SlackTestServer(channels={"#patching"}) as server:  # #acme-maintenance does not exist
        notifier = make_notifier(server, clock=clock, sleep=clock.sleep)
        result = asyncio.run(notifier.send(halted(tenant=tenant)))

    assert not result.ok and result.error == error and result.permanent
    assert result.attempts == 1 and len(server.calls) == 1
    assert clock.sleeps == []


def test_slack_down_is_recorded_and_never_raised() -> None:
    clock = FakeClock()
    server = SlackTestServer().start()
    url = server.url
    server.stop()
    seen: list[DeliveryResult] = []
    notifier = SlackNotifier(
        token_ref="env:SLACK_BOT_TOKEN",
        default_channel="#patching",
        base_url=url,
        clock=clock,
        sleep=clock.sleep,
        on_result=seen.append,
    )

    async def everything() -> list[DeliveryResult]:
        return [
            await notifier.show_wave_progress(progress()),
            await notifier.alert_failure(failure()),
            await notifier.request_approval(approval_request()),
            await notifier.announce_gate_halted(halted()),
        ]

    results = asyncio.run(everything())

    assert all(not r.ok and not r.permanent for r in results)
    assert all(r.error and r.error.startswith("connection_error") for r in results)
    # the first one tried 4 times; the next ones, within the cool-down, are recorded at once
    assert [r.attempts for r in results] == [4, 0, 0, 0]
    assert seen == results == list(notifier.outbox)
    assert notifier.message_refs == {}
    clock.now += 31  # after the cool-down Slack is tried again
    assert asyncio.run(notifier.announce_gate_halted(halted())).attempts == 4


def test_a_missing_token_is_recorded_without_a_call(
    slack: SlackTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    notifier = make_notifier(slack)
    result = asyncio.run(notifier.announce_gate_halted(halted()))
    assert not result.ok and result.permanent and result.attempts == 0
    assert result.error == "token_unavailable: environment variable SLACK_BOT_TOKEN is not set"
    assert slack.calls == []
    # Once the variable exists, the next message goes out (the failure was not cached)
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    assert asyncio.run(notifier.announce_gate_halted(halted())).ok


def test_token_from_a_secret_block_reference(slack: SlackTestServer) -> None:
    asked: list[str] = []

    async def loader(name: str) -> str:
        asked.append(name)
        return DEFAULT_TOKEN

    notifier = make_notifier(slack, token_ref="secret:slack-bot-token", secret_loader=loader)
    assert asyncio.run(notifier.announce_gate_halted(halted())).ok
    assert asyncio.run(notifier.announce_gate_halted(halted())).ok
    assert asked == ["slack-bot-token"]  # resolved once, lazily
    assert slack.calls[0].token == DEFAULT_TOKEN


def test_an_unreadable_secret_is_recorded_without_its_details(slack: SlackTestServer) -> None:
    async def loader(name: str) -> str:
        raise ValueError("xoxb-leaked-in-an-exception")

    notifier = make_notifier(slack, token_ref="secret:slack-bot-token", secret_loader=loader)
    result = asyncio.run(notifier.announce_gate_halted(halted()))
    assert not result.ok and result.permanent
    assert "slack-bot-token" in (result.error or "") and "xoxb" not in (result.error or "")


def test_bad_settings_fail_at_construction_with_a_useful_message() -> None:
    with pytest.raises(SlackConfigError, match="env:VARIABLE"):
        SlackNotifier(token_ref="xoxb-123", default_channel="#x")
    with pytest.raises(SlackConfigError, match="default channel"):
        SlackNotifier(token_ref="env:T", default_channel=" ")
    with pytest.raises(SlackConfigError, match="rate_per_channel"):
        SlackNotifier(token_ref="env:T", default_channel="#x", rate_per_channel=0)


def test_the_token_never_reaches_logs_results_or_repr(
    slack: SlackTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    slack.fail_next(1, status=429, retry_after=1)
    slack.fail_next(1, status=500)
    notifier = make_notifier(slack, clock=clock, sleep=clock.sleep, max_retries=1)
    results = [asyncio.run(notifier.announce_gate_halted(halted())) for _ in range(2)]
    assert [r.ok for r in results] == [False, True]  # 429 then 500: retries exhausted
    assert caplog.records, "expected the failure to be logged"
    assert DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN not in repr(notifier)
    assert all(DEFAULT_TOKEN not in str(r.to_dict()) for r in results)


def test_a_broken_template_is_a_recorded_failure(slack: SlackTestServer, tmp_path: Path) -> None:
    (tmp_path / "gate_halted.json.j2").write_text('{"text": "{{ ctx.missing }}", "blocks": []}')
    notifier = make_notifier(slack, renderer=MessageRenderer(tmp_path))
    result = asyncio.run(notifier.announce_gate_halted(halted()))
    assert not result.ok and result.permanent and result.attempts == 0
    assert (result.error or "").startswith("render_failed")
    assert slack.calls == []


def test_a_failing_result_hook_does_not_break_delivery(slack: SlackTestServer) -> None:
    def hook(result: DeliveryResult) -> None:
        raise RuntimeError("the store is down")

    notifier = make_notifier(slack, on_result=hook)
    assert asyncio.run(notifier.announce_gate_halted(halted())).ok
    assert len(notifier.outbox) == 1


def test_send_sync_outside_and_inside_an_event_loop(slack: SlackTestServer) -> None:
    notifier = make_notifier(slack)
    assert notifier.send_sync(halted()).ok

    async def from_a_coroutine() -> DeliveryResult:
        return notifier.send_sync(halted(ring="broad"))

    assert asyncio.run(from_a_coroutine()).ok
    assert len(slack.messages("#patching")) == 2


def test_each_channel_is_paced_and_channels_go_in_parallel(slack: SlackTestServer) -> None:
    rate = 10.0
    notifier = make_notifier(slack, rate_per_channel=rate)

    async def burst() -> list[DeliveryResult]:
        sends = []
        for i in range(6):
            sends.append(notifier.announce_gate_halted(halted(ring=f"r{i}")))
            sends.append(notifier.announce_gate_halted(halted(ring=f"r{i}", tenant="acme")))
        return await asyncio.gather(*sends)

    started = time.monotonic()
    results = asyncio.run(burst())
    elapsed = time.monotonic() - started

    assert all(r.ok for r in results)
    for channel in ("#patching", "#acme-maintenance"):
        times = [c.at for c in slack.calls if c.channel == channel]
        assert len(times) == 6
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Sends start exactly 1/rate apart (the pacer's own tests show it); arrivals carry the
        # jitter of opening a connection per request, so hold the average and bound the worst.
        assert (times[-1] - times[0]) / len(gaps) >= 0.95 / rate, gaps
        assert min(gaps) >= 0.4 / rate, gaps
    # 6 messages per channel at 10/s take 0.5 s; serialised across channels it would be 1.1 s
    assert elapsed < 1.0


def test_chat_update_takes_a_slot_like_a_post() -> None:
    clock = FakeClock()
    with SlackTestServer(enforce_retry_after=False) as server:
        notifier = make_notifier(server, clock=clock, sleep=clock.sleep, rate_per_channel=1.0)

        async def sequence() -> None:
            await notifier.show_wave_progress(progress())
            await notifier.show_wave_progress(progress(succeeded=1))
            await notifier.alert_failure(failure())
            await notifier.show_wave_progress(progress(succeeded=1, failed=1))

        asyncio.run(sequence())

    assert [c.method for c in server.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
        "chat.update",
    ]
    assert clock.sleeps == pytest.approx([1.0, 1.0, 1.0])


def test_slack_down_does_not_stall_other_work() -> None:
    """A campaign keeps driving hosts while a notification waits out its retries."""
    server = SlackTestServer().start()
    url = server.url
    server.stop()
    notifier = SlackNotifier(
        token_ref="env:SLACK_BOT_TOKEN",
        default_channel="#patching",
        base_url=url,
        backoff=0.05,
        rate_per_channel=100,
    )
    ticks = 0

    async def hosts() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks += 1

    async def both() -> DeliveryResult:
        result, _ = await asyncio.gather(notifier.announce_gate_halted(halted()), hosts())
        return result

    result = asyncio.run(both())
    assert not result.ok and result.attempts == 4 and ticks == 10


def test_failure_alert_for_a_known_progress_message_keeps_its_tenant_out_of_routing(
    slack: SlackTestServer,
) -> None:
    """The thread wins over the tenant channel: ops follow one wave in one place."""
    notifier = make_notifier(slack)
    asyncio.run(notifier.show_wave_progress(progress()))
    result = asyncio.run(notifier.alert_failure(replace(failure(), tenant="acme")))
    assert result.channel == "#patching" and result.thread_ts is not None
    assert slack.messages("#acme-maintenance") == []


@pytest.mark.prefect
@pytest.mark.slow
def test_token_from_a_real_prefect_secret_block(slack: SlackTestServer) -> None:
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        Secret(value=DEFAULT_TOKEN).save("slack-bot-token", overwrite=True)
        notifier = make_notifier(slack, token_ref="secret:slack-bot-token")
        assert asyncio.run(notifier.announce_gate_halted(halted())).ok
        missing = make_notifier(slack, token_ref="secret:no-such-block")
        result = asyncio.run(missing.announce_gate_halted(halted()))

    assert slack.calls[0].token == DEFAULT_TOKEN
    assert not result.ok and result.permanent and "no-such-block" in (result.error or "")
