"""Real dnf and zypper against install roots fed by a local repository with an updateinfo
security advisory (see ../shared/RPM-ON-DEBIAN.md). The machine's own packages are never touched:
every command carries --installroot/--root and the rpm database lives under a private HOME."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pw_repos import build_rpm_repo
from pw_skip import need_tools
from pw_sshd import Sshd, make_ssh_host

from patchwave.domain.models import Classification, Connector, Host, OsFamily, Severity
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.local import LocalEndpoint
from patchwave.endpoints.ssh import SshEndpoint

pytestmark = [pytest.mark.rpm, pytest.mark.anyio]

PKG = "patchwave-demo-tool"
ADVISORY = "PWSA-2026:0001"


@dataclass(frozen=True)
class RpmWorld:
    repo: Path
    root: Path
    home: Path
    state: Path
    reposdir: Path


@pytest.fixture(scope="module")
def rpm_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tools("rpmbuild", "createrepo_c", "modifyrepo_c")
    return build_rpm_repo(tmp_path_factory.mktemp("rpm"), PKG, ADVISORY)


def _world(tmp_path: Path, repo: Path) -> RpmWorld:
    world = RpmWorld(repo, tmp_path / "root", tmp_path / "home", tmp_path / "state",
                     tmp_path / "repos.d")  # fmt: skip
    for path in (world.root, world.home, world.reposdir):
        path.mkdir(parents=True)
    (world.reposdir / "pw.repo").write_text(
        f"[pw]\nname=pw\nbaseurl=file://{repo}\ngpgcheck=0\nmetadata_expire=0\n"
    )
    return world


def _env(world: RpmWorld) -> dict[str, str]:
    return {**os.environ, "HOME": str(world.home), "LC_ALL": "C"}


def rpm_version(world: RpmWorld) -> str:
    out = subprocess.run(
        ["rpm", "--root", str(world.root), "-q", "--qf", "%{VERSION}-%{RELEASE}", PKG],
        env=_env(world), capture_output=True, text=True, check=False,
    )  # fmt: skip
    return out.stdout


def dnf_options(world: RpmWorld) -> DriverOptions:
    return DriverOptions(
        manager="dnf", root=str(world.root), reposdir=str(world.reposdir), releasever="9",
        dnf_plugins=False, no_gpg_checks=True, env={"HOME": str(world.home)},
        state_dir=str(world.state),
    )  # fmt: skip


@pytest.fixture
def dnf_world(tmp_path: Path, rpm_repo: Path) -> RpmWorld:
    need_tools("dnf", "rpm")
    world = _world(tmp_path, rpm_repo)
    subprocess.run(
        ["dnf", "-y", f"--installroot={world.root}", "--releasever=9", "--noplugins",
         f"--setopt=reposdir={world.reposdir}", "--nogpgcheck", "install", f"{PKG}-1.0-1"],
        env=_env(world), check=True, capture_output=True,
    )  # fmt: skip
    assert rpm_version(world) == "1.0-1"
    return world


def local_host(family: OsFamily) -> Host:
    return Host(tenant="acme", site="lab", name="rpm1", os_family=family, connector=Connector.LOCAL)


async def _cycle(endpoint: LocalEndpoint | SshEndpoint, world: RpmWorld) -> None:
    async with endpoint as ep:
        scan = await ep.scan()
        assert [a.id for a in scan.missing] == [ADVISORY]
        adv = scan.missing[0]
        assert adv.classification is Classification.SECURITY
        assert adv.severity is Severity.IMPORTANT
        assert adv.cves == ("CVE-2026-1111", "CVE-2026-2222")
        assert adv.packages[0].name == PKG
        assert adv.packages[0].fixed_version == "1.1-1"
        assert adv.packages[0].installed_version == "1.0-1"

        result = await ep.install(scan.missing)
        assert result.installed == (ADVISORY,)
        assert rpm_version(world) == "1.1-1"
        assert (await ep.verify(scan.missing)).ok
        assert (await ep.scan()).missing == ()

        rolled = await ep.rollback(scan.missing, None)
        assert rolled.ok, rolled.details
        assert rolled.reverted == (ADVISORY,)
        assert rpm_version(world) == "1.0-1"
        assert (await ep.verify(scan.missing)).still_missing == (ADVISORY,)


async def test_dnf_cycle_local(dnf_world: RpmWorld) -> None:
    await _cycle(
        LocalEndpoint(local_host(OsFamily.RHEL), options=dnf_options(dnf_world)), dnf_world
    )


@pytest.mark.ssh
@pytest.mark.usefixtures("trusted")
async def test_dnf_cycle_over_ssh(dnf_world: RpmWorld, sshd: Sshd, ssh_key_env: str) -> None:
    from dataclasses import replace

    host = replace(make_ssh_host(sshd, credential_ref=ssh_key_env), os_family=OsFamily.RHEL)
    await _cycle(SshEndpoint(host, options=dnf_options(dnf_world)), dnf_world)


@pytest.fixture
def zypper_world(tmp_path: Path, rpm_repo: Path) -> RpmWorld:
    need_tools("zypper", "rpm")
    world = _world(tmp_path, rpm_repo)
    base = ["zypper", "--root", str(world.root), "--non-interactive", "--no-gpg-checks"]
    env = _env(world)
    subprocess.run([*base, "addrepo", "--no-gpgcheck", f"file://{rpm_repo}", "pw"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    subprocess.run([*base, "install", f"{PKG}=1.0-1"], env=env, check=True, capture_output=True)
    # zypper needs-rebooting reports 102 once a package named here was updated since boot.
    (world.root / "etc/zypp/needreboot").write_text(PKG + "\n")
    assert rpm_version(world) == "1.0-1"
    return world


async def test_zypper_cycle_local(zypper_world: RpmWorld) -> None:
    options = DriverOptions(
        manager="zypper", root=str(zypper_world.root), no_gpg_checks=True,
        env={"HOME": str(zypper_world.home)}, state_dir=str(zypper_world.state),
    )  # fmt: skip
    endpoint = LocalEndpoint(local_host(OsFamily.SUSE), options=options)
    async with endpoint as ep:
        assert not (await ep.facts()).reboot_pending
    await _cycle(endpoint, zypper_world)


async def test_zypper_reports_reboot_needed(zypper_world: RpmWorld) -> None:
    options = DriverOptions(
        manager="zypper", root=str(zypper_world.root), no_gpg_checks=True,
        env={"HOME": str(zypper_world.home)}, state_dir=str(zypper_world.state),
    )  # fmt: skip
    async with LocalEndpoint(local_host(OsFamily.SUSE), options=options) as ep:
        scan = await ep.scan()
        assert scan.missing[0].reboot_required  # the patch's restart flag
        result = await ep.install(scan.missing)
        assert result.reboot_required
        assert (await ep.facts()).reboot_pending


@pytest.fixture(scope="module")
def needs_restarting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """dnf's needs-restarting plugin, extracted from Debian's dnf-plugins-core (installing that
    package would remove zypper: both ship a needs-restarting). Returns (pluginpath, pythonpath)."""
    need_tools("apt-get", "dpkg-deb")
    work = tmp_path_factory.mktemp("dnf-plugins")
    got = subprocess.run(["apt-get", "download", "dnf-plugins-core"], cwd=work,
                         capture_output=True, text=True, check=False)  # fmt: skip
    debs = list(work.glob("dnf-plugins-core_*.deb"))
    if got.returncode != 0 or not debs:
        pytest.skip(f"cannot download dnf-plugins-core: {got.stderr.strip()[-200:]}")
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(work / "x")], check=True)
    site = work / "x/usr/lib/python3/dist-packages"
    plugins = work / "plugins"
    plugins.mkdir()
    (plugins / "needs_restarting.py").write_bytes(
        (site / "dnf-plugins/needs_restarting.py").read_bytes()
    )
    return plugins, site


async def test_dnf_needs_restarting_detects_reboot(
    dnf_world: RpmWorld, needs_restarting: tuple[Path, Path]
) -> None:
    from dataclasses import replace

    plugins, pythonpath = needs_restarting
    options = replace(
        dnf_options(dnf_world), dnf_plugins=True, dnf_pluginpath=str(plugins),
        env={"HOME": str(dnf_world.home), "PYTHONPATH": str(pythonpath)},
    )  # fmt: skip
    async with LocalEndpoint(local_host(OsFamily.RHEL), options=options) as ep:
        assert not (await ep.facts()).reboot_pending
        conf = dnf_world.root / "etc/dnf/plugins/needs-restarting.d"
        conf.mkdir(parents=True)
        (conf / "patchwave.conf").write_text(PKG + "\n")
        scan = await ep.scan()
        result = await ep.install(scan.missing)
        assert result.reboot_required  # PKG was updated after boot and is listed as core
