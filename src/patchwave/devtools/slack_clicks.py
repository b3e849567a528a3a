"""Press a button the way Slack does: a ``block_actions`` payload, form-encoded as ``payload=``,
signed with the app's signing secret (v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``) and POSTed
to the app's Request URL. For tests and the demo; the stdlib only."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from patchwave.devtools.slack_server import StoredMessage

_action_ts = itertools.count(1)


def sign(secret: str, body: str, timestamp: int | str) -> str:
    """Slack's ``X-Slack-Signature`` for ``body`` sent at ``timestamp``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def approval_buttons(message: StoredMessage) -> dict[str, str]:
    """``{action_id: value}`` of the buttons of a posted message (empty once decided)."""
    return {
        str(element["action_id"]): str(element.get("value", ""))
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    }


def block_actions_payload(
    *,
    user_id: str,
    team_id: str,
    value: str,
    action_id: str = "approve",
    channel_id: str = "CPATCHING",
    message_ts: str = "1700000001.000100",
    response_url: str | None = None,
    user_name: str | None = None,
    action_ts: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload shaped like Slack's for a press on one of our buttons."""
    stamp = action_ts or f"{int(time.time())}.{next(_action_ts):06d}"
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_name or user_id.lower(),
            "name": user_name or user_id.lower(),
            "team_id": team_id,
        },
        "api_app_id": "APATCHWAVE",
        "token": "legacy-verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"{stamp.replace('.', '')}.{team_id}",
        "team": {"id": team_id, "domain": "patchwave-msp"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "patching"},
        "message": {"type": "message", "ts": message_ts, "text": "Approval needed"},
        "state": {"values": {}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "patchwave_approval",
                "text": {"type": "plain_text", "text": action_id.title(), "emoji": True},
                "value": value,
                "style": "primary" if action_id == "approve" else "danger",
                "type": "button",
                "action_ts": stamp,
            }
        ],
    }
    if response_url:
        payload["response_url"] = response_url
    return payload


@dataclass(frozen=True, slots=True)
class SignedRequest:
    body: str
    headers: dict[str, str]


def signed_request(
    payload: dict[str, Any],
    *,
    secret: str,
    timestamp: int | None = None,
    signature: str | None = None,
) -> SignedRequest:
    """The form body and headers Slack would send (``signature`` overrides, to forge one)."""
    body = urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
    stamp = int(time.time()) if timestamp is None else timestamp
    return SignedRequest(
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature or sign(secret, body, stamp),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        },
    )


def post(url: str, request: SignedRequest, *, timeout: float = 10.0) -> tuple[int, str, float]:
    """POST it; returns (HTTP status, body, seconds until the answer)."""
    http = urllib.request.Request(
        url, data=request.body.encode(), headers=request.headers, method="POST"
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:
            return int(answer.status), answer.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(), time.monotonic() - started
