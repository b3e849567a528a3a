"""The local endpoint: plain subprocesses, the no-op driver, credentials resolution."""

from __future__ import annotations

import asyncio
import os

import pytest

from patchwave.credentials import CredentialError, SshCredential, resolve_credential
from patchwave.domain.models import Connector, Host, OsFamily
from patchwave.endpoints.base import Endpoint
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.drivers.noop import NOOP_ADVISORY
from patchwave.endpoints.local import LocalEndpoint
from patchwave.endpoints.ssh import split_address
from patchwave.endpoints.transport import LocalTransport, SiteLimits, with_sudo
from patchwave.errors import TransientEndpointError
from patchwave.settings import Settings

pytestmark = [pytest.mark.anyio]


def local_host(name: str = "orchestrator", site: str = "hq") -> Host:
    return Host(tenant="acme", site=site, name=name, os_family=OsFamily.DEBIAN,
                connector=Connector.LOCAL)  # fmt: skip


async def test_noop_driver_runs_true_for_every_step() -> None:
    endpoint = LocalEndpoint(local_host(), settings=Settings(noop_driver=True))
    assert isinstance(endpoint, Endpoint)
    async with endpoint as ep:
        scan = await ep.scan()
        assert scan.missing == (NOOP_ADVISORY,)
        result = await ep.install(scan.missing)
        assert result.installed == (NOOP_ADVISORY.id,) and not result.reboot_required
        assert (await ep.verify(scan.missing)).ok
        assert (await ep.rollback(scan.missing, None)).ok


async def test_local_facts_are_the_machine() -> None:
    options = DriverOptions(manager="apt", refresh=False)
    async with LocalEndpoint(local_host(), options=options, settings=Settings()) as ep:
        facts = await ep.facts()
        checks = await ep.precheck(["ping", "free-disk-1g", "bogus-check"])
    with open("/proc/sys/kernel/random/boot_id") as handle:
        assert facts.boot_id == handle.read().strip()
    assert facts.kernel == os.uname().release
    assert not checks.ok and set(checks.failures) == {"bogus-check"}


async def test_local_transport_decodes_caps_and_times_out() -> None:
    transport = LocalTransport()
    res = await transport.run(["printf", r"\377ok"], timeout=5)
    assert res.stdout == "\ufffdok"
    big = await transport.run(["head", "-c", "100000", "/dev/zero"], timeout=5, max_output=10)
    assert big.stdout_truncated and len(big.stdout) == 10
    missing = await transport.run(["patchwave-no-such-command"], timeout=5)
    assert missing.exit_code == 127
    with pytest.raises(TransientEndpointError):
        await transport.run(["sleep", "10"], timeout=0.2)


def test_sudo_is_added_only_for_non_root() -> None:
    assert with_sudo(["apt-get", "update"], sudo=True, is_root=False) == [
        "sudo", "-n", "--", "apt-get", "update"]  # fmt: skip
    assert with_sudo(["apt-get", "update"], sudo=True, is_root=True) == ["apt-get", "update"]
    assert with_sudo(["cat", "x"], sudo=False, is_root=False) == ["cat", "x"]


async def test_site_limits_are_per_site() -> None:
    limits = SiteLimits(default=1, overrides={("acme", "dc"): 3})
    peaks: dict[str, int] = {}
    active: dict[str, int] = {}
    settings = Settings(noop_driver=True)

    async def one(site: str, i: int) -> None:
        async with LocalEndpoint(local_host(f"{site}{i}", site), limits=limits, settings=settings):
            active[site] = active.get(site, 0) + 1
            peaks[site] = max(peaks.get(site, 0), active[site])
            await asyncio.sleep(0.05)
            active[site] -= 1

    await asyncio.gather(*(one(site, i) for site in ("hq", "dc") for i in range(5)))
    assert peaks == {"hq": 1, "dc": 3}


def test_address_forms() -> None:
    assert split_address("10.0.0.5", 22) == ("10.0.0.5", 22)
    assert split_address("web1.example:2222", 22) == ("web1.example", 2222)
    assert split_address("[2001:db8::1]:2200", 22) == ("2001:db8::1", 2200)
    assert split_address("2001:db8::1", 22) == ("2001:db8::1", 22)


