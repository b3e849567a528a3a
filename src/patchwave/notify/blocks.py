"""Slack mrkdwn escaping, the Jinja filters the Block Kit templates use, and Block Kit limits.

Every ``{{ expression }}`` in a ``templates/slack/*.json.j2`` file goes through :func:`finalize`:
user-controlled text has Slack's three control characters escaped (``&``, ``<``, ``>``), so a host
named ``<!channel>`` shows as text instead of pinging everyone, and the result is then escaped as
the body of a JSON string so the template always renders valid JSON. Text that we build ourselves
and that must keep its markup (links, date tokens) is wrapped in :class:`SlackSafe`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks and composition objects).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
# chat.postMessage truncates `text` past 40,000 characters; 4,000 is Slack's advice for the
# notification fallback, and nobody reads more in a push notification.
MAX_FALLBACK_TEXT = 4000

ELLIPSIS = "…"


class SlackSafe(str):
    """Text that is already valid mrkdwn (built by a filter here), so it is not escaped again."""

    __slots__ = ()


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's control characters; nothing else (Slack shows other entities verbatim)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def finalize(value: Any) -> str:
    """Jinja ``finalize`` hook: escape for mrkdwn, then for the inside of a JSON string."""
    if value is None:
        # A None reaching the output is a template bug (an optional field not guarded by {% if %});
        # printing "None" to a client would be worse than failing the render.
        raise ValueError("a Slack template printed None; guard optional fields with {% if %}")
    if isinstance(value, SlackSafe):
        text = str(value)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = escape_mrkdwn(str(value))
    return json.dumps(text, ensure_ascii=False)[1:-1]


def clip(value: Any, limit: int) -> str:
    """Shorten user text to ``limit`` characters (before escaping), marking the cut."""
    text = str(value)
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def code(value: Any, limit: int = 1500) -> SlackSafe:
    """A fenced code block; a ``` inside the text would close the fence early, so it is broken."""
    text = clip(value, limit).replace("```", "`\u200b``")
    return SlackSafe("```" + escape_mrkdwn(text) + "```")


def link(url: str | None, text: Any) -> SlackSafe:
    """``<url|text>`` for http(s) URLs; anything else is shown as plain escaped text."""
    label = escape_mrkdwn(str(text)).replace("|", "¦")
    if not url or not url.lower().startswith(("http://", "https://")):
        return SlackSafe(label)
    # `<`, `>` and `|` end the link token early: percent-encode them; `&` goes as an entity.
    safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%-._~").replace("&", "&amp;")
    return SlackSafe(f"<{safe_url}|{label}>")


def when(value: datetime) -> str:
    """A wall-clock time in the datetime's own zone: ``Sat 17 Jan 2026 22:00 CET``."""
    return value.strftime("%a %d %b %Y %H:%M %Z").strip()


def window(start: datetime, end: datetime) -> str:
    """A maintenance window in its own zone, the end shortened when it is the same day."""
    # Across a DST change the two ends have different zone names: show both in full.
    if start.date() == end.date() and start.tzname() == end.tzname():
        return f"{start.strftime('%a %d %b %Y %H:%M')}–{end.strftime('%H:%M %Z')}".strip()
    return f"{when(start)} → {when(end)}"


def slack_date(value: datetime) -> SlackSafe:
    """Slack's date token: each reader sees the time in their own zone; fallback in ours."""
    stamp = int(value.timestamp())
    return SlackSafe(f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{escape_mrkdwn(when(value))}>")


def duration(value: timedelta | float) -> str:
    """``3h 05m``, ``12m 30s`` or ``8s``."""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = 0 if total <= 0 else round(width * min(done, total) / total)
    return "█" * filled + "░" * (width - filled)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


FILTERS = {
    "clip": clip,
    "code": code,
    "link": link,
    "when": when,
    "slack_date": slack_date,
    "duration": duration,
    "percent": percent,
    "plural": plural,
    "raw": SlackSafe,
}
GLOBALS = {"window": window, "progress_bar": progress_bar}


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return ""


def check_blocks(message: dict[str, Any]) -> list[str]:
    """Everything in a rendered message that Slack would reject (``invalid_blocks``) or cut."""
    problems: list[str] = []
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("message has no fallback text")
    elif len(text) > MAX_FALLBACK_TEXT:
        problems.append(f"fallback text is {len(text)} > {MAX_FALLBACK_TEXT} characters")
    blocks = message.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*problems, "message has no blocks"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"block {i} ({kind})"
        if kind == "header":
            if block["text"].get("type") != "plain_text":
                problems.append(f"{where}: header text must be plain_text")
            if len(_text_of(block["text"])) > MAX_HEADER_TEXT:
                problems.append(f"{where}: header longer than {MAX_HEADER_TEXT}")
        elif kind == "section":
            if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
                problems.append(f"{where}: text longer than {MAX_SECTION_TEXT}")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}: {len(fields)} fields > {MAX_FIELDS}")
            if any(len(_text_of(f)) > MAX_FIELD_TEXT for f in fields):
                problems.append(f"{where}: a field is longer than {MAX_FIELD_TEXT}")
            if "text" not in block and not fields:
                problems.append(f"{where}: needs text or fields")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements")
            if any(len(_text_of(e)) > MAX_CONTEXT_TEXT for e in elements):
                problems.append(f"{where}: an element is longer than {MAX_CONTEXT_TEXT}")
        elif kind == "actions":
            for element in block.get("elements", []):
                if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
                    problems.append(f"{where}: button text longer than {MAX_BUTTON_TEXT}")
                if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
                    problems.append(f"{where}: button value longer than {MAX_BUTTON_VALUE}")
                if not 1 <= len(str(element.get("action_id", ""))) <= MAX_ACTION_ID:
                    problems.append(f"{where}: button needs an action_id")
        elif kind != "divider":
            problems.append(f"{where}: unexpected block type")
    return problems


def _clip_escaped(text: str, limit: int) -> str:
    """Clip already-escaped text without cutting an entity such as ``&amp;`` in half."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    amp = text.rfind("&", max(cut - 5, 0), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return text[:cut] + ELLIPSIS


def fit_limits(message: dict[str, Any]) -> dict[str, Any]:
    """Last line of defence after rendering: escaping can lengthen text past a limit that the
    template's ``clip`` respected (``&`` becomes five characters), so clip the escaped text and
    fold surplus blocks into a closing note rather than have Slack refuse the whole message."""
    message["text"] = _clip_escaped(str(message.get("text", "")), MAX_FALLBACK_TEXT)
    blocks: list[dict[str, Any]] = message.get("blocks", [])
    for block in blocks:
        limit = {"header": MAX_HEADER_TEXT, "section": MAX_SECTION_TEXT}.get(block.get("type", ""))
        if limit and isinstance(block.get("text"), dict):
            block["text"]["text"] = _clip_escaped(_text_of(block["text"]), limit)
        for element in block.get("elements", []) if block.get("type") == "context" else []:
            if isinstance(element, dict) and "text" in element:
                element["text"] = _clip_escaped(_text_of(element), MAX_CONTEXT_TEXT)
        for item in block.get("fields", []):
            item["text"] = _clip_escaped(_text_of(item), MAX_FIELD_TEXT)
    if len(blocks) > MAX_BLOCKS:
        # Drop from the end of the body, never the header, the buttons or the closing block.
        kept, dropped, i = list(blocks), 0, len(blocks) - 2
        while len(kept) > MAX_BLOCKS - 1 and i > 0:
            if kept[i].get("type") not in ("header", "actions"):
                del kept[i]
                dropped += 1
            i -= 1
        note = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"{ELLIPSIS} {dropped} more blocks not shown"}],
        }
        kept.insert(len(kept) - 1, note)
        message["blocks"] = kept
    return message
