"""The Slack app behind the Approve / Reject buttons (slack-bolt; HTTP or Socket Mode).

``build_app`` makes it from the settings, ``HttpServer`` serves it at ``/slack/events``,
``socket_mode_handler`` connects it over Socket Mode; ``demo`` runs it against the Slack-shaped
loopback server. See docs/slack.md for setting up the Slack side.
"""

from patchwave.slackapp.app import ApprovalApp
from patchwave.slackapp.clicks import Click, ClickOutcome, parse_click, record_click
from patchwave.slackapp.replay import ReplayCache
from patchwave.slackapp.server import (
    EVENTS_PATH,
    HttpServer,
    SlackSecrets,
    build_app,
    load_secrets,
    socket_mode_handler,
)

__all__ = [
    "EVENTS_PATH",
    "ApprovalApp",
    "Click",
    "ClickOutcome",
    "HttpServer",
    "ReplayCache",
    "SlackSecrets",
    "build_app",
    "load_secrets",
    "parse_click",
    "record_click",
    "socket_mode_handler",
]
