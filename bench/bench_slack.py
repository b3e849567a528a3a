"""Load check for the Slack notifier: N notifications over C channels through the Slack-shaped
loopback server, which answers 429 (Retry-After) to one call in ten.

What it shows:
- none lost: every notification comes back as a DeliveryResult, delivered or recorded as failed
  (delivered + failed = N), the outbox holds N results, and the server holds exactly the
  delivered messages (no duplicates, no silent drops);
- Retry-After is honoured: the server counts calls that came back before their Retry-After ran
  out (it would answer them 429 again, as Slack does); the count must be 0;
- every result reaches the store: each DeliveryResult is written to the ``notifications`` table
  as it arrives (``notify.campaign.record``, as campaigns do), and the rows add up to N;
- pacing holds per channel: the mean gap between calls on a channel stays at or above 1/rate,
  and channels proceed in parallel (a 429 quiets only its own channel).

Why 20 msg/s per channel by default: Slack's limit is about 1 msg/s per channel, so 1,000
messages over 5 channels take at least 200 s at the real rate plus the 429 pauses. The pacer is
the same code at any rate, so the default runs it at 20 msg/s (about 10 s of sending plus the 1 s
Retry-After pauses) and the printout checks that the achieved rate stays at the configured one.
``--rate 1`` runs it at Slack's real limit (about 4 minutes).

    .venv/bin/python bench/bench_slack.py [--messages 1000] [--channels 5] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from patchwave.devtools.slack_server import DEFAULT_TOKEN, SlackTestServer, channel_id_for
from patchwave.domain.models import Tier
from patchwave.notify import (
    ClientNotice,
    DeliveryResult,
    FailureAlert,
    GateHalted,
    Message,
    PatchLine,
    SlackNotifier,
)
from patchwave.notify.campaign import record
from patchwave.store import open_store
from patchwave.store.tables import NotificationRow

T0 = datetime(2026, 1, 17, 21, 0, tzinfo=UTC)


def make_message(i: int, channels: int) -> Message:
    """A mix of what a busy campaign sends: mostly failure alerts, some halts and notices."""
    tenant = f"tenant-{i % channels}"
    if i % 10 == 9:
        return GateHalted(
            run_id="bench",
            campaign="bench",
            ring=f"ring-{i}",
            reasons=("success rate below the gate",),
            hosts=100,
            succeeded=80,
            failures=20,
            success_rate=0.8,
            min_success_rate=0.95,
            next_step="Resume or roll back.",
            tenant=tenant,
        )
    if i % 10 == 8:
        return ClientNotice(
            tenant=tenant,
            tenant_name=tenant.title(),
            campaign="bench",
            window_start=T0,
            window_end=T0 + timedelta(hours=4),
            host_count=40,
            patches=(PatchLine("KB5034441", "Cumulative update", Tier.P1, kev=True, hosts=40),),
            reboot_expected=True,
        )
    return FailureAlert(
        run_id="bench",
        campaign="bench",
        ring="broad",
        wave=1,
        host=f"host-{i:04d}",
        patch="DSA-5678-1",
        step="installing",
        error="E: dpkg was interrupted",
        remedy="Run `dpkg --configure -a`, then resume.",
        occurred_at=T0,
        tenant=tenant,
    )


async def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    channel_names = [f"#bench-{c}" for c in range(args.channels)]
    with (
        SlackTestServer(enforce_retry_after=True) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        server.fail_fraction(1 / args.fail_every, status=429, retry_after=args.retry_after)
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        notifier = SlackNotifier(
            on_result=lambda result: record(store, result, run_id=None, subject="bench"),
            token_ref="env:SLACK_BOT_TOKEN",
            default_channel=channel_names[0],
            tenant_channels={f"tenant-{c}": name for c, name in enumerate(channel_names)},
            base_url=server.url,
            rate_per_channel=args.rate,
            max_retries=args.max_retries,
        )
        messages = [make_message(i, args.channels) for i in range(args.messages)]
        started = time.monotonic()
        results: list[DeliveryResult] = await asyncio.gather(*map(notifier.send, messages))
        wall = time.monotonic() - started
        calls = server.calls
        violations = len(server.retry_after_violations)
        stored = sum(len(server.messages(name)) for name in channel_names)
        with store.session() as session:
            recorded = dict(
                session.execute(
                    select(NotificationRow.status, func.count()).group_by(NotificationRow.status)
                ).all()
            )
        store.dispose()

    delivered = sum(r.ok for r in results)
    failed = sum(not r.ok for r in results)
    lost = args.messages - delivered - failed
    rate_limited = sum(c.status == 429 for c in calls)
    print(f"notifications      {args.messages} over {args.channels} channels at {args.rate:g}/s")
    print(f"delivered          {delivered}")
    print(f"recorded failed    {failed}  {sorted({r.error for r in results if not r.ok})}")
    print(f"lost               {lost}")
    print(f"outbox / stored    {len(notifier.outbox)} results / {stored} messages on the server")
    print(f"HTTP calls         {len(calls)} ({rate_limited} answered 429, 1 in {args.fail_every})")
    print(f"Retry-After broken {violations}")
    print(f"recorded in store  {sum(recorded.values())} rows {recorded}")
    print(f"total time         {wall:.1f} s")
    print()
    print(
        f"{'channel':<10} {'sent':>5} {'429s':>5} {'overall/s':>10} {'unblocked/s':>12} "
        f"{'min gap':>8}"
    )
    pacing_ok = True
    for name in channel_names:
        on_channel = [c for c in calls if c.channel in (name, channel_id_for(name))]
        pairs = list(itertools.pairwise(on_channel))
        overall = len(pairs) / (on_channel[-1].at - on_channel[0].at)
        # While the channel was free to send: every gap except the Retry-After pause after a 429.
        free = [b.at - a.at for a, b in pairs if a.status != 429]
        unblocked = len(free) / sum(free)
        pacing_ok &= unblocked <= args.rate * 1.05
        print(
            f"{name:<10} {sum(c.ok for c in on_channel):>5} "
            f"{sum(c.status == 429 for c in on_channel):>5} {overall:>10.2f} {unblocked:>12.2f} "
            f"{min(free):>7.3f}s"
        )
    print()
    print(
        f"pacing holds       {'yes' if pacing_ok else 'NO'}: the rate while unblocked stays at "
        f"or under the limit ({args.rate:g}/s per channel, +5 % for arrival jitter); overall/s "
        "includes the Retry-After pauses"
    )
    ok = (
        lost == 0
        and violations == 0
        and pacing_ok
        and stored == delivered
        and recorded.get("sent", 0) == delivered
        and sum(recorded.values()) == args.messages
    )
    print("RESULT             " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s per channel")
    parser.add_argument("--fail-every", type=int, default=10, help="429 one call in N")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds, as Slack sends")
    parser.add_argument("--max-retries", type=int, default=3)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
