"""A whole campaign against a real host: an inventory entry with ``connector: ssh`` pointing at the
loopback sshd, its key pinned with ``patchwave hosts trust``, driver options from the options
file (the test apt repository and a harmless reboot), then ``patch_campaign`` on the system clock:
real detection, apt upgrade, reboot, verification, and ``patchwave rollback`` back to 1.0.

The machine's own packages are never upgraded: apt reads only the test repository, and the
fixtures purge patchwave-demo-* and restore /var/run/reboot-required afterwards.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import asyncssh
import pytest
from pw_repos import REBOOT_FILE
from pw_sshd import Sshd
from sqlalchemy import select
from typer.testing import CliRunner

from patchwave.cli import app
from patchwave.domain.models import JobState
from patchwave.endpoints.known_hosts import fingerprint
from patchwave.settings import get_settings
from patchwave.store import Store, open_store
from patchwave.store.audit import verify
from patchwave.store.tables import (
    AdvisoryRow,
    AuditEventRow,
    FindingRow,
    HostJobRow,
    HostRow,
    ScanRow,
)

DEMO_IDS = {"deb:patchwave-demo-web=1.1", "deb:patchwave-demo-core=1.1"}

CAMPAIGN = """
name: linux-ssh
owner: ops
scope: {tenants: [acme]}
patches:
  packages: ["patchwave-demo-*"]
windows: {default: always, host_override: false}
rings:
  - {name: all, select: {rest: true}, approval: auto, gate: {min_success_rate: 1.0}}
deployment:
  concurrency: {per_campaign: 2, per_site: 2}
  retries: {count: 1, delay: 1s}
  reboot: if-required
  reboot_timeout: 1m
  host_timeout: 5m
  prechecks: [free-disk-1g, no-pending-reboot]
  postchecks: [ping]
