"""The SSH transport against a real sshd: host keys, auth, decoding, caps, timeouts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pytest
from pw_sshd import Sshd, free_port, make_ssh_host

from patchwave.credentials import SshCredential
from patchwave.domain.models import OsFamily
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.known_hosts import fingerprint
from patchwave.endpoints.ssh import SshAuthError, SshEndpoint, SshTransport
from patchwave.endpoints.transport import SiteLimits
from patchwave.errors import HostKeyError, HostUnreachable, TransientEndpointError
from patchwave.settings import get_settings

pytestmark = [pytest.mark.ssh, pytest.mark.anyio]


def credential(sshd: Sshd) -> SshCredential:
    return SshCredential(reference="test", username=sshd.user, private_key=sshd.client_key_pem)


async def test_unknown_host_key_is_refused_with_fingerprint(sshd: Sshd) -> None:
    host = make_ssh_host(sshd)
    with pytest.raises(HostKeyError) as info:
        async with SshEndpoint(host, credential=credential(sshd)):
            pass
    message = str(info.value)
    assert fingerprint(sshd.host_key) in message
    assert "is unknown" in message
    assert f"patchwave hosts trust deb1 --tenant acme --address 127.0.0.1 --port {sshd.port}" in (
        message
    )


async def test_changed_host_key_is_refused(sshd: Sshd) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    path = get_settings().effective_known_hosts_dir / "acme"
    path.parent.mkdir(parents=True)
    public = other.export_public_key("openssh").decode().strip()
    path.write_text(f"[127.0.0.1]:{sshd.port} {public}\n")
    with pytest.raises(HostKeyError) as info:
        async with SshEndpoint(make_ssh_host(sshd), credential=credential(sshd)):
            pass
    assert "CHANGED" in str(info.value)
    assert fingerprint(sshd.host_key) in str(info.value)
    assert fingerprint(other) in str(info.value)


@pytest.mark.usefixtures("trusted")
async def test_wrong_client_key_is_an_auth_error(sshd: Sshd) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    cred = SshCredential(reference="env:WRONG", username=sshd.user, private_key=stranger)
    with pytest.raises(SshAuthError, match=r"refused the credential env:WRONG"):
        async with SshEndpoint(make_ssh_host(sshd), credential=cred):
            pass


async def test_connection_refused_is_transient_unreachable(sshd: Sshd) -> None:
    from dataclasses import replace

    host = replace(make_ssh_host(sshd), address=f"127.0.0.1:{free_port()}")
    with pytest.raises(HostUnreachable):
        async with SshEndpoint(host, credential=credential(sshd)):
            pass


@pytest.mark.usefixtures("trusted")
async def test_output_is_decoded_capped_and_time_limited(sshd: Sshd) -> None:
    async with SshEndpoint(make_ssh_host(sshd), credential=credential(sshd)) as ep:
        transport = await ep.transport()
        assert isinstance(transport, SshTransport)
        conn = transport.conn
        res = await transport.run(["printf", r"caf\351 \377\376 ok"], timeout=10)
        assert res.ok and res.stdout == "caf\ufffd \ufffd\ufffd ok"
        big = await transport.run(
            ["head", "-c", "300000", "/dev/zero"], timeout=10, max_output=1000
        )
        assert big.ok and big.stdout_truncated and len(big.stdout) == 1000
        quoted = await transport.run(["echo", "a b; echo injected"], timeout=10)
        assert quoted.stdout == "a b; echo injected\n"
        fed = await transport.run(["cat"], timeout=10, input=b"from stdin")
        assert fed.stdout == "from stdin"
        with pytest.raises(TransientEndpointError, match="timed out"):
            await transport.run(["sleep", "30"], timeout=0.5)
        after = await transport.run(["true"], timeout=10)
        assert after.ok and transport.conn is conn  # one connection for every step


@pytest.mark.usefixtures("trusted")
async def test_site_limit_bounds_concurrent_hosts(sshd: Sshd) -> None:
    limits = SiteLimits(default=2)
    active = peak = 0

    async def one(i: int) -> None:
        nonlocal active, peak
        host = make_ssh_host(sshd, name=f"h{i}")
        async with SshEndpoint(host, credential=credential(sshd), limits=limits) as ep:
            active += 1
            peak = max(peak, active)
            await (await ep.transport()).run(["sleep", "0.2"], timeout=10)
            active -= 1

    await asyncio.gather(*(one(i) for i in range(6)))
    assert peak == 2


@pytest.mark.usefixtures("trusted")
async def test_facts_over_ssh(sshd: Sshd, tmp_path: Path) -> None:
    options = DriverOptions(manager="apt", refresh=False)
    async with SshEndpoint(make_ssh_host(sshd), credential=credential(sshd), options=options) as ep:
        facts = await ep.facts()
    assert facts.os_family in (OsFamily.DEBIAN, OsFamily.UBUNTU)
    assert facts.kernel and len(facts.boot_id) == 36
    assert facts.free_disk_mb is not None and facts.free_disk_mb > 0


async def test_silent_server_times_out_as_unreachable(sshd: Sshd) -> None:
    """A port that accepts but never speaks SSH: the connect timeout turns it into a retryable
    HostUnreachable instead of a hang."""
    from dataclasses import replace

    from patchwave.endpoints.ssh import SshOptions

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    host = replace(make_ssh_host(sshd), address=f"127.0.0.1:{port}")
    async with server:
        with pytest.raises(HostUnreachable):
            async with SshEndpoint(
                host, credential=credential(sshd), ssh=SshOptions(connect_timeout=0.5)
            ):
                pass


@pytest.mark.usefixtures("trusted")
async def test_agent_authentication(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key in the credential: the ssh-agent named by SSH_AUTH_SOCK signs the login."""
    import os
    import shutil
    import subprocess

    if shutil.which("ssh-agent") is None:
        pytest.skip("ssh-agent is not installed (openssh-client)")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", str(sshd.workdir / "client_key")], env=env, check=True,
                       capture_output=True)  # fmt: skip
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        cred = SshCredential(username=sshd.user)
        async with SshEndpoint(make_ssh_host(sshd), credential=cred) as ep:
            res = await (await ep.transport()).run(["echo", "via agent"], timeout=10)
        assert res.stdout == "via agent\n"
    finally:
        agent.kill()
        agent.wait()
