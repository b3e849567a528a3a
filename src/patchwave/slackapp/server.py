"""Serving the Slack app: HTTP (uvicorn + a small Starlette app) or Socket Mode.

HTTP mode needs a public HTTPS endpoint whose ``/slack/events`` path Slack calls (the Request URL
of the app's Interactivity settings); a reverse proxy terminates TLS. Socket Mode needs none: the
app opens a WebSocket to Slack with an app-level token, for MSPs with no inbound access.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from slack_bolt import BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from patchwave.notify.token import SlackConfigError, resolve_token
from patchwave.settings import Settings, get_settings
from patchwave.slackapp.app import ApprovalApp
from patchwave.store import Store, open_store

EVENTS_PATH = "/slack/events"
# Interaction payloads are a few KB; refuse anything absurd before reading it into memory.
MAX_BODY = 1 << 20


def asgi_app(app: ApprovalApp, *, path: str = EVENTS_PATH) -> Starlette:
    """``POST {path}`` goes to bolt (on a worker thread: bolt is synchronous); ``GET /healthz``
    answers ok for load balancers."""

    async def events(request: Request) -> Response:
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_BODY:
            return PlainTextResponse("payload too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("payload too large", status_code=413)
        headers: dict[str, str | Sequence[str]] = {
            k: request.headers.getlist(k) for k in request.headers
        }
        bolt_request = BoltRequest(
            body=body.decode("utf-8", errors="replace"), query=request.url.query, headers=headers
        )
        answer = await run_in_threadpool(app.dispatch, bolt_request)
        return Response(
            content=answer.body,
            status_code=answer.status,
            headers=answer.first_headers_without_set_cookie(),
        )

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route(path, events, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


class HttpServer:
    """uvicorn serving :func:`asgi_app`; in the foreground (:meth:`serve_forever`, Ctrl-C stops)
    or on a background thread (:meth:`start` / :meth:`stop`, tests and the demo)."""

    def __init__(
        self, app: ApprovalApp, *, host: str = "127.0.0.1", port: int = 0, path: str = EVENTS_PATH
    ) -> None:
        self.app, self.host, self.path = app, host, path
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            asgi_app(app, path=path),
            log_config=None,  # keep the process's logging as it is
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The Request URL to give Slack (behind a proxy: its public https URL instead)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    def serve_forever(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self, timeout: float = 10.0) -> HttpServer:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="slack-app-http",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the Slack app server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def socket_mode_handler(app: ApprovalApp, app_token: str) -> Any:
    """A Socket Mode connection for ``app`` (``.connect()`` returns, ``.start()`` blocks)."""
    return SocketModeHandler(app.bolt, app_token=app_token, web_client=app.client)


@dataclass(frozen=True, slots=True)
class SlackSecrets:
    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None


def _resolve(ref: str | None, setting: str, example: str) -> str:
    if not ref:
        raise SlackConfigError(
            f"set PATCHWAVE_{setting.upper()} to a reference such as {example} (see docs/slack.md)"
        )
    try:
        return asyncio.run(resolve_token(ref))
    except LookupError as exc:
        raise SlackConfigError(f"{setting} {ref!r}: {exc}") from exc


def load_secrets(settings: Settings, *, socket_mode: bool) -> SlackSecrets:
    """The bot token and, per mode, the signing secret or the app-level token."""
    bot = _resolve(settings.slack_token_ref, "slack_token_ref", "env:SLACK_BOT_TOKEN")
    if socket_mode:
        app_token = _resolve(
            settings.slack_app_token_ref, "slack_app_token_ref", "env:SLACK_APP_TOKEN"
        )
        if not app_token.startswith("xapp-"):
            raise SlackConfigError(
                "slack_app_token_ref must point to an app-level token (xapp-...) with the "
                "connections:write scope, not a bot token"
            )
        return SlackSecrets(bot, app_token=app_token)
    secret = _resolve(
        settings.slack_signing_secret_ref, "slack_signing_secret_ref", "env:SLACK_SIGNING_SECRET"
    )
    return SlackSecrets(bot, signing_secret=secret)


def build_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    socket_mode: bool = False,
    secrets: SlackSecrets | None = None,
    **options: Any,
) -> tuple[ApprovalApp, SlackSecrets]:
    """The approval app from the settings (secrets resolved from their references)."""
    settings = settings or get_settings()
    secrets = secrets or load_secrets(settings, socket_mode=socket_mode)
    app = ApprovalApp(
        store=store or open_store(),
        bot_token=secrets.bot_token,
        signing_secret=secrets.signing_secret,
        settings=settings,
        base_url=settings.slack_base_url,
        socket_mode=socket_mode,
        **options,
    )
    return app, secrets
