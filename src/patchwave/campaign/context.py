"""Per-task context of a campaign run: store, spec, clock, endpoints, calendars.

Each Prefect task rebuilds this from the run's id (task inputs stay plain data). The simulated
clock's position lives in the run row, so every task — and a resumed process — continues from
the same simulated instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from patchwave.calendars import resolve_calendar
from patchwave.clock import Clock, SimulatedClock, SystemClock
from patchwave.domain.models import Host
from patchwave.domain.windows import Calendar
from patchwave.endpoints.factory import EndpointFactory
from patchwave.errors import NotFound
from patchwave.spec import CampaignSpec
from patchwave.store import Store, open_store
from patchwave.store.inventory_repo import load_calendars, load_sites, load_tenants
from patchwave.store.tables import CampaignRunRow


def resolve_campaign_path(ref: str) -> Path:
    """A campaign file path, or a name found as campaigns/<name>.yaml here or in the project."""
    candidates = [Path(ref), Path("campaigns") / f"{ref}.yaml"]
    project = Path(__file__).resolve().parents[3] / "campaigns" / f"{ref}.yaml"
    candidates.append(project)
    for path in candidates:
        if path.is_file():
            return path
    raise NotFound(f"no campaign file {ref!r}; give a path or a name in campaigns/ (e.g. demo)")


@dataclass
class RunContext:
    store: Store
    run_id: str
    spec: CampaignSpec
    clock: Clock
    params: dict[str, Any]

    @classmethod
    def load(cls, run_id: str, store: Store | None = None) -> RunContext:
        store = store or open_store()
        with store.session() as session:
            run = session.get(CampaignRunRow, run_id)
            if run is None:
                raise NotFound(f"no campaign run {run_id!r}; see `patchwave campaign runs`")
            spec = CampaignSpec.model_validate(run.spec)
            clock: Clock
            if run.clock_kind == "simulated":
                clock = SimulatedClock(run.clock or datetime.now(UTC))
            else:
                clock = SystemClock()
            params = dict(run.params or {})
        return cls(store=store, run_id=run_id, spec=spec, clock=clock, params=params)

    def save_clock(self) -> None:
        """Persist the simulated clock (a no-op on the real clock)."""
        if not self.clock.simulated:
            return
        with self.store.session() as session:
            session.execute(
                update(CampaignRunRow)
                .where(CampaignRunRow.id == self.run_id)
                .values(clock=self.clock.now())
            )

    def endpoints(self) -> EndpointFactory:
        from patchwave.endpoints.simulated import DEFAULT_PROFILE, SimProfile

        profile = DEFAULT_PROFILE
        if self.params.get("sim_profile") == "reliable":
            profile = SimProfile.reliable()
        fixed = {
            k: float(self.params[f"sim_{k}"])
            for k in ("fixed_install_seconds", "fixed_reboot_seconds", "compliant_share")
            if f"sim_{k}" in self.params
        }
        if fixed:
            # Benchmarks pin durations so ideal bounds are exact.
            from dataclasses import replace

            profile = replace(profile, **fixed)  # type: ignore[arg-type]
        scale = self.params.get("latency_scale")
        if scale is None and self.clock.simulated:
            scale = 1.0  # virtual time: realistic durations cost nothing
        return EndpointFactory(
            now=self.clock.now,
            sim_profile=profile,
            latency_scale=scale,
            site_limit=min(self.spec.deployment.concurrency.per_site, 10_000),
            run_tag=f"run-{self.run_id}",
        )

    def calendars(self, hosts: list[Host] | None = None) -> CalendarResolverCache:
        with self.store.session() as session:
            extra = {**load_calendars(session), **self.spec.calendars}
            sites = load_sites(session)
            tenants = load_tenants(session)
        return CalendarResolverCache(self.spec, extra, sites, tenants)


class CalendarResolverCache:
    """The calendar of each host: its own (when host_override), else its site's, else its
    tenant's, else the campaign default; "from-site" zones become the site's zone."""

    def __init__(self, spec: CampaignSpec, extra: dict[str, Any], sites: Any, tenants: Any) -> None:
        self.spec = spec
        self.extra = extra
        self.sites = sites
        self.tenants = tenants
        self._cache: dict[tuple[str, str], Calendar] = {}

    def name_for(self, host: Host) -> str:
        if self.spec.windows.host_override:
            site = self.sites.get((host.tenant, host.site))
            tenant = self.tenants.get(host.tenant)
            for name in (
                host.calendar,
                site.calendar if site else None,
                tenant.calendar if tenant else None,
            ):
                if name:
                    return str(name)
        return self.spec.windows.default

    def zone_for(self, host: Host) -> str:
        site = self.sites.get((host.tenant, host.site))
        if site is not None:
            return str(site.timezone)
        tenant = self.tenants.get(host.tenant)
        return str(tenant.timezone) if tenant else "UTC"

    def __call__(self, host: Host) -> Calendar | None:
        if self.spec.windows.ignore:
            return None
        key = (self.name_for(host), self.zone_for(host))
        cal = self._cache.get(key)
        if cal is None:
            cal = resolve_calendar(key[0], extra=self.extra, timezone=key[1])
            self._cache[key] = cal
        return cal

    def by_key(self, key: str) -> Calendar:
        name, _, zone = key.rpartition("@")
        cached = self._cache.get((name, zone))
        if cached is None:
            cached = resolve_calendar(name, extra=self.extra, timezone=zone)
            self._cache[(name, zone)] = cached
        return cached
