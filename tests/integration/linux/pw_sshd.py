"""A throw-away OpenSSH server on 127.0.0.1 for tests and the SSH benchmark.

Generated host and client keys, key-only login for the current user, a private sshd_config,
``sshd -D -e`` in the background; ``stop()`` kills it. Importable from ``bench/`` too.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from patchwave.domain.models import Connector, Host, OsFamily

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def sshd_available() -> bool:
    return Path(SSHD).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_key(key: asyncssh.SSHKey, path: Path) -> None:
    path.write_bytes(key.export_private_key("openssh"))
    path.chmod(0o600)
    path.with_suffix(".pub").write_bytes(key.export_public_key("openssh"))


@dataclass
class Sshd:
    workdir: Path
    port: int
    user: str
    host_key: asyncssh.SSHKey
    client_key: asyncssh.SSHKey
    proc: subprocess.Popen[bytes]

    @property
    def client_key_pem(self) -> str:
        return bytes(self.client_key.export_private_key("openssh")).decode()

    def known_hosts_line(self, pattern: str | None = None) -> str:
        name = pattern or f"[127.0.0.1]:{self.port}"
        return f"{name} {self.host_key.export_public_key('openssh').decode().strip()}\n"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log(self) -> str:
        path = self.workdir / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_sshd(workdir: Path, *, max_startups: int = 400) -> Sshd:
    """Start sshd on a free port; raise RuntimeError with its log when it does not come up."""
    workdir.mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    _write_key(host_key, workdir / "ssh_host_ed25519_key")
    _write_key(client_key, workdir / "client_key")
    auth = workdir / "authorized_keys"
    auth.write_bytes(client_key.export_public_key("openssh"))
    auth.chmod(0o600)
    user = getpass.getuser()
    port = free_port()
    home = workdir / "session-home"
    home.mkdir(exist_ok=True)
    config = workdir / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {workdir / 'ssh_host_ed25519_key'}\n"
        f"PidFile {workdir / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {auth}\n"
        f"AllowUsers {user}\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "UseDNS no\n"
        f"MaxStartups {max_startups}:100:{max_startups * 2}\n"
        "MaxSessions 100\n"
        "LogLevel ERROR\n"
        # Sessions get an empty HOME: bash sources ~/.bashrc for commands run by sshd, and this
        # machine's root .bashrc runs `pyenv init` (about 125 ms per command). Real hosts have
        # their own shell start-up; the tests and the benchmark measure patchwave and sshd.
        f"SetEnv HOME={home}\n"
    )
    if os.geteuid() == 0:
        # The privilege-separation folder; missing on machines where sshd never ran.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = (workdir / "sshd.log").open("wb")
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    server = Sshd(workdir, port, user, host_key, client_key, proc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"sshd did not listen on {port}: {server.log()}")


def make_ssh_host(sshd: Sshd, *, name: str = "deb1", credential_ref: str | None = None) -> Host:
    return Host(
        tenant="acme",
        site="hq",
        name=name,
        os_family=OsFamily.DEBIAN,
        connector=Connector.SSH,
        address=f"127.0.0.1:{sshd.port}",
        credential_ref=credential_ref,
    )
