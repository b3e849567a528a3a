"""The campaign as a whole: scope, patch filter, windows, deployment policy, notifications,
report, and the rules that span several fields (ring order, emergency approvals, calendars)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from patchwave.calendars import CalendarSpec
from patchwave.domain.models import Advisory, Classification, Connector, Host, OsFamily, Tier
from patchwave.spec.rings import Approval, Ring, SelectHosts, SelectRest
from patchwave.spec.types import (
    SHIPPED_CALENDAR_NAMES,
    CheckList,
    Duration,
    EmailAddress,
    HostNames,
    KnownOs,
    Loc,
    Patterns,
    Percent,
    PersonName,
    PositiveDuration,
    SlackChannel,
    Slug,
    SpecModel,
    Tags,
    TextId,
    as_list,
    host_named,
    rule_error,
    suggest,
)


class CampaignKind(StrEnum):
    STANDARD = "standard"
    EMERGENCY = "emergency"


class RebootPolicy(StrEnum):
    NEVER = "never"
    IF_REQUIRED = "if-required"
    ALWAYS = "always"


class GateFailure(StrEnum):
    HALT = "halt"
    HALT_AND_ROLLBACK = "halt-and-rollback"


class Scope(SpecModel):
    """Which hosts a campaign may touch. Empty/None filters mean "no restriction"."""

    tenants: Annotated[
        Annotated[Literal["all"], Tag("<all>")]
        | Annotated[tuple[Slug, ...], Field(min_length=1), Tag("<list>")],
        Discriminator(lambda v: "<all>" if v == "all" else "<list>"),
        BeforeValidator(lambda v: v if v == "all" else as_list(v)),
    ]
    sites: Annotated[tuple[TextId, ...], Field(min_length=1)] | None = None
    include_tags: Tags = ()
    exclude_tags: Tags = ("no-patch",)
    hosts: Annotated[HostNames, Field(min_length=1)] | None = None
    os_families: Annotated[tuple[KnownOs, ...], Field(min_length=1)] | None = None
    connectors: Annotated[tuple[Connector, ...], Field(min_length=1)] | None = None

    def matches(self, host: Host) -> bool:
        """True when ``host`` is inside this scope (quarantine is the planner's business)."""
        if self.tenants != "all" and host.tenant not in self.tenants:
            return False
        if self.sites is not None and host.site not in self.sites:
            return False
        if self.include_tags and not host.tags.intersection(self.include_tags):
            return False
        if host.tags.intersection(self.exclude_tags):
            return False
        if self.hosts is not None and not host_named(host, self.hosts):
            return False
        if self.os_families is not None and host.os_family not in self.os_families:
            return False
        return self.connectors is None or host.connector in self.connectors


class Patches(SpecModel):
    """Which missing patches a campaign installs (see ``selects`` for the exact order of rules)."""

    classifications: Annotated[tuple[Classification, ...], Field(min_length=1)] = (
        Classification.SECURITY,
        Classification.CRITICAL,
    )
    min_tier: Tier = Tier.P4
    always_include_kev: bool = True
    kev_only: bool = False
    include: Patterns = ()
    exclude: Patterns = ()
    packages: Patterns = ()
    max_patches_per_host: Annotated[int, Field(ge=1)] | None = None

    def selects(self, advisory: Advisory, *, tier: Tier, kev: bool) -> bool:
        """Decide one advisory: exclude wins, then include, then the package filter (only for
        advisories that carry packages), then KEV rules, then classification and tier."""
        advisory_id = advisory.id.lower()
        if any(fnmatchcase(advisory_id, p.lower()) for p in self.exclude):
            return False
        if any(fnmatchcase(advisory_id, p.lower()) for p in self.include):
            return True
        if (
            self.packages
            and advisory.packages
            and not any(fnmatchcase(f.name, p) for f in advisory.packages for p in self.packages)
        ):
            return False
        if self.kev_only:
            return kev
        if kev and self.always_include_kev:
            return True
        return advisory.classification in self.classifications and tier.at_least(self.min_tier)


class WindowPolicy(SpecModel):
    default: Slug
    host_override: bool = True
    ignore: bool = False
    reason: str | None = None


class Concurrency(SpecModel):
    per_campaign: Annotated[int, Field(ge=1)] = 50
    per_tenant: Annotated[int, Field(ge=1)] | None = None
    per_site: Annotated[int, Field(ge=1)] = 20


class Retries(SpecModel):
    count: Annotated[int, Field(ge=0, le=10)] = 2
    delay: Duration = timedelta(minutes=5)


def _estimates(value: Any) -> Any:
    # A partial mapping overrides the defaults; the families left out keep theirs.
    if isinstance(value, dict):
        return {**DEFAULT_ESTIMATES, **value}
    return value


DEFAULT_ESTIMATES: dict[str, str] = {
    f.value: ("45m" if f is OsFamily.WINDOWS else "15m") for f in OsFamily if f != "unknown"
}


class Deployment(SpecModel):
    concurrency: Concurrency = Field(default_factory=Concurrency)
    max_fail_percentage: Percent = 10.0
    host_timeout: PositiveDuration = timedelta(minutes=90)
    retries: Retries = Field(default_factory=Retries)
    reboot: RebootPolicy = RebootPolicy.IF_REQUIRED
    reboot_timeout: PositiveDuration = timedelta(minutes=20)
    prechecks: CheckList = ("free-disk-2g", "no-pending-reboot")
    snapshot: Slug | None = None
    postchecks: CheckList = ("services-up",)
    on_gate_failure: GateFailure = GateFailure.HALT
    estimated_duration: Annotated[dict[KnownOs, PositiveDuration], BeforeValidator(_estimates)] = (
        Field(default_factory=lambda: _estimates({}), validate_default=True)
    )
    wave_size: Annotated[int, Field(ge=1)] | None = None

    @property
    def effective_wave_size(self) -> int:
        return self.wave_size or self.concurrency.per_campaign * 4

    def estimate(self, os_family: OsFamily) -> timedelta:
        """Default install time for one host; an unknown OS gets the longest estimate."""
        return self.estimated_duration.get(os_family, max(self.estimated_duration.values()))


class SlackNotify(SpecModel):
    # Unquoted, "#patching" would be a YAML comment: the examples quote it.
    channel: SlackChannel | None = None
    channel_per_tenant: bool = False
    failures: Literal["immediate", "summary"] = "immediate"
    progress: bool = False


class Notify(SpecModel):
    slack: SlackNotify | None = None
    client_notice: PositiveDuration | None = None
    email: Annotated[tuple[EmailAddress, ...], BeforeValidator(as_list)] = ()


class Report(SpecModel):
    template: Slug = "client-monthly"
    formats: Annotated[
        tuple[Literal["html", "csv", "json"], ...], Field(min_length=1), BeforeValidator(as_list)
    ] = ("html", "csv")
    output_dir: str | None = None


class CampaignSpec(SpecModel):
    """A whole campaign. See docs/campaign-spec.md for every field and its default."""

    name: Slug
    description: str = ""
    kind: CampaignKind = CampaignKind.STANDARD
    owner: Annotated[
        PersonName,
        BeforeValidator(lambda v: v.removeprefix("user:") if isinstance(v, str) else v),
    ]
    scope: Scope
    patches: Patches = Field(default_factory=Patches)
    calendars: dict[Slug, CalendarSpec] = Field(default_factory=dict)
    windows: WindowPolicy
    rings: Annotated[tuple[Ring, ...], Field(min_length=1)]
    deployment: Deployment = Field(default_factory=Deployment)
    notify: Notify = Field(default_factory=Notify)
    report: Report = Field(default_factory=Report)

    @model_validator(mode="before")
    @classmethod
    def _emergency_defaults(cls, data: Any) -> Any:
        # Emergencies default to two approvers; an explicit lower number is refused afterwards.
        if not (isinstance(data, dict) and data.get("kind") == "emergency"):
            return data
        rings = data.get("rings")
        if not isinstance(rings, list):
            return data
        fixed: list[Any] = []
        for ring in rings:
            approval = ring.get("approval", {}) if isinstance(ring, dict) else None
            if isinstance(approval, dict) and "min_approvers" not in approval:
                fixed.append({**ring, "approval": {**approval, "min_approvers": 2}})
            else:
                fixed.append(ring)
        return {**data, "rings": fixed}

    @model_validator(mode="after")
    def _rules(self) -> CampaignSpec:
        problems = [*self._ring_problems(), *self._window_problems()]
        if problems:
            raise rule_error(problems[0][1], *problems[0][0], more=problems[1:])
        return self

    def ring_named(self, name: str) -> Ring:
        """The ring called ``name``; KeyError when there is none."""
        for ring in self.rings:
            if ring.name == name:
                return ring
        raise KeyError(name)

    def _ring_problems(self) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        first_name: dict[str, int] = {}
        ring_of_host: dict[str, int] = {}
        for i, ring in enumerate(self.rings):
            at: Loc = ("rings", i)
            if ring.name in first_name:
                where = f"rings[{first_name[ring.name]}]"
                problems.append(
                    ((*at, "name"), f"ring {ring.name!r} is already defined at {where}")
                )
            first_name.setdefault(ring.name, i)
            if isinstance(ring.select, SelectRest) and i != len(self.rings) - 1:
                problems.append(
                    ((*at, "select"), "the `rest` ring takes every host left, so it must be last")
                )
            if isinstance(ring.select, SelectHosts):
                for name in ring.select.hosts:
                    other = ring_of_host.setdefault(name.lower().rstrip("."), i)
                    if other != i:
                        msg = f"host {name!r} is already in rings[{other}]"
                        problems.append(((*at, "select", "hosts"), msg))
            problems.extend(self._approval_problems(at, ring.approval))
        return problems

    def _approval_problems(self, at: Loc, approval: Approval) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        if not approval.required:
            return problems
        if self.kind is CampaignKind.EMERGENCY and approval.min_approvers < 2:
            msg = "emergency campaigns need two distinct approvers (min_approvers >= 2)"
            problems.append(((*at, "approval", "min_approvers"), msg))
        if self.kind is CampaignKind.EMERGENCY and "tenant-admins" in approval.approvers:
            # The approval rules never let a tenant admin decide a critical change.
            msg = "tenant-admins cannot approve emergency changes; name msp-leads or user:NAME"
            problems.append(((*at, "approval", "approvers"), msg))
        if f"user:{self.owner}" in approval.approvers:
            msg = f"the owner {self.owner!r} requests this campaign and cannot approve it"
            problems.append(((*at, "approval", "approvers"), msg))
        return problems

    def _window_problems(self) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        name = self.windows.default
        if name not in self.calendars and name not in SHIPPED_CALENDAR_NAMES:
            known = sorted({*self.calendars, *SHIPPED_CALENDAR_NAMES})
            problems.append(
                (
                    ("windows", "default"),
                    f"calendar {name!r} is neither defined under `calendars` nor shipped"
                    f"{suggest(name, known)} (known: {', '.join(known)})",
                )
            )
        if self.windows.ignore and self.kind is not CampaignKind.EMERGENCY:
            problems.append(
                (("windows", "ignore"), "only emergency campaigns may ignore maintenance windows")
            )
        elif self.windows.ignore and not (self.windows.reason or "").strip():
            problems.append(
                (("windows", "reason"), "ignoring maintenance windows needs a reason: say why")
            )
        return problems
