"""``patchwave slack serve``: the Slack app behind the Approve / Reject buttons.

HTTP mode listens for Slack's interaction requests at ``/slack/events`` (put it behind your TLS
reverse proxy and give Slack ``https://<host>/slack/events`` as the Request URL). Socket Mode
(``--socket-mode``) connects out to Slack instead, for networks with no inbound access. See
docs/slack.md.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from patchwave.cli.common import app, console, handle_errors

slack_app = typer.Typer(help="The Slack app: approvals from Slack buttons.", no_args_is_help=True)
app.add_typer(slack_app, name="slack")


@slack_app.command("serve")
@handle_errors
def serve(
    port: Annotated[int, typer.Option(help="HTTP port (HTTP mode).", min=1, max=65535)] = 3000,
    host: Annotated[str, typer.Option(help="Address to listen on (HTTP mode).")] = "127.0.0.1",
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode", help="Connect to Slack over Socket Mode (app-level token) instead."
        ),
    ] = False,
) -> None:
    """Serve the Approve / Reject buttons of approval requests until Ctrl-C."""
    from patchwave.settings import get_settings
    from patchwave.slackapp.server import HttpServer, build_app, socket_mode_handler

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    slack, secrets = build_app(settings, socket_mode=socket_mode)
    if socket_mode:
        assert secrets.app_token is not None
        handler = socket_mode_handler(slack, secrets.app_token)
        console.print("Slack app connected over Socket Mode; Ctrl-C stops.")
        try:
            handler.start()
        finally:
            handler.close()
        return
    server = HttpServer(slack, host=host, port=port)
    console.print(
        f"Slack app listening on {server.url} — give Slack https://<public host>/slack/events "
        "as the Interactivity Request URL; Ctrl-C stops.",
        highlight=False,
    )
    server.serve_forever()
