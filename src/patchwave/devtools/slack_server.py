"""A Slack-Web-API-shaped HTTP server on loopback, for tests, the demo and the bench.

It answers the methods patchwave uses the way Slack does (HTTP 200 with ``{"ok": ...}``), keeps the
messages per channel (with threads and edits), records every call in arrival order, and injects
faults on demand: 429 with ``Retry-After`` or a 5xx, for the next N calls or for a deterministic
fraction of calls (every call whose running count crosses a multiple of 1/fraction).

    with SlackTestServer(tokens={"xoxb-test"}) as slack:
        slack.fail_fraction(0.1, status=429, retry_after=1)
        notifier = SlackNotifier(token_ref="env:SLACK_BOT_TOKEN", base_url=slack.url, ...)

Interactive replies go to ``response_url``s that it hands out (:meth:`SlackTestServer.response_url`)
and are kept, with ``chat.postEphemeral`` ones, as :class:`EphemeralMessage`s.

Run it alone to watch a demo's messages arrive:
``python -m patchwave.devtools.slack_server --port 8099``.
Only the stdlib is used, and it serves from a background thread, so it works under any event loop.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

DEFAULT_TOKEN = "xoxb-patchwave-test"
# Methods that post into a channel: the ones Slack rate-limits per channel, and so the ones faults
# apply to unless a test says otherwise.
CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One HTTP call as the server saw it. ``at`` is ``time.monotonic()`` on arrival."""

    seq: int
    method: str
    params: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any] | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def channel(self) -> str | None:
        value = self.params.get("channel")
        return str(value) if value is not None else None


@dataclass(slots=True)
class StoredMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: int = 0
    reply_broadcast: bool = False
    history: list[str] = field(default_factory=list)  # texts before each edit


@dataclass(frozen=True, slots=True)
class EphemeralMessage:
    """A reply only one person sees: from chat.postEphemeral or a POST to a response_url."""

    user: str
    channel: str
    text: str
    via: str  # "chat.postEphemeral" | "response_url"
    replace_original: bool = False


@dataclass(slots=True)
class _Fault:
    status: int
    retry_after: float | None
    methods: frozenset[str]
    remaining: int | None = None  # fail_next: how many more
    fraction: float | None = None  # fail_fraction
    seen: int = 0


def channel_id_for(name: str) -> str:
    """Slack-like channel id: ids pass through, names (with or without #) map to a stable id."""
    bare = name.lstrip("#")
    if bare[:1] in ("C", "G", "D") and bare.isupper() and bare.isalnum():
        return bare
    return "C" + hashlib.sha1(bare.encode()).hexdigest()[:10].upper()


