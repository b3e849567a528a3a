"""The typer application, console and the one place user errors become exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from patchwave.errors import PatchwaveError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="patchwave",
    help="Patch campaigns for MSPs: detect, prioritise, approve, deploy in windows, verify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn patchwave errors into one line and an exit code, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PatchwaveError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def prefect_environment() -> None:
    """Keep Prefect's ephemeral state beside ours unless the user points Prefect elsewhere.

    With no ``PREFECT_API_URL``, every flow-running command starts Prefect's ephemeral API on
    ``$PREFECT_HOME``; putting that under ``PATCHWAVE_HOME`` means a ``patchwave approve`` in
    another shell finds the paused run of the campaign started from the same folder.
    """
    import os

    if "PREFECT_API_URL" in os.environ or "PREFECT_HOME" in os.environ:
        return
    from patchwave.settings import get_settings

    home = (get_settings().home / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def main() -> None:
    """Console-script entry point."""
    prefect_environment()
    try:
        app()
    except BrokenPipeError:  # `patchwave findings | head`
        sys.stderr.close()
        sys.exit(0)
