"""Re-export: the Slack-shaped server lives in ``patchwave.devtools.slack_server`` so the demo can
run it without the tests tree."""

from patchwave.devtools.slack_server import (
    CHANNEL_METHODS,
    DEFAULT_TOKEN,
    RecordedCall,
    SlackTestServer,
    StoredMessage,
    channel_id_for,
    main,
)

__all__ = [
    "CHANNEL_METHODS",
    "DEFAULT_TOKEN",
    "RecordedCall",
    "SlackTestServer",
    "StoredMessage",
    "channel_id_for",
    "main",
]
