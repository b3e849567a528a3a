"""``patchwave hosts trust`` against the loopback sshd, then the SSH endpoint uses the pin."""

from __future__ import annotations

import asyncio

import pytest
from pw_sshd import Sshd, make_ssh_host
from typer.testing import CliRunner

import patchwave.cli.hosts  # noqa: F401  (registers the `hosts` commands)
from patchwave.cli.common import app
from patchwave.credentials import SshCredential
from patchwave.endpoints.known_hosts import fingerprint
from patchwave.endpoints.ssh import SshEndpoint
from patchwave.settings import get_settings

pytestmark = [pytest.mark.ssh]


def trust(sshd: Sshd, *extra: str, stdin: str | None = None) -> tuple[int, str]:
    args = ["hosts", "trust", "--address", "127.0.0.1", "--port", str(sshd.port),
            "--tenant", "acme", *extra]  # fmt: skip
    result = CliRunner().invoke(app, args, input=stdin)
    return result.exit_code, result.output


def test_trust_pins_after_confirmation_and_the_endpoint_connects(sshd: Sshd) -> None:
    path = get_settings().effective_known_hosts_dir / "acme"
    code, out = trust(sshd, stdin="n\n")
    assert code == 2 and "nothing was pinned" in out and not path.exists()
    code, out = trust(sshd, stdin="y\n")
    assert code == 0, out
    assert fingerprint(sshd.host_key) in out and "ssh-ed25519" in out
    assert path.read_text() == sshd.known_hosts_line()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    code, out = trust(sshd, "--yes")
    assert code == 0 and "Already trusted" in out

    async def connect() -> str:
        cred = SshCredential(username=sshd.user, private_key=sshd.client_key_pem)
        async with SshEndpoint(make_ssh_host(sshd), credential=cred) as ep:
            res = await (await ep.transport()).run(["echo", "hello"], timeout=10)
            return res.stdout

    assert asyncio.run(connect()) == "hello\n"


def test_fingerprint_must_match(sshd: Sshd) -> None:
    path = get_settings().effective_known_hosts_dir / "acme"
    code, out = trust(sshd, "--fingerprint", "SHA256:notthekey")
    assert code == 2 and "does not match" in out and not path.exists()
    code, out = trust(sshd, "--fingerprint", fingerprint(sshd.host_key))
    assert code == 0 and path.exists()


def test_a_different_pinned_key_is_not_replaced(sshd: Sshd) -> None:
    path = get_settings().effective_known_hosts_dir / "acme"
    path.parent.mkdir(parents=True)
    other = (
        sshd.known_hosts_line().rsplit(" ", 1)[0]
        + " AAAAC3NzaC1lZDI1NTE5AAAAIE0OM6hMsEbSxVoTNaS+Ia3pQ4fCRRLXNw1XgUyDrxCE\n"
    )
    path.write_text(other)
    code, out = trust(sshd, "--yes")
    assert code == 2 and "pins a different key" in out
    assert path.read_text() == other


def test_unknown_host_without_address_is_a_user_error() -> None:
    result = CliRunner().invoke(app, ["hosts", "trust", "web1"])
    assert result.exit_code == 2
    assert "not in the inventory" in result.output