"""


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def dpkg_version(name: str) -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=False
    )
    return out.stdout


def import_ssh_host(tmp_path: Path, sshd: Sshd, credential_ref: str) -> None:
    """The way an operator adds the host: an inventory file and ``patchwave inventory import``."""
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "tenant,site,site_timezone,name,os_family,connector,address,credential_ref\n"
        f"acme,hq,Europe/Paris,deb1,debian,ssh,127.0.0.1:{sshd.port},{credential_ref}\n"
    )
    cli("inventory", "import", str(inventory))


def pin_host_key() -> str:
    return cli("hosts", "trust", "deb1", "--yes")


def write_campaign(tmp_path: Path) -> Path:
    path = tmp_path / "linux-ssh.yaml"
    path.write_text(textwrap.dedent(CAMPAIGN))
    return path


def host_findings(store: Store) -> dict[str, str]:
    with store.session() as s:
        rows = s.execute(
            select(FindingRow.advisory_id, FindingRow.status)
            .join(HostRow, HostRow.id == FindingRow.host_id)
            .where(HostRow.name == "deb1")
        )
        return {advisory: status for advisory, status in rows}


def the_job(store: Store, run_id: str) -> HostJobRow:
    with store.session() as s:
        jobs = list(s.scalars(select(HostJobRow).where(HostJobRow.run_id == run_id)))
        s.expunge_all()
    assert len(jobs) == 1
    return jobs[0]


@pytest.mark.ssh
@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api", "demo_debs_at_1_0", "apt_options_file")
def test_campaign_over_ssh_upgrades_reboots_verifies_and_rolls_back(
    sshd: Sshd, ssh_key_env: str, tmp_path: Path
) -> None:
    from flows.campaign import patch_campaign

    import_ssh_host(tmp_path, sshd, ssh_key_env)
    assert fingerprint(sshd.host_key) in pin_host_key()
    boot_id = tmp_path / "boot_id"

    result = patch_campaign(campaign=str(write_campaign(tmp_path)))

    assert result["status"] == "completed", result
    run_id = result["run_id"]
    store = open_store()
    # Detection found both 1.1 updates (security, from the repository's suite); the ring's
    # verification scan then resolved them.
    assert host_findings(store) == dict.fromkeys(DEMO_IDS, "resolved")
    with store.session() as s:
        classes = {a.id: a.classification for a in s.scalars(select(AdvisoryRow))}
        scans = list(s.scalars(select(ScanRow).order_by(ScanRow.id)))
    assert {classes[i] for i in DEMO_IDS} == {"security"}
    assert [(sc.hosts_ok, sc.hosts_failed, sc.findings_new) for sc in scans] == [
        (1, 0, 2),  # detect
        (1, 0, 0),  # the ring's verification scan
    ]
    assert scans[1].findings_resolved == 2
    job = the_job(store, run_id)
    assert job.state == JobState.SUCCEEDED.value, (job.failed_step, job.error)
    assert set(job.patches) == set(job.installed) == DEMO_IDS
    assert job.reboot_required and job.rebooted
    assert dpkg_version("patchwave-demo-web") == "1.1"
    assert dpkg_version("patchwave-demo-core") == "1.1"
    # The fake reboot ran (new boot id, marker cleared), as the reboot policy asked.
    assert boot_id.read_text().strip() == "booted-again"
    assert not REBOOT_FILE.exists()
    with store.session() as s:
        steps = list(
            s.scalars(
                select(AuditEventRow.action)
                .where(AuditEventRow.run_id == run_id, AuditEventRow.action.like("job.%"))
                .order_by(AuditEventRow.seq)
            )
        )
    assert steps[-4:] == ["job.installing", "job.rebooting", "job.verifying", "job.succeeded"]

    out = cli("rollback", run_id, "--yes", "--reason", "test: back to 1.0")
    assert "rolled back: 1, failed: 0" in out
    assert dpkg_version("patchwave-demo-web") == "1.0"
    assert dpkg_version("patchwave-demo-core") == "1.0"
    job = the_job(store, run_id)
    assert job.state == JobState.ROLLED_BACK.value and job.installed == []
    # A fresh scan of the host sees 1.1 missing again: the findings reopen.
    cli("scan", "--host", "deb1", "--top", "0")
    assert host_findings(store) == dict.fromkeys(DEMO_IDS, "open")
    with store.session() as s:
        report = verify(s)
    assert report.ok, report
    store.dispose()


@pytest.mark.ssh
@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api", "demo_debs_at_1_0", "apt_options_file")
def test_changed_host_key_fails_the_job_at_connect_and_nothing_is_patched(
    sshd: Sshd, ssh_key_env: str, tmp_path: Path
) -> None:
    """Scanned while its key was right, then the host presents a key other than the pinned one
    (reinstalled, or someone in the middle): the job fails at connect, naming both keys."""
    from flows.campaign import patch_campaign

    import_ssh_host(tmp_path, sshd, ssh_key_env)
    pin_host_key()
    cli("scan", "--host", "deb1", "--top", "0")
    store = open_store()
    assert host_findings(store) == dict.fromkeys(DEMO_IDS, "open")
    known_hosts = get_settings().effective_known_hosts_dir / "acme"
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    known_hosts.write_text(
        f"[127.0.0.1]:{sshd.port} {impostor.export_public_key('openssh').decode().strip()}\n"
    )

    result = patch_campaign(campaign=str(write_campaign(tmp_path)))

    assert result["status"] == "halted", result
    job = the_job(store, result["run_id"])
    assert job.state == JobState.FAILED.value
    assert job.failed_step == "connect"
    error = job.error or ""
    assert "CHANGED" in error
    assert fingerprint(sshd.host_key) in error and fingerprint(impostor) in error
    assert "patchwave hosts trust deb1" in error
    assert job.installed == [] and not job.rebooted
    assert dpkg_version("patchwave-demo-web") == "1.0"
    assert dpkg_version("patchwave-demo-core") == "1.0"
    with store.session() as s:
        host = s.scalars(select(HostRow).where(HostRow.name == "deb1")).one()
        assert host.last_scan_status == "failed"
        assert "HostKeyError" in (host.last_scan_error or "")
        assert verify(s).ok
    store.dispose()


@pytest.mark.ssh
@pytest.mark.usefixtures("demo_debs_at_1_0", "apt_options_file")
def test_scan_cli_shows_the_ssh_hosts_real_findings(
    sshd: Sshd, ssh_key_env: str, tmp_path: Path
) -> None:
    import_ssh_host(tmp_path, sshd, ssh_key_env)
    # Before its key is pinned the host is refused, and the message shows the key to check.
    unknown = CliRunner().invoke(app, ["scan", "--host", "deb1", "--top", "0"])
    assert "0 ok, 1 failed" in unknown.output
    assert "is unknown" in unknown.output
    assert fingerprint(sshd.host_key) in unknown.output.replace("\n", "")
    pin_host_key()

    out = cli("scan", "--host", "deb1")

    assert "scanned 1 host(s): 1 ok, 0 failed; findings: 2 new" in out
    assert "patchwave-demo-web" in out and "patchwave-demo-core" in out
    rows = json.loads(cli("findings", "--host", "deb1", "--json"))
    assert {r["advisory_id"] for r in rows} == DEMO_IDS
    assert {(r["tenant"], r["host"]) for r in rows} == {("acme", "deb1")}
    # Detection only: nothing was installed.
    assert dpkg_version("patchwave-demo-web") == "1.0"