class SlackTestServer:
    """The loopback server. Thread-safe; all public methods may be called while it serves.

    Args:
        tokens: tokens accepted, bot (xoxb-) or app-level (xapp-); others get ``invalid_auth``.
        channels: channel names that exist; ``None`` accepts any name (``channel_not_found``
            otherwise).
        enforce_retry_after: after a 429, answer 429 again to calls on that channel that come
            before Retry-After has elapsed (as Slack does), and record them as violations.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        channels: Iterable[str] | None = None,
        enforce_retry_after: bool = True,
    ) -> None:
        self.tokens = set(tokens)
        self.known_channels = None if channels is None else {channel_id_for(c) for c in channels}
        self.enforce_retry_after = enforce_retry_after
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._messages: dict[str, list[StoredMessage]] = {}
        self._faults: list[_Fault] = []
        self._blocked_until: dict[str, float] = {}
        self.retry_after_violations: list[RecordedCall] = []
        self._seq = itertools.count(1)
        self._ts = itertools.count(1)
        self._ephemerals: list[EphemeralMessage] = []
        self._names: dict[str, str] = {}  # channel id -> the #name it was first posted to
        self.socket_mode_url: str | None = None  # answer of apps.connections.open
        self._response_urls: dict[str, tuple[str, str]] = {}
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The ``base_url`` for slack-sdk clients (ends with /api/)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> SlackTestServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll
            name="slack-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: later calls get "connection refused"."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self,
        count: int,
        *,
        status: int = 429,
        retry_after: float | None = 1,
        methods: Iterable[str] = CHANNEL_METHODS,
    ) -> None:
        """Answer the next ``count`` matching calls with ``status`` (429 carries Retry-After)."""
        with self._lock:
            self._faults.append(_Fault(status, retry_after, frozenset(methods), remaining=count))

    def fail_fraction(
        self,
        fraction: float,
        *,
        status: int = 429,
        retry_after: float | None = 1,
        methods: Iterable[str] = CHANNEL_METHODS,
    ) -> None:
        """Answer a deterministic ``fraction`` of matching calls with ``status``: call n fails
        when floor(n * fraction) > floor((n - 1) * fraction), so 0.1 fails calls 10, 20, 30..."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        with self._lock:
            self._faults.append(_Fault(status, retry_after, frozenset(methods), fraction=fraction))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_for(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[StoredMessage]:
        """Top-level messages and thread replies of a channel, in posting order."""
        with self._lock:
            return list(self._messages.get(channel_id_for(channel), []))

    def thread(self, channel: str, ts: str) -> list[StoredMessage]:
        return [m for m in self.messages(channel) if m.thread_ts == ts]

    def response_url(self, *, user: str, channel: str) -> str:
        """A fresh response_url for an interaction by ``user`` in ``channel`` (as Slack puts in
        each interactive payload); what is posted to it is kept as an ephemeral reply."""
        with self._lock:
            hook = f"{len(self._response_urls) + 1:06d}"
            self._response_urls[hook] = (user, channel_id_for(channel))
        return f"http://127.0.0.1:{self.port}/actions/TPATCHWAVE/{hook}/hook-secret"

    def ephemerals(self, user: str | None = None) -> list[EphemeralMessage]:
        """Ephemeral replies in arrival order (only ``user``'s when given)."""
        with self._lock:
            return [e for e in self._ephemerals if user is None or e.user == user]

    def channel_name(self, channel: str) -> str:
        """``#name`` for a channel id (or name) that was posted to by name, else the id."""
        return self._names.get(channel_id_for(channel), channel)

    def conversation(self) -> str:
        """What each channel shows now: top-level messages in order, each with its edits and its
        thread replies indented below it; ephemeral replies at the end."""
        with self._lock:
            channels = {c: list(ms) for c, ms in self._messages.items()}
            ephemerals = list(self._ephemerals)
        lines: list[str] = []
        for channel, messages in channels.items():
            lines.append(f"== {self.channel_name(channel)} ({channel})")
            for top in (m for m in messages if not m.thread_ts):
                edited = f"  (edited {top.edits}x)" if top.edits else ""
                lines.append(f"[{top.ts}] {_one_line(top.text)}{edited}")
                lines.extend(f"      was: {_one_line(old)}" for old in top.history)
                for reply in (m for m in messages if m.thread_ts == top.ts):
                    edited = f"  (edited {reply.edits}x)" if reply.edits else ""
                    lines.append(f"    ↳ [{reply.ts}] {_one_line(reply.text)}{edited}")
        if ephemerals:
            lines.append("== ephemeral replies")
            lines.extend(f"to {e.user}: {_one_line(e.text)}" for e in ephemerals)
        return "\n".join(lines)

    def transcript(self) -> str:
        """One line per accepted call, in order: what a person would have seen arrive."""
        lines = []
        for call in self.calls:
            if call.method not in CHANNEL_METHODS and call.method != "response_url":
                continue
            outcome = "ok" if call.ok else f"HTTP {call.status} {_error_of(call)}"
            where = self.channel_name(call.channel) if call.channel else "?"
            if call.params.get("thread_ts"):
                where += f" (thread {call.params['thread_ts']})"
            text = str(call.params.get("text", "")).replace("\n", " ")[:110]
            lines.append(f"#{call.seq:<4} {call.method:<16} {where:<26} {outcome:<10} {text}")
        return "\n".join(lines)

    def _hook(self, hook: str, params: dict[str, Any]) -> _Answer:
        now = time.monotonic()
        with self._lock:
            seq = next(self._seq)
            target = self._response_urls.get(hook)
            if target is None:
                answer = _Answer(404, {"ok": False, "error": "no_such_response_url"}, {})
            else:
                self._ephemerals.append(
                    EphemeralMessage(
                        user=target[0],
                        channel=target[1],
                        text=str(params.get("text", "")),
                        via="response_url",
                        replace_original=bool(params.get("replace_original")),
                    )
                )
                answer = _Answer.ok()
            params = {**params, "channel": target[1] if target else None}
            self._calls.append(
                RecordedCall(seq, "response_url", params, None, answer.status, answer.body, now)
            )
        return answer

    def _handle(self, method: str, params: dict[str, Any], token: str | None) -> _Answer:
        now = time.monotonic()
        with self._lock:
            seq = next(self._seq)
            answer = self._answer(method, params, token, now)
            self._calls.append(
                RecordedCall(seq, method, params, token, answer.status, answer.body, now)
            )
            if answer.violation:
                self.retry_after_violations.append(self._calls[-1])
        return answer

    def _answer(
        self, method: str, params: dict[str, Any], token: str | None, now: float
    ) -> _Answer:
        channel = channel_id_for(str(params.get("channel", ""))) if params.get("channel") else None
        if channel is not None and str(params["channel"]).startswith("#"):
            self._names.setdefault(channel, str(params["channel"]))
        violation = (
            method in CHANNEL_METHODS
            and channel is not None
            and now < self._blocked_until.get(channel, 0.0)
        )
        if violation and self.enforce_retry_after:
            left = self._blocked_until[str(channel)] - now
            return _Answer.rate_limited(max(math.ceil(left), 1), violation=True)
        fault = self._due_fault(method)
        if fault is not None:
            if fault.status == 429:
                retry_after = fault.retry_after if fault.retry_after is not None else 1
                if channel is not None:
                    self._blocked_until[channel] = now + retry_after
                answer = _Answer.rate_limited(retry_after)
            else:
                answer = _Answer(fault.status, None, {})
        else:
            answer = self._api(method, params, token, channel)
        answer.violation = violation
        return answer

    def _due_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if method not in fault.methods:
                continue
            if fault.remaining is not None:
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
                continue
            fault.seen += 1
            # Exact rational arithmetic: 0.1 * 70 must be 7, not 6.999...
            share = Fraction(fault.fraction or 0).limit_denominator(10_000)
            if math.floor(fault.seen * share) > math.floor((fault.seen - 1) * share):
                return fault
        return None

    def _api(
        self, method: str, params: dict[str, Any], token: str | None, channel: str | None
    ) -> _Answer:
        if token not in self.tokens:
            return _Answer.error("invalid_auth" if token else "not_authed")
        if method == "auth.test":
            return _Answer.ok(user_id="UPATCHWAVE", team_id="TPATCHWAVE", bot_id="BPATCHWAVE")
        if method == "apps.connections.open":
            # Socket Mode: where the app's WebSocket should connect (a test sets the URL).
            if not str(token).startswith("xapp-"):
                return _Answer.error("not_allowed_token_type")
            if not self.socket_mode_url:
                return _Answer.error("socket_mode_not_enabled")
            return _Answer.ok(url=self.socket_mode_url)
        if method in CHANNEL_METHODS or method.startswith("conversations."):
            if channel is None:
                return _Answer.error("channel_not_found")
            if self.known_channels is not None and channel not in self.known_channels:
                return _Answer.error("channel_not_found")
        if method == "chat.update" and not str(params.get("channel", "")).isupper():
            return _Answer.error("channel_not_found")  # Slack wants the id, not a #name, here
        handler = _METHODS.get(method)
        if handler is None:
            return _Answer.error("unknown_method")
        assert channel is not None or method not in CHANNEL_METHODS
        return handler(self, params, channel or "")

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _post_message(self, params: dict[str, Any], channel: str) -> _Answer:
        thread_ts = params.get("thread_ts")
        if thread_ts and not any(m.ts == thread_ts for m in self._messages.get(channel, [])):
            return _Answer.error("thread_not_found")
        message = StoredMessage(
            channel=channel,
            ts=self._next_ts(),
            text=str(params.get("text", "")),
            blocks=list(params.get("blocks") or []),
            thread_ts=str(thread_ts) if thread_ts else None,
            reply_broadcast=bool(params.get("reply_broadcast")),
        )
        self._messages.setdefault(channel, []).append(message)
        body = {"text": message.text, "blocks": message.blocks, "ts": message.ts}
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        return _Answer.ok(channel=channel, ts=message.ts, message=body)

    def _update(self, params: dict[str, Any], channel: str) -> _Answer:
        ts = str(params.get("ts", ""))
        for message in self._messages.get(channel, []):
            if message.ts == ts:
                message.history.append(message.text)
                message.text = str(params.get("text", message.text))
                message.blocks = list(params.get("blocks") or message.blocks)
                message.edits += 1
                return _Answer.ok(channel=channel, ts=ts, text=message.text)
        return _Answer.error("message_not_found")

    def _ephemeral(self, params: dict[str, Any], channel: str) -> _Answer:
        if not params.get("user"):
            return _Answer.error("user_not_found")
        self._ephemerals.append(
            EphemeralMessage(
                user=str(params["user"]),
                channel=channel,
                text=str(params.get("text", "")),
                via="chat.postEphemeral",
            )
        )
        return _Answer.ok(message_ts=self._next_ts())

    def _conversation(self, params: dict[str, Any], channel: str) -> _Answer:
        return _Answer.ok(channel={"id": channel, "is_member": True, "is_channel": True})

    def _history(self, params: dict[str, Any], channel: str) -> _Answer:
        top = [m for m in self._messages.get(channel, []) if not m.thread_ts]
        return _Answer.ok(messages=[{"ts": m.ts, "text": m.text} for m in reversed(top)])

    def _replies(self, params: dict[str, Any], channel: str) -> _Answer:
        ts = str(params.get("ts", ""))
        items = [m for m in self._messages.get(channel, []) if ts in (m.ts, m.thread_ts)]
        return _Answer.ok(messages=[{"ts": m.ts, "text": m.text} for m in items])


@dataclass(slots=True)
class _Answer:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]
    violation: bool = False

    @classmethod
    def ok(cls, **fields: Any) -> _Answer:
        return cls(200, {"ok": True, **fields}, {})

    @classmethod
    def error(cls, code: str) -> _Answer:
        return cls(200, {"ok": False, "error": code}, {})

    @classmethod
    def rate_limited(cls, retry_after: float, *, violation: bool = False) -> _Answer:
        header = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        body = {"ok": False, "error": "ratelimited"}
        return cls(429, body, {"Retry-After": header}, violation)


