"""Fixtures for the real-Linux driver tests: a loopback sshd, local apt and rpm repositories.

Nothing here upgrades the machine's own packages: apt reads only the test repository (private
sources list and lists folder), dnf and zypper work inside install roots, and every
``patchwave-demo-*`` package installed on the machine is purged at teardown.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helpers beside this file are shared with bench/; make them importable by plain name.
sys.path.insert(0, str(Path(__file__).parent))

from pw_repos import REBOOT_FILE, AptRepo, build_apt_repo, build_deb
from pw_skip import need_root, need_tools
from pw_sshd import Sshd, sshd_available, start_sshd

from patchwave.settings import get_settings

DEMO_DEBS = ("patchwave-demo-web", "patchwave-demo-core")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not sshd_available():
        pytest.skip("openssh-server is not installed (scripts/install-system-deps.sh)")
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def trusted(sshd: Sshd) -> Path:
    """The test tenant's known_hosts file with the sshd's key pinned (PATCHWAVE_HOME: per test)."""
    path = get_settings().effective_known_hosts_dir / "acme"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sshd.known_hosts_line())
    return path


@pytest.fixture
def ssh_key_env(sshd: Sshd, monkeypatch: pytest.MonkeyPatch) -> str:
    """A credential reference to the client key, the way an operator would give it."""
    monkeypatch.setenv("PW_TEST_SSH_KEY", sshd.client_key_pem)
    return "env:PW_TEST_SSH_KEY"


@pytest.fixture(scope="session")
def apt_repo(tmp_path_factory: pytest.TempPathFactory) -> AptRepo:
    need_tools("dpkg-deb", "dpkg-scanpackages", "apt-get")
    work = tmp_path_factory.mktemp("apt")
    marker = f"touch {REBOOT_FILE}; echo patchwave-demo-core >> {REBOOT_FILE}.pkgs"
    debs = [
        build_deb(work, "patchwave-demo-web", "1.0"),
        build_deb(work, "patchwave-demo-web", "1.1"),
        build_deb(work, "patchwave-demo-core", "1.0"),
        build_deb(work, "patchwave-demo-core", "1.1", postinst=marker),
    ]
    return build_apt_repo(work, debs)


@pytest.fixture
def reboot_marker_saved() -> Iterator[None]:
    """Keep the machine's own reboot-required state: set it aside, restore it afterwards."""
    saved = {}
    for path in (REBOOT_FILE, Path(f"{REBOOT_FILE}.pkgs")):
        if path.exists():
            saved[path] = path.read_bytes()
            path.unlink()
    yield
    for path in (REBOOT_FILE, Path(f"{REBOOT_FILE}.pkgs")):
        path.unlink(missing_ok=True)
        if path in saved:
            path.write_bytes(saved[path])


@pytest.fixture
def demo_debs_at_1_0(apt_repo: AptRepo, reboot_marker_saved: None) -> Iterator[None]:
    """patchwave-demo-* 1.0 installed with dpkg -i, purged afterwards whatever happens."""
    need_root("installs the patchwave-demo-* test packages with dpkg")
    debs = [apt_repo.path / f"{name}_1.0_all.deb" for name in DEMO_DEBS]
    subprocess.run(["dpkg", "-i", *map(str, debs)], check=True, capture_output=True)
    yield
    subprocess.run(["dpkg", "--purge", *DEMO_DEBS], check=False, capture_output=True)


@pytest.fixture
def apt_options_file(
    apt_repo: AptRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A driver options file (PATCHWAVE_DRIVER_OPTIONS_FILE) pointing every host of tenant acme
    at the test apt repository, a fake boot id and a harmless "reboot" that changes it, so a
    campaign can reboot a host without rebooting the machine the suite runs on."""
    boot_id = tmp_path / "boot_id"
    boot_id.write_text("first-boot\n")
    fake_reboot = f"echo booted-again > {boot_id}; rm -f {REBOOT_FILE} {REBOOT_FILE}.pkgs"
    path = tmp_path / "driver-options.yaml"
    path.write_text(
        "tenants:\n"
        "  acme:\n"
        f"    apt_sources_list: {apt_repo.sources_list}\n"
        f"    apt_lists_dir: {apt_repo.lists_dir}\n"
        f"    state_dir: {tmp_path / 'host-state'}\n"
        f"    boot_id_path: {boot_id}\n"
        f"    reboot_command: [sh, -c, {fake_reboot!r}]\n"
    )
    monkeypatch.setenv("PATCHWAVE_DRIVER_OPTIONS_FILE", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()
