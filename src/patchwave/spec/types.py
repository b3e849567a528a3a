"""Value types of campaign specs: durations, percentages, slugs, name lists, check names.

Every validator raises ``ValueError("expected ...")`` so the error formatter can print
``got X, expected ...``; rules spanning several fields raise ``rule_error`` (a custom pydantic error
that carries the sub-path of the field at fault).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from patchwave.domain.approval import ROLE_GROUPS
from patchwave.domain.models import Host, OsFamily
from patchwave.endpoints.base import KNOWN_CHECKS

# Calendars every installation knows without defining them (the names of
# patchwave.calendars.SHIPPED_CALENDARS; a test keeps the two in step).
SHIPPED_CALENDAR_NAMES = frozenset(
    {"patch-tuesday-plus-3", "weekend-nights", "weekday-nights", "always"}
)

# Role groups an approval may name ("msp-leads" = every approver whose role is "msp-lead");
# "user:NAME" names one person. The singular role is accepted as a spelling of its group.
APPROVER_ROLES = frozenset(ROLE_GROUPS)
_ROLE_ALIASES = {role.value: group for group, role in ROLE_GROUPS.items()}

RULE_ERROR = "campaign_rule"

Loc = tuple[str | int, ...]


class SpecModel(BaseModel):
    """Base of every spec model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def host_named(host: Host, names: Iterable[str]) -> bool:
    """True when ``host`` is one of ``names`` ("web01" or "tenant/web01", any case)."""
    wanted = {n.lower().rstrip(".") for n in names}
    return host.name.lower().rstrip(".") in wanted or host.key.lower().rstrip(".") in wanted


_DURATION_RE = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_DURATION_HINT = 'expected a duration such as "90m", "4h", "2d" or "1h30m"'


def parse_duration(value: object) -> timedelta:
    """Parse "90m", "4h", "2d", "1h30m", "1w", "45s" (or 0) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text == "0":
            return timedelta(0)
        match = _DURATION_RE.fullmatch(text)
        if text and match:
            seconds = sum(
                int(group) * factor
                for group, (_, factor) in zip(match.groups(), _DURATION_UNITS, strict=True)
                if group
            )
            return timedelta(seconds=seconds)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f'{_DURATION_HINT} (a bare number has no unit: "{value}m"?)')
    raise ValueError(_DURATION_HINT)


def format_duration(value: timedelta) -> str:
    """The canonical spelling parse_duration reads back: 1d2h30m, 45m, 0m."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError("negative durations have no spelling")
    parts = []
    for unit, factor in _DURATION_UNITS[1:]:
        count, seconds = divmod(seconds, factor)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"


