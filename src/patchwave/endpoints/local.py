"""The machine patchwave runs on, patched with the same drivers as an SSH host.

Used to patch the orchestrator's own host and for fast driver tests. With the ``noop_driver``
setting every driver command is ``true`` (the local-endpoint benchmark).
"""

from __future__ import annotations

from dataclasses import replace

from patchwave.domain.models import Host
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.drivers.endpoint import DriverEndpoint
from patchwave.endpoints.transport import LocalTransport, SiteLimits, Transport
from patchwave.settings import Settings, get_settings


class LocalEndpoint(DriverEndpoint):
    """Endpoint on this machine over plain asyncio subprocesses (``sudo -n`` when not root)."""

    def __init__(
        self,
        host: Host,
        *,
        options: DriverOptions | None = None,
        limits: SiteLimits | None = None,
        run_tag: str = "adhoc",
        poll_interval: float = 5.0,
        settings: Settings | None = None,
    ) -> None:
        settings = settings or get_settings()
        options = options or DriverOptions()
        if settings.noop_driver:
            options = replace(options, manager="noop")
        super().__init__(
            host, options=options, limits=limits, run_tag=run_tag, poll_interval=poll_interval
        )

    async def _open(self) -> Transport:
        return LocalTransport(name=self.host.key)

    async def _close(self) -> None:
        return None
