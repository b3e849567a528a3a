"""Notifications: campaign messages rendered from Block Kit templates and delivered to Slack.

``SlackNotifier`` (slack.py) delivers; ``messages`` holds one dataclass per message and the
renderer; ``ratelimit`` paces each channel. Nothing here raises to a campaign for a failed
delivery: failures are ``DeliveryResult`` records.
"""

from patchwave.notify.messages import (
    ApprovalDecided,
    ApprovalRequest,
    CampaignCompleted,
    ClientNotice,
    FailureAlert,
    GateHalted,
    Message,
    MessageRenderer,
    PatchLine,
    RenderedMessage,
    TenantSummary,
    WaveProgress,
    parse_approval_value,
)
from patchwave.notify.ratelimit import ChannelPacer
from patchwave.notify.results import DeliveryResult, MessageRef
from patchwave.notify.slack import SlackNotifier
from patchwave.notify.token import SlackConfigError

__all__ = [
    "ApprovalDecided",
    "ApprovalRequest",
    "CampaignCompleted",
    "ChannelPacer",
    "ClientNotice",
    "DeliveryResult",
    "FailureAlert",
    "GateHalted",
    "Message",
    "MessageRef",
    "MessageRenderer",
    "PatchLine",
    "RenderedMessage",
    "SlackConfigError",
    "SlackNotifier",
    "TenantSummary",
    "WaveProgress",
    "parse_approval_value",
]