def parse_percent(value: object) -> float:
    """10, 12.5, "10%" or "10" -> 10.0 (a percentage, not a fraction)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            return float(text)
        except ValueError:
            pass
    raise ValueError('expected a percentage such as 10 or "10%"')


def _percent_between(low: float, high: float, *, low_open: bool = False) -> AfterValidator:
    def check(value: float) -> float:
        if value < low or value > high or (low_open and value == low):
            bound = f"greater than {low:g} and at most" if low_open else f"from {low:g} to"
            raise ValueError(f"expected a percentage {bound} {high:g}")
        return value

    return AfterValidator(check)


def _parse_fraction(value: object) -> float:
    # min_success_rate reads as a fraction (0.95) but "95%" is accepted too.
    hint = 'expected a number from 0 to 1 (or a percentage such as "95%")'
    if isinstance(value, str) and value.strip().endswith("%"):
        number = parse_percent(value) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ValueError(hint)
    if not 0 <= number <= 1:
        raise ValueError(hint)
    return number


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("expected a duration greater than zero")
    return value


def as_list(value: Any) -> Any:
    """Let a single string stand for a one-item list (``approvers: msp-leads``)."""
    return [value] if isinstance(value, str) else value


def _sorted_unique(value: tuple[str, ...]) -> tuple[str, ...]:
    # Set-like fields are kept sorted so the spec hash does not depend on their order.
    return tuple(sorted(set(value)))


def _matching(pattern: str, expected: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"expected {expected}")
        return value

    return AfterValidator(check)


def _known_check(value: str) -> str:
    if value not in KNOWN_CHECKS:
        raise ValueError(
            f"expected a known check{suggest(value, KNOWN_CHECKS)} "
            f"(known: {', '.join(sorted(KNOWN_CHECKS))})"
        )
    return value


def _approver(value: str) -> str:
    value = _ROLE_ALIASES.get(value, value)
    if value in APPROVER_ROLES or re.fullmatch(r"user:[A-Za-z0-9][A-Za-z0-9._@+-]*", value):
        return value
    raise ValueError(
        f"expected a role ({', '.join(sorted(APPROVER_ROLES))}) or user:NAME"
        f"{suggest(value, APPROVER_ROLES)}"
    )


_OS_NAMES = tuple(f.value for f in OsFamily if f is not OsFamily.UNKNOWN)


def _known_os(value: object) -> object:
    if isinstance(value, OsFamily | str) and value in _OS_NAMES:
        return value
    raise ValueError(f"expected one of {', '.join(_OS_NAMES)}")


Slug = Annotated[
    str,
    Field(max_length=63),
    _matching(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", "a lowercase name of letters, digits and '-'"),
]
PersonName = Annotated[
    str, _matching(r"[A-Za-z0-9][A-Za-z0-9._@+-]*", "a person's name such as alice")
]
TextId = Annotated[str, _matching(r"\S+", "a non-empty name without spaces")]
_Tag = Annotated[str, _matching(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*", "a tag without spaces")]
Tags = Annotated[tuple[_Tag, ...], BeforeValidator(as_list), AfterValidator(_sorted_unique)]
Patterns = Annotated[
    tuple[Annotated[str, _matching(r"\S+", "an id or glob without spaces")], ...],
    BeforeValidator(as_list),
    AfterValidator(_sorted_unique),
]
HostNames = Annotated[
    tuple[Annotated[str, _matching(r"[A-Za-z0-9][A-Za-z0-9._/-]*", "a host name")], ...],
    BeforeValidator(as_list),
    AfterValidator(_sorted_unique),
]
Approvers = Annotated[
    tuple[Annotated[str, AfterValidator(_approver)], ...],
    BeforeValidator(as_list),
    AfterValidator(_sorted_unique),
]
# Check order is kept: checks run in the order written.
CheckList = Annotated[
    tuple[Annotated[str, AfterValidator(_known_check)], ...], BeforeValidator(as_list)
]
KnownOs = Annotated[OsFamily, BeforeValidator(_known_os)]
SlackChannel = Annotated[
    str,
    _matching(
        r"#[a-z0-9][a-z0-9._-]*|[CG][A-Z0-9]{6,}",
        'a channel such as "#patching" (in quotes) or a channel id such as C0123ABCD',
    ),
]
EmailAddress = Annotated[str, _matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address")]

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
Percent = Annotated[float, BeforeValidator(parse_percent), _percent_between(0, 100)]
Share = Annotated[float, BeforeValidator(parse_percent), _percent_between(0, 100, low_open=True)]
Fraction = Annotated[float, BeforeValidator(_parse_fraction)]


def suggest(word: str, choices: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the nearest choice, or ""."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def rule_error(
    message: str,
    *at: str | int,
    more: Sequence[tuple[Loc, str]] = (),
) -> PydanticCustomError:
    """An error for a rule across fields. ``at`` is the path below the validated model; ``more``
    carries further (path, message) problems found by the same validator."""
    # Braces would be read as template fields by pydantic-core.
    safe = message.replace("{", "(").replace("}", ")")
    return PydanticCustomError(RULE_ERROR, safe, {"at": tuple(at), "more": tuple(more)})
