"""The driver options file: merge order, errors that name file/line/key, and the endpoint factory
handing each ssh and local host its merged options. Also inventory addresses with a port."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from patchwave.domain.models import Connector, Host, OsFamily
from patchwave.endpoints.driver_config import load_driver_options_file
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.drivers.endpoint import DriverEndpoint
from patchwave.endpoints.factory import EndpointFactory
from patchwave.errors import UserError
from patchwave.inventory import HostRecord
from patchwave.settings import Settings

FULL = """
default:
  command_timeout: 600
  refresh: false
tenants:
  acme:
    state_dir: /srv/patchwave
    command_timeout: 120
  globex:
    env: {HOME: /root}
hosts:
  web1:
    reboot_command: [shutdown, -r, "+1"]
  acme/web1:
    refresh: true
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "driver-options.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def host(tenant: str = "acme", name: str = "web1", connector: Connector = Connector.SSH) -> Host:
    return Host(tenant=tenant, site="hq", name=name, os_family=OsFamily.DEBIAN,
                connector=connector, address="10.0.0.5")  # fmt: skip


def test_host_over_tenant_over_default(tmp_path: Path) -> None:
    options = load_driver_options_file(write(tmp_path, FULL))
    acme_web1 = options.for_host(host("acme", "web1"))
    assert acme_web1 == DriverOptions(
        command_timeout=120,  # tenant over default
        refresh=True,  # tenant/name over bare name over default
        state_dir="/srv/patchwave",
        reboot_command=("shutdown", "-r", "+1"),  # bare host name, any tenant
    )
    globex_web1 = options.for_host(host("globex", "WEB1"))  # host names match without case
    assert globex_web1.reboot_command == ("shutdown", "-r", "+1")
    assert globex_web1.refresh is False and globex_web1.env == {"HOME": "/root"}
    assert globex_web1.state_dir == DriverOptions().state_dir
    other = options.for_host(host("initech", "db1"))
    assert other == DriverOptions(command_timeout=600, refresh=False)


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    options = load_driver_options_file(write(tmp_path, "# nothing yet\n"))
    assert options.for_host(host()) == DriverOptions()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("default: {refrseh: false}\n", r":1: default: unknown field\(s\) refrseh; known:"),
        ("hosts:\n  acme/web1:\n    refresh: maybe\n",
         r":3: hosts.acme/web1.refresh: Input should be a valid boolean"),
        ("tenants:\n  acme:\n    reboot_command: systemctl reboot\n",
         r":3: tenants.acme.reboot_command: Input should be a valid tuple"),
        ("default:\n  releasever: 9\n",
         r"default.releasever: Input should be a valid string, got 9 \(quote numbers"),
        ("tenants:\n  acme:\n    env: {home: /root}\n",
         r"tenants.acme: bad environment variable name in driver options: 'home'"),
        ("default:\n  reboot_command: []\n", r"default: reboot_command must not be empty"),
        ("default:\n  reboot_command: [shutdown, -r, +1]\n",
         r"default.reboot_command\[2\]: Input should be a valid string.*quote numbers"),
        ("default:\n  manager: yum\n", r"default.manager: Input should be 'apt', 'dnf'"),
        ("hosts: [web1]\n", r"hosts: expected a mapping of host name to options"),
        ("tenants:\n  acme: [a]\n", r"tenants.acme: expected a mapping of option: value"),
        ("host:\n  web1: {}\n", r"unknown section\(s\) host; known: default, tenants, hosts"),
        ("- default\n", r"expected a mapping with default, tenants, hosts"),
        ("hosts:\n  Web1: {}\n  web1: {}\n", r"hosts.web1: given twice"),
        ("default: {refresh: [\n", r"invalid YAML"),
    ],
)  # fmt: skip
def test_mistakes_name_the_file_line_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(UserError, match=expected) as info:
        load_driver_options_file(path)
    assert str(info.value).startswith(str(path))


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_driver_options_file(tmp_path / "nope.yaml")


def test_factory_gives_ssh_and_local_hosts_their_options(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, driver_options_file=write(tmp_path, FULL))
    factory = EndpointFactory(settings)
    ssh = factory(host("acme", "web1"))
    local = factory(host("globex", "orchestrator", Connector.LOCAL))
    assert isinstance(ssh, DriverEndpoint) and isinstance(local, DriverEndpoint)
    assert ssh.options.state_dir == "/srv/patchwave" and ssh.options.refresh is True
    assert local.options == DriverOptions(command_timeout=600, refresh=False, env={"HOME": "/root"})


def test_factory_without_file_uses_defaults_and_noop_still_wins(tmp_path: Path) -> None:
    plain = EndpointFactory(Settings(home=tmp_path))(host())
    assert isinstance(plain, DriverEndpoint) and plain.options == DriverOptions()
    noop_settings = Settings(
        home=tmp_path, noop_driver=True, driver_options_file=write(tmp_path, FULL)
    )
    local = EndpointFactory(noop_settings)(host(connector=Connector.LOCAL))
    assert isinstance(local, DriverEndpoint)
    assert local.options.manager == "noop" and local.options.command_timeout == 120


def test_a_bad_file_stops_the_first_linux_host_not_simulated_ones(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, driver_options_file=write(tmp_path, "default: 3\n"))
    factory = EndpointFactory(settings)
    try:
        factory(host(connector=Connector.SIMULATED))  # never reads the file
        with pytest.raises(UserError, match="default: expected a mapping"):
            factory(host())
    finally:
        factory.close()


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ("127.0.0.1:2222", "127.0.0.1:2222"),
        ("Web1.Acme.LAN:2200", "web1.acme.lan:2200"),
        ("[2001:db8::5]:22", "[2001:db8::5]:22"),
        ("2001:db8::5", "2001:db8::5"),
        ("10.0.0.5", "10.0.0.5"),
    ],
)
def test_inventory_addresses_may_carry_a_port(address: str, stored: str) -> None:
    record = HostRecord(tenant="acme", site="hq", name="web1", os_family="debian",
                        connector="ssh", address=address)  # fmt: skip
    assert record.address == stored


@pytest.mark.parametrize(
    ("address", "message"),
    [("web1:70000", "between 1 and 65535"), ("bad_name:22", "optionally with :port")],
)
def test_inventory_refuses_bad_ports_and_names(address: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HostRecord(tenant="acme", site="hq", name="web1", os_family="debian", address=address)
