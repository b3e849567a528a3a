"""Build the right endpoint for a host from its connector, with shared per-process resources
(one simulated fleet and its ledger, one site-limit registry for SSH)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from patchwave.domain.models import Connector, Host
from patchwave.endpoints.base import Endpoint
from patchwave.errors import EndpointError
from patchwave.settings import Settings, get_settings

if TYPE_CHECKING:
    from patchwave.endpoints.driver_config import DriverOptionsFile
    from patchwave.endpoints.drivers.base import DriverOptions
    from patchwave.endpoints.simulated import SimProfile, SimulatedFleet
    from patchwave.endpoints.transport import SiteLimits


class UnsupportedConnector(EndpointError):
    """The host's connector cannot be driven from here."""


class EndpointFactory:
    """``factory(host) -> Endpoint``. Cheap to call per host; close() when done."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        sim_profile: SimProfile | None = None,
        latency_scale: float | None = None,
        site_limit: int = 20,
        run_tag: str = "adhoc",
    ) -> None:
        self.settings = settings or get_settings()
        self._now = now
        self._sim_profile = sim_profile
        self._latency_scale = latency_scale
        self._site_limit = site_limit
        self._run_tag = run_tag
        self._fleet: SimulatedFleet | None = None
        self._limits: SiteLimits | None = None
        self._options_file: DriverOptionsFile | None = None

    @property
    def fleet(self) -> SimulatedFleet:
        """The simulated fleet (its ledger under PATCHWAVE_HOME/sim)."""
        if self._fleet is None:
            from patchwave.endpoints.simulated import DEFAULT_PROFILE, SimulatedFleet, utcnow

            scale = self._latency_scale
            self._fleet = SimulatedFleet(
                self.settings.sim_seed,
                self.settings.home / "sim",
                latency_scale=self.settings.sim_latency_scale if scale is None else scale,
                profile=self._sim_profile or DEFAULT_PROFILE,
                now=self._now or utcnow,
            )
        return self._fleet

    def _site_limits(self) -> SiteLimits:
        if self._limits is None:
            from patchwave.endpoints.transport import SiteLimits

            self._limits = SiteLimits(self._site_limit)
        return self._limits

    def driver_options(self, host: Host) -> DriverOptions | None:
        """The host's options from the settings' driver options file (None: no file set).
        The file is read once per factory, on the first ssh or local host, so a bad file stops
        a scan or a wave before any host is touched, and simulated runs never read it."""
        path = self.settings.driver_options_file
        if path is None:
            return None
        if self._options_file is None:
            from patchwave.endpoints.driver_config import load_driver_options_file

            self._options_file = load_driver_options_file(path)
        return self._options_file.for_host(host)

    def __call__(self, host: Host) -> Endpoint:
        if host.connector is Connector.SIMULATED:
            return self.fleet.endpoint(host)
        if host.connector is Connector.SSH:
            from patchwave.endpoints.ssh import SshEndpoint

            return SshEndpoint(
                host,
                settings=self.settings,
                options=self.driver_options(host),
                limits=self._site_limits(),
                run_tag=self._run_tag,
            )
        if host.connector is Connector.LOCAL:
            from patchwave.endpoints.local import LocalEndpoint

            return LocalEndpoint(
                host,
                settings=self.settings,
                options=self.driver_options(host),
                limits=self._site_limits(),
                run_tag=self._run_tag,
            )
        raise UnsupportedConnector(
            f"{host.key}: the {host.connector.value} connector is not available in this version; "
            "use ssh, local or simulated"
        )

    def close(self) -> None:
        if self._fleet is not None:
            self._fleet.close()
            self._fleet = None
