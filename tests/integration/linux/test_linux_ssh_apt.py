"""Real apt over real SSH: detect, install, verify, reboot detection, reboot, roll back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pw_repos import REBOOT_FILE, AptRepo
from pw_sshd import Sshd, make_ssh_host

from patchwave.domain.models import Classification
from patchwave.endpoints.base import Endpoint
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.ssh import SshEndpoint

pytestmark = [pytest.mark.ssh, pytest.mark.anyio]


def dpkg_version(name: str) -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=False
    )
    return out.stdout


def apt_options(repo: AptRepo, tmp_path: Path, boot_id: Path) -> DriverOptions:
    # The "reboot" rewrites a fake boot id and clears the marker, as a real boot would; the
    # machine running the suite is never rebooted.
    fake_reboot = f"echo booted-again > {boot_id}; rm -f {REBOOT_FILE} {REBOOT_FILE}.pkgs"
    return DriverOptions(
        apt_sources_list=str(repo.sources_list),
        apt_lists_dir=str(repo.lists_dir),
        state_dir=str(tmp_path / "state"),
        boot_id_path=str(boot_id),
        reboot_command=("sh", "-c", fake_reboot),
    )


@pytest.mark.usefixtures("demo_debs_at_1_0", "trusted")
async def test_apt_cycle_over_ssh(
    sshd: Sshd, apt_repo: AptRepo, ssh_key_env: str, tmp_path: Path
) -> None:
    boot_id = tmp_path / "boot_id"
    boot_id.write_text("first-boot\n")
    host = make_ssh_host(sshd, credential_ref=ssh_key_env)
    endpoint = SshEndpoint(
        host, options=apt_options(apt_repo, tmp_path, boot_id), run_tag="run-1", poll_interval=0.1
    )
    assert isinstance(endpoint, Endpoint)
    async with endpoint as ep:
        scan = await ep.scan()
        assert scan.facts.os_family.value == "debian"
        assert scan.facts.boot_id == "first-boot"
        assert not scan.reboot_pending
        by_name = {a.packages[0].name: a for a in scan.missing}
        assert set(by_name) == {"patchwave-demo-web", "patchwave-demo-core"}
        web = by_name["patchwave-demo-web"]
        assert web.id == "deb:patchwave-demo-web=1.1"
        assert web.classification is Classification.SECURITY  # from the repo's security suite
        assert web.packages[0].installed_version == "1.0"

        assert (await ep.precheck(["no-pending-reboot", "free-disk-1g", "ping"])).ok
        before = await ep.verify(scan.missing)
        assert not before.ok and set(before.still_missing) == {a.id for a in scan.missing}

        result = await ep.install(scan.missing)
        assert set(result.installed) == {a.id for a in scan.missing}
        assert result.reboot_required  # patchwave-demo-core 1.1 marks it
        assert "reboot required by: patchwave-demo-core" in result.log
        assert dpkg_version("patchwave-demo-web") == "1.1"
        assert (await ep.verify(scan.missing)).ok
        assert not (await ep.precheck(["no-pending-reboot"])).ok

        await ep.reboot()
        facts = await ep.wait_for_return(timeout=20)
        assert facts.boot_id == "booted-again"
        assert not facts.reboot_pending
        assert (await ep.scan()).missing == ()

        rolled = await ep.rollback(scan.missing, None)
        assert rolled.ok, rolled.details
        assert set(rolled.reverted) == {a.id for a in scan.missing}
        assert dpkg_version("patchwave-demo-web") == "1.0"
        assert dpkg_version("patchwave-demo-core") == "1.0"
        after = await ep.verify(scan.missing)
        assert set(after.still_missing) == {a.id for a in scan.missing}
        kept = sorted(p.name for p in (tmp_path / "state/rollback").glob("*/*.deb"))
        assert kept == ["patchwave-demo-core_1.0_all.deb", "patchwave-demo-web_1.0_all.deb"]


@pytest.mark.usefixtures("demo_debs_at_1_0", "trusted")
async def test_install_refuses_unapproved_and_unsafe(
    sshd: Sshd, apt_repo: AptRepo, ssh_key_env: str, tmp_path: Path
) -> None:
    """Only the approved package is upgraded; a name starting with '-' never reaches apt."""
    from dataclasses import replace

    from patchwave.endpoints.drivers.base import UnsafeArgument

    host = make_ssh_host(sshd, credential_ref=ssh_key_env)
    opts = apt_options(apt_repo, tmp_path, tmp_path / "boot")
    (tmp_path / "boot").write_text("b\n")
    async with SshEndpoint(host, options=opts) as ep:
        scan = await ep.scan()
        web = next(a for a in scan.missing if a.packages[0].name == "patchwave-demo-web")
        await ep.install([web])
        assert dpkg_version("patchwave-demo-web") == "1.1"
        assert dpkg_version("patchwave-demo-core") == "1.0"
        evil = replace(web, packages=(replace(web.packages[0], name="-oAPT::x=1"),))
        with pytest.raises(UnsafeArgument, match="refusing package name"):
            await ep.install([evil])
        evil_version = replace(web, packages=(replace(web.packages[0], fixed_version="1;rm -rf"),))
        with pytest.raises(UnsafeArgument, match="refusing package version"):
            await ep.install([evil_version])