async def test_credential_references() -> None:
    env = {
        "K": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
        "J": '{"username": "patch", "private_key_path": "/k", "passphrase": "s3cret"}',
        "BAD": "hunter2",
    }
    key = await resolve_credential("env:K", environ=env)
    assert key.private_key and not key.use_agent and "BEGIN" not in repr(key)
    js = await resolve_credential("env:J", environ=env)
    assert (js.username, js.private_key_path, js.use_agent) == ("patch", "/k", False)
    assert "s3cret" not in repr(js)
    assert await resolve_credential(None) == SshCredential()
    with pytest.raises(CredentialError) as info:
        await resolve_credential("env:BAD", environ=env)
    assert "hunter2" not in str(info.value)
    for bad in ("K", "vault:x", "env:"):
        with pytest.raises(CredentialError, match="not 'env:VARIABLE'"):
            await resolve_credential(bad, environ=env)
    with pytest.raises(CredentialError, match="is not set"):
        await resolve_credential("env:NOPE", environ=env)

    async def loader(name: str) -> object:
        assert name == "acme-ssh"
        return {"user": "ops", "private_key": "-----BEGIN x"}

    block = await resolve_credential("secret:acme-ssh", secret_loader=loader)
    assert block.username == "ops" and block.reference == "secret:acme-ssh"


class RecordingTransport:
    """Answers every command with success and remembers it: for ordering questions that a real
    host cannot answer without upgrading its own package manager."""

    is_root = True

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    async def run(self, argv, *, timeout, max_output=0, sudo=False, input=None):  # type: ignore[no-untyped-def]
        from patchwave.endpoints.transport import CommandResult

        self.commands.append(list(argv))
        return CommandResult(tuple(argv), 0, "", "")


async def test_package_manager_is_updated_first_in_its_own_transaction() -> None:
    from patchwave.domain.models import Advisory, PackageFix
    from patchwave.endpoints.drivers.apt import AptDriver
    from patchwave.endpoints.drivers.dnf import DnfDriver

    def adv(name: str, version: str) -> Advisory:
        return Advisory(f"deb:{name}={version}", "debian", name,
                        packages=(PackageFix(name, version),))  # fmt: skip

    transport = RecordingTransport()
    apt = AptDriver(transport, DriverOptions(), where="t")
    await apt.install([adv("openssl", "3.0.15-1"), adv("apt", "2.6.2"), adv("dpkg", "1.21.23")])
    installs = [c for c in transport.commands if "install" in c]
    assert [c[c.index("--") + 1 :] for c in installs] == [
        ["apt=2.6.2", "dpkg=1.21.23"],
        ["openssl=3.0.15-1"],
    ]
    assert all(c[:2] == ["env", "LC_ALL=C"] for c in installs)

    transport = RecordingTransport()
    dnf = DnfDriver(transport, DriverOptions(), where="t")
    dnf._major = 4
    rpm_adv = [
        Advisory("RHSA-1", "rhel", "x", packages=(PackageFix("curl", "8.6.0-10"),)),
        Advisory("RHBA-2", "rhel", "y", packages=(PackageFix("dnf", "4.14.0-9"),)),
    ]
    await dnf.install(rpm_adv)
    upgrades = [c[c.index("--") + 1 :] for c in transport.commands if "upgrade" in c]
    assert upgrades == [["dnf-4.14.0-9"], ["curl-8.6.0-10"]]


async def test_noop_runs_exactly_one_true_per_step() -> None:
    from patchwave.endpoints.drivers.endpoint import DriverEndpoint

    transport = RecordingTransport()

    class Recorded(DriverEndpoint):
        async def _open(self):  # type: ignore[no-untyped-def]
            return transport

        async def _close(self) -> None:
            return None

    ep = Recorded(local_host(), options=DriverOptions(manager="noop"))
    counts = []
    async with ep:
        for step in ("scan", "install", "verify", "rollback"):
            before = len(transport.commands)
            if step == "scan":
                scan = await ep.scan()
            elif step == "install":
                await ep.install(scan.missing)
            elif step == "verify":
                await ep.verify(scan.missing)
            else:
                await ep.rollback(scan.missing, None)
            counts.append(len(transport.commands) - before)
    assert counts == [1, 1, 1, 1]
    assert all(c == ["true"] for c in transport.commands)


def test_driver_options_from_configuration() -> None:
    from patchwave.endpoints.drivers.base import driver_options_from_mapping
    from patchwave.errors import UserError

    opts = driver_options_from_mapping({"manager": "apt", "reboot_command": ["true"]})
    assert opts.manager == "apt" and opts.reboot_command == ("true",)
    with pytest.raises(UserError, match="unknown field"):
        driver_options_from_mapping({"managr": "apt"}, where="campaign.yaml: driver")
    with pytest.raises(UserError, match="bad environment variable"):
        driver_options_from_mapping({"env": {"lower": "x"}})
