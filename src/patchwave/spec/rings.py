"""Rings: how each ring selects its hosts, the gate that promotes it, and its approval policy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Discriminator, Field, Tag, model_validator

from patchwave.domain.models import Advisory, Classification, Host, Tier
from patchwave.spec.types import (
    Approvers,
    CheckList,
    Duration,
    Fraction,
    HostNames,
    PositiveDuration,
    Share,
    Slug,
    SpecModel,
    Tags,
    TextId,
    format_duration,
    host_named,
    rule_error,
    suggest,
)


class SelectTags(SpecModel):
    """Hosts carrying at least one of ``tags``."""

    tags: Annotated[Tags, Field(min_length=1)]

    def matches(self, host: Host) -> bool:
        return bool(host.tags.intersection(self.tags))

    def describe(self) -> str:
        return "tags " + ", ".join(self.tags)


class SelectInventoryRing(SpecModel):
    """Hosts whose inventory ``ring`` field equals ``inventory_ring``."""

    inventory_ring: TextId

    def matches(self, host: Host) -> bool:
        return host.ring == self.inventory_ring

    def describe(self) -> str:
        return f"inventory ring {self.inventory_ring}"


class SelectShare(SpecModel):
    """``share`` percent of all hosts in scope (rounded up, at least one while any remain), taken
    from hosts no earlier ring took: hosts with a ``prefer_tags`` tag first, then spread across
    tenants and sites."""

    share: Share
    prefer_tags: Tags = ()

    def describe(self) -> str:
        prefer = f" (prefer {', '.join(self.prefer_tags)})" if self.prefer_tags else ""
        return f"{self.share:g}% of the hosts in scope{prefer}"


class SelectHosts(SpecModel):
    """Hosts named explicitly ("web01" or "tenant/web01", any case); names outside the scope
    select nothing."""

    hosts: Annotated[HostNames, Field(min_length=1)]

    def matches(self, host: Host) -> bool:
        return host_named(host, self.hosts)

    def describe(self) -> str:
        shown = ", ".join(self.hosts[:3]) + (" ..." if len(self.hosts) > 3 else "")
        return f"{len(self.hosts)} named host(s): {shown}"


class SelectRest(SpecModel):
    """Every host in scope that no earlier ring took (only the last ring may say this)."""

    rest: Literal[True]

    def describe(self) -> str:
        return "all remaining hosts"


_SELECTORS: dict[str, type[BaseModel]] = {
    "tags": SelectTags,
    "inventory_ring": SelectInventoryRing,
    "share": SelectShare,
    "hosts": SelectHosts,
    "rest": SelectRest,
}
# Tags appear in pydantic error locations; the "<...>" form lets the formatter drop them.
SELECT_TAGS: dict[str, type[BaseModel]] = {f"<{k}>": v for k, v in _SELECTORS.items()}


def _select_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in _SELECTORS if k in value]
        return f"<{keys[0]}>" if len(keys) == 1 else None
    for key, model in _SELECTORS.items():
        if isinstance(value, model):
            return f"<{key}>"
    return None


def _check_select(value: Any) -> Any:
    if value == "rest":
        return {"rest": True}
    if isinstance(value, BaseModel):
        return value
    choices = "tags, inventory_ring, share, hosts or rest"
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping with one of {choices}, e.g. {{tags: [lab]}}")
    found = [k for k in _SELECTORS if k in value]
    if len(found) > 1:
        raise ValueError(f"select hosts one way only, not {' and '.join(found)} together")
    if not found:
        unknown = ", ".join(f"{k}{suggest(str(k), _SELECTORS)}" for k in value) or "nothing"
        raise ValueError(f"needs one of {choices} (got {unknown})")
    return value


Selection = Annotated[
    Annotated[SelectTags, Tag("<tags>")]
    | Annotated[SelectInventoryRing, Tag("<inventory_ring>")]
    | Annotated[SelectShare, Tag("<share>")]
    | Annotated[SelectHosts, Tag("<hosts>")]
    | Annotated[SelectRest, Tag("<rest>")],
    Discriminator(_select_tag),
    BeforeValidator(_check_select),
]


class Gate(SpecModel):
    """Promotion rule evaluated after a ring has run and soaked."""

    min_success_rate: Fraction = 0.95
    max_failures: Annotated[int, Field(ge=0)] | None = None
    soak: Duration = timedelta(0)
    health_checks: CheckList = ()

    def describe(self) -> str:
        parts = [f"success >= {self.min_success_rate:.0%}"]
        if self.max_failures is not None:
            parts.append(f"failures <= {self.max_failures}")
        if self.soak:
            parts.append(f"soak {format_duration(self.soak)}")
        if self.health_checks:
            parts.append("checks " + ", ".join(self.health_checks))
        return ", ".join(parts)


class AutoApproveIf(SpecModel):
    """Approve without a person when every patch of the ring meets every condition given."""

    max_tier: Tier | None = None
    no_reboot: bool = False
    only_classifications: Annotated[tuple[Classification, ...], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _has_condition(self) -> AutoApproveIf:
        if self.max_tier is None and not self.no_reboot and self.only_classifications is None:
            raise rule_error(
                "auto_approve_if needs at least one condition (max_tier, no_reboot, "
                "only_classifications); to approve unconditionally write `approval: auto`"
            )
        return self

    def allows(self, patches: Iterable[tuple[Advisory, Tier]]) -> bool:
        """``max_tier: P3`` lets P3 and P4 through, never P1/P2."""
        for advisory, tier in patches:
            if self.max_tier is not None and tier.rank < self.max_tier.rank:
                return False
            if self.no_reboot and advisory.reboot_required:
                return False
            if (
                self.only_classifications is not None
                and advisory.classification not in self.only_classifications
            ):
                return False
        return True


class Approval(SpecModel):
    """``approval: auto`` is ``required: false``; anything else waits for people."""

    required: bool = True
    approvers: Approvers = ("msp-leads",)
    expires: PositiveDuration = timedelta(hours=24)
    min_approvers: Annotated[int, Field(ge=1, le=10)] = 1
    auto_approve_if: AutoApproveIf | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data == "auto":
            return {"required": False, "approvers": []}
        if isinstance(data, str):
            raise ValueError(
                "expected `auto` or a mapping (required, approvers, expires, min_approvers, "
                "auto_approve_if)"
            )
        if isinstance(data, dict) and data.get("required") is False and "approvers" not in data:
            return {**data, "approvers": []}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Approval:
        if not self.required:
            if self.auto_approve_if is not None:
                raise rule_error(
                    "auto_approve_if only applies when required is true", "auto_approve_if"
                )
            return self
        if not self.approvers:
            raise rule_error("a required approval needs at least one approver", "approvers")
        users = {a for a in self.approvers if a.startswith("user:")}
        if len(users) == len(self.approvers) and len(users) < self.min_approvers:
            raise rule_error(
                f"needs {self.min_approvers} distinct approvers but only {len(users)} "
                "user(s) are listed; add people or a role",
                "min_approvers",
            )
        return self

    @property
    def is_auto(self) -> bool:
        return not self.required

    def describe(self) -> str:
        if not self.required:
            return "auto"
        people = "1 approver" if self.min_approvers == 1 else f"{self.min_approvers} approvers"
        text = f"{', '.join(self.approvers)}; {people}; expires {format_duration(self.expires)}"
        if self.auto_approve_if is not None:
            text += " unless auto_approve_if matches"
        return text


class Ring(SpecModel):
    """One step of the rollout. Rings run in order; a host belongs to the first ring that
    selects it."""

    name: Slug
    select: Selection
    gate: Gate = Field(default_factory=Gate)
    approval: Approval = Field(default_factory=Approval)
