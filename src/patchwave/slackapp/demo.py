"""``patchwave demo --slack``: a Slack-shaped server on loopback instead of Slack.

    demo = start_demo_slack()
    demo.apply()                     # PATCHWAVE_SLACK_* now point at it (this process + children)
    ...run the campaign...
    print_transcript(demo.server)    # every message in order, threads and edits included
    demo.stop()

With ``with_app=True`` the approval app also runs (HTTP mode, on loopback), and
:meth:`DemoSlack.press` presses a button of a posted approval request as a given Slack user, the
way Slack would (signed ``block_actions``), so the demo can show an approval made "in Slack".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from patchwave.devtools.slack_clicks import (
    approval_buttons,
    block_actions_payload,
    post,
    signed_request,
)
from patchwave.devtools.slack_server import DEFAULT_TOKEN, SlackTestServer, StoredMessage

DEMO_SIGNING_SECRET = "patchwave-demo-signing-secret"
TOKEN_VARIABLE = "PATCHWAVE_DEMO_SLACK_TOKEN"
SECRET_VARIABLE = "PATCHWAVE_DEMO_SLACK_SIGNING_SECRET"


@dataclass
class DemoSlack:
    server: SlackTestServer
    env: dict[str, str]
    app_server: Any = None  # slackapp.server.HttpServer when with_app
    _previous: dict[str, str | None] = field(default_factory=dict)

    def apply(self) -> None:
        """Point this process (and the processes it starts) at the demo server."""
        from patchwave.notify.campaign import reset_notifiers
        from patchwave.settings import get_settings

        for key, value in self.env.items():
            self._previous.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        get_settings.cache_clear()
        reset_notifiers()

    def start_app(self) -> str:
        """Run the approval app on loopback (HTTP mode, settings applied first); returns its
        Request URL."""
        from patchwave.settings import get_settings
        from patchwave.slackapp.server import HttpServer, SlackSecrets, build_app

        self.apply()
        app, _ = build_app(
            get_settings(),
            secrets=SlackSecrets(DEFAULT_TOKEN, signing_secret=DEMO_SIGNING_SECRET),
        )
        self.app_server = HttpServer(app).start()
        return str(self.app_server.url)

    def approval_messages(self) -> list[StoredMessage]:
        """Posted messages that still carry Approve / Reject buttons."""
        found = []
        for call in self.server.calls_for("chat.postMessage"):
            channel = call.channel or ""
            for message in self.server.messages(channel):
                if approval_buttons(message) and message not in found:
                    found.append(message)
        return found

    def press(
        self, message: StoredMessage, *, user_id: str, team_id: str, action: str = "approve"
    ) -> int:
        """Press a button of ``message`` as Slack user ``user_id``; returns the HTTP status."""
        if self.app_server is None:
            raise RuntimeError("start_app() first")
        value = approval_buttons(message)[action]
        payload = block_actions_payload(
            user_id=user_id,
            team_id=team_id,
            value=value,
            action_id=action,
            channel_id=message.channel,
            message_ts=message.ts,
            response_url=self.server.response_url(user=user_id, channel=message.channel),
        )
        status, _, _ = post(
            self.app_server.url, signed_request(payload, secret=DEMO_SIGNING_SECRET)
        )
        self.app_server.app.wait_idle(timeout=60)
        return status

    def stop(self) -> None:
        if self.app_server is not None:
            self.app_server.stop()
        self.server.stop()
        for key, value in self._previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._previous.clear()


def start_demo_slack(
    *, port: int = 0, rate_per_channel: float = 20.0, with_app: bool = False
) -> DemoSlack:
    """Start the Slack-shaped server; ``env`` holds the settings to use it (see :meth:`apply`).

    ``rate_per_channel`` is raised from Slack's 1/s so a demo campaign is not slowed by pacing.
    """
    server = SlackTestServer(port=port, tokens={DEFAULT_TOKEN}).start()
    env = {
        "PATCHWAVE_SLACK_TOKEN_REF": f"env:{TOKEN_VARIABLE}",
        "PATCHWAVE_SLACK_BASE_URL": server.url,
        "PATCHWAVE_SLACK_DEFAULT_CHANNEL": "#patching",
        "PATCHWAVE_SLACK_RATE_PER_CHANNEL": str(rate_per_channel),
        "PATCHWAVE_SLACK_SIGNING_SECRET_REF": f"env:{SECRET_VARIABLE}",
        TOKEN_VARIABLE: DEFAULT_TOKEN,
        SECRET_VARIABLE: DEMO_SIGNING_SECRET,
    }
    demo = DemoSlack(server=server, env=env)
    if with_app:
        demo.start_app()
    return demo


def format_transcript(server: SlackTestServer) -> str:
    """The calls in arrival order, then what each channel shows (threads under their message,
    edits noted with what the message said before)."""
    calls = server.transcript() or "(no Slack calls)"
    return f"Slack calls, in order:\n{calls}\n\nChannels now:\n{server.conversation()}"


def print_transcript(server: SlackTestServer, console: Any = None) -> None:
    """Print :func:`format_transcript` (on a rich console when given: no markup parsing)."""
    text = format_transcript(server)
    if console is not None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        print(text)
