"""The Slack bot token, given as a reference and read only when the first message goes out."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any, cast

from patchwave.credentials import CredentialError, parse_reference
from patchwave.errors import UserError


class SlackConfigError(UserError):
    """The Slack settings are wrong (token reference, channels, rate)."""


SecretLoader = Callable[[str], Awaitable[str]]


async def load_prefect_secret(name: str) -> str:
    """The value of a Prefect Secret block (imported lazily: Prefect is heavy to import)."""
    from prefect.blocks.system import Secret

    block = cast(Secret[Any], await Secret.aload(name))
    return str(block.get())


def check_token_ref(ref: str) -> tuple[str, str]:
    """``("env", VAR)`` or ``("secret", BLOCK)`` from ``env:VAR`` / ``secret:BLOCK``."""
    try:
        return parse_reference(ref)
    except CredentialError as exc:
        raise SlackConfigError(
            f"Slack token reference {ref!r} is not valid: write 'env:VARIABLE' or "
            "'secret:PREFECT_SECRET_BLOCK' (the token itself never goes in settings)"
        ) from exc


async def resolve_token(ref: str, *, secret_loader: SecretLoader = load_prefect_secret) -> str:
    """The token behind ``ref``; LookupError names the reference, never a value."""
    scheme, name = check_token_ref(ref)
    if scheme == "env":
        value = os.environ.get(name, "")
        if not value:
            raise LookupError(f"environment variable {name} is not set")
        return value
    try:
        value = await secret_loader(name)
    except Exception as exc:
        # Only the type: an exception's text may quote what it failed to parse.
        raise LookupError(
            f"Prefect Secret block {name!r} could not be read: {type(exc).__name__}"
        ) from exc
    if not value:
        raise LookupError(f"Prefect Secret block {name!r} is empty")
    return value