_METHODS = {
    "chat.postMessage": SlackTestServer._post_message,
    "chat.update": SlackTestServer._update,
    "chat.postEphemeral": SlackTestServer._ephemeral,
    "conversations.info": SlackTestServer._conversation,
    "conversations.join": SlackTestServer._conversation,
    "conversations.history": SlackTestServer._history,
    "conversations.replies": SlackTestServer._replies,
}


def _one_line(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _error_of(call: RecordedCall) -> str:
    return str((call.response or {}).get("error", ""))


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        data = json.loads(raw or b"{}")
        return dict(data) if isinstance(data, Mapping) else {}
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
    # Form-encoded clients send blocks as a JSON string, as Slack accepts.
    if isinstance(params.get("blocks"), str):
        params["blocks"] = json.loads(params["blocks"])
    return params


def _make_handler(server: SlackTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            method = self.path.rsplit("/", 1)[-1]
            length = int(self.headers.get("Content-Length") or 0)
            params = _parse_body(self.headers.get("Content-Type", ""), self.rfile.read(length))
            if self.path.startswith("/actions/"):
                # A response_url: a capability URL, no token (its path is the secret).
                answer = server._hook(self.path.split("/")[3], params)
            else:
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ").strip() or params.pop("token", None)
                answer = server._handle(method, params, token)
            if answer.body is None:  # an injected 5xx: Slack's edge answers with text
                payload, content_type = b"upstream error", "text/plain"
            else:
                payload, content_type = json.dumps(answer.body).encode(), "application/json"
            self.send_response(answer.status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass  # calls are recorded, not printed

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Slack-API-shaped server for patchwave demos.")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--fail-fraction", type=float, default=0.0, help="429 this share")
    parser.add_argument("--retry-after", type=float, default=1.0)
    args = parser.parse_args(argv)
    server = SlackTestServer(port=args.port, tokens={args.token})
    if args.fail_fraction:
        server.fail_fraction(args.fail_fraction, retry_after=args.retry_after)
    server.start()
    print(f"Slack-shaped API on {server.url} (token {args.token}); Ctrl-C stops", flush=True)
    shown = 0
    try:
        while True:
            time.sleep(0.5)
            lines = server.transcript().splitlines()
            for line in lines[shown:]:
                print(line, flush=True)
            shown = len(lines)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
