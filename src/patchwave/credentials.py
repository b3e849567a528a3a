"""Resolve a host's credential *reference* into an SSH login, at the moment it is needed.

A reference is ``env:VAR`` (an environment variable) or ``secret:BLOCK`` (a Prefect Secret
block). Our tables and logs only ever hold the reference. The value is either a private key in
OpenSSH/PEM text, or a JSON object::

    {"username": "patch", "private_key": "-----BEGIN ...", "passphrase": "...",
     "private_key_path": "/etc/patchwave/id_ed25519", "agent": false}

Every field is optional; without a key the SSH agent is used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from patchwave.errors import UserError


class CredentialError(UserError):
    """A credential reference is malformed or points at nothing usable."""


@dataclass(frozen=True, slots=True)
class SshCredential:
    """An SSH login. ``repr`` never shows the key or the passphrase."""

    reference: str = ""
    username: str | None = None
    private_key: str | None = field(default=None, repr=False)
    private_key_path: str | None = None
    passphrase: str | None = field(default=None, repr=False)
    use_agent: bool = True


SecretLoader = Callable[[str], Awaitable[Any]]


def parse_reference(reference: str) -> tuple[str, str]:
    """Split ``env:VAR`` / ``secret:BLOCK`` into (kind, name)."""
    kind, sep, name = reference.partition(":")
    if not sep or kind not in ("env", "secret") or not name.strip():
        raise CredentialError(
            f"credential reference {reference!r} is not 'env:VARIABLE' or 'secret:BLOCK-NAME'"
        )
    return kind, name.strip()


async def _load_prefect_secret(name: str) -> Any:
    # Imported here: Prefect costs seconds to import and most commands never need a secret.
    from prefect.blocks.system import Secret

    try:
        block: Any = await Secret.aload(name)
    except ValueError as exc:
        raise CredentialError(f"Prefect Secret block {name!r} was not found") from exc
    value: Any = block.get()
    return value


async def resolve_credential(
    reference: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    secret_loader: SecretLoader | None = None,
) -> SshCredential:
    """The SSH login a reference points at; ``None`` means agent authentication only."""
    if reference is None:
        return SshCredential()
    kind, name = parse_reference(reference)
    if kind == "env":
        env = os.environ if environ is None else environ
        if name not in env:
            raise CredentialError(
                f"credential reference {reference!r}: environment variable {name} is not set"
            )
        value: Any = env[name]
    else:
        value = await (secret_loader or _load_prefect_secret)(name)
    return _credential_from_value(reference, value)


def _credential_from_value(reference: str, value: Any) -> SshCredential:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-----BEGIN") or text.startswith("ssh-"):
            return SshCredential(reference=reference, private_key=text + "\n", use_agent=False)
        try:
            value = json.loads(text)
        except ValueError:
            # Never echo the value: it may be a secret with a typo in it.
            raise CredentialError(
                f"credential {reference!r} is neither a private key nor a JSON object"
            ) from None
    if not isinstance(value, dict):
        raise CredentialError(f"credential {reference!r} must be a private key or a JSON object")
    known = {"username", "user", "private_key", "private_key_path", "passphrase", "agent"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise CredentialError(f"credential {reference!r} has unknown fields: {', '.join(unknown)}")
    strings = {k: v for k, v in value.items() if k != "agent"}
    if any(v is not None and not isinstance(v, str) for v in strings.values()):
        raise CredentialError(f"credential {reference!r}: every field but 'agent' is a string")
    key = value.get("private_key")
    path = value.get("private_key_path")
    return SshCredential(
        reference=reference,
        username=value.get("username") or value.get("user"),
        private_key=key,
        private_key_path=path,
        passphrase=value.get("passphrase"),
        use_agent=bool(value.get("agent", not (key or path))),
    )
