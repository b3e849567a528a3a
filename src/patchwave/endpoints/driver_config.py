"""Driver options for real hosts, from a YAML file instead of code (setting
``driver_options_file`` / ``PATCHWAVE_DRIVER_OPTIONS_FILE``)::

    default:                       # every ssh and local host
      command_timeout: 600
    tenants:
      acme:                        # every host of tenant acme
        state_dir: /var/lib/patchwave
    hosts:
      web1:                        # a host of that name in any tenant
        refresh: false
      acme/db1:                    # one tenant's host (wins over the bare name)
        reboot_command: [shutdown, -r, "+1"]

For a host the sections merge field by field: host over tenant over default (a field such as
``env`` is replaced as a whole, not merged). Every section is checked when the file is read, so a
typo stops the first scan or campaign with the file, line and key, never halfway through a wave.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from patchwave.domain.models import Host
from patchwave.endpoints.drivers.base import DriverOptions, driver_options_from_mapping
from patchwave.errors import UserError
from patchwave.yamlio import line_of, load_yaml

SECTIONS = ("default", "tenants", "hosts")


class DriverOptionsFileError(UserError):
    """The driver options file is unreadable or has a bad section, key or value."""


@cache
def _adapters() -> dict[str, TypeAdapter[Any]]:
    # DriverOptions is a plain dataclass (no runtime types): check each value against its
    # annotation here so `refresh: maybe` or `reboot_command: "systemctl reboot"` is refused.
    hints = typing.get_type_hints(DriverOptions)
    return {f.name: TypeAdapter(hints[f.name]) for f in fields(DriverOptions)}


def _checked(data: Any, where: str) -> dict[str, Any]:
    """A section's values, type-checked and built once with ``driver_options_from_mapping``."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise DriverOptionsFileError(f"{where}: expected a mapping of option: value")
    if set(data) - set(_adapters()):
        driver_options_from_mapping(data, where=where)  # raises, naming unknown and known fields
    values: dict[str, Any] = {}
    for key, value in data.items():
        try:
            values[key] = _adapters()[key].validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = "".join(f"[{p!r}]" for p in first["loc"])
            hint = " (quote numbers meant as text)" if first["type"] == "string_type" else ""
            raise DriverOptionsFileError(
                f"{where}.{key}{loc}: {first['msg']}, got {value!r}{hint}"
            ) from None
    driver_options_from_mapping(values, where=where)
    return values


@dataclass(frozen=True)
class DriverOptionsFile:
    """A parsed driver options file; ``for_host`` gives the merged options of one host."""

    path: Path
    default: Mapping[str, Any] = field(default_factory=dict)
    tenants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_host(self, host: Host) -> DriverOptions:
        merged = {
            **self.default,
            **self.tenants.get(host.tenant, {}),
            **self.hosts.get(host.name.lower(), {}),
            **self.hosts.get(f"{host.tenant}/{host.name}".lower(), {}),
        }
        return driver_options_from_mapping(merged, where=f"{self.path} (for {host.key})")


def _where(path: Path, node: Any, parent: Any, label: str) -> str:
    line = line_of(node) or line_of(parent)
    return f"{path}:{line}: {label}" if line else f"{path}: {label}"


def _section(path: Path, data: Any, name: str) -> dict[str, dict[str, Any]]:
    section = data.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise DriverOptionsFileError(
            f"{_where(path, section, data, name)}: expected a mapping of "
            f"{'tenant slug' if name == 'tenants' else 'host name'} to options"
        )
    out: dict[str, dict[str, Any]] = {}
    for key, body in section.items():
        if not isinstance(key, str) or not key.strip():
            raise DriverOptionsFileError(
                f"{_where(path, section, data, name)}: {key!r} is not a "
                f"{'tenant slug' if name == 'tenants' else 'host name or tenant/name'}"
            )
        norm = key.strip() if name == "tenants" else key.strip().lower()
        if norm in out:
            raise DriverOptionsFileError(
                f"{_where(path, body, section, f'{name}.{key}')}: given twice"
            )
        out[norm] = _checked(body, _where(path, body, section, f"{name}.{key}"))
    return out


def load_driver_options_file(path: Path) -> DriverOptionsFile:
    """Read and check the whole file; errors name the file, the line and the key."""
    data = load_yaml(path, error=DriverOptionsFileError)
    if data is None:
        return DriverOptionsFile(path)  # an empty file: defaults everywhere
    if not isinstance(data, Mapping):
        raise DriverOptionsFileError(
            f"{path}: expected a mapping with {', '.join(SECTIONS)} at the top"
        )
    unknown = sorted(str(k) for k in data if k not in SECTIONS)
    if unknown:
        raise DriverOptionsFileError(
            f"{path}: unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}"
        )
    return DriverOptionsFile(
        path,
        default=_checked(data.get("default"), _where(path, data.get("default"), data, "default")),
        tenants=_section(path, data, "tenants"),
        hosts=_section(path, data, "hosts"),
    )
