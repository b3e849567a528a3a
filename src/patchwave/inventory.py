"""Inventory files (CSV or YAML) parsed into validated records, all-or-nothing.

Every problem names the file, the row or line, the field and what was expected; a file with any
error imports nothing. Unknown operating systems are imported as quarantined (never patched) with
a warning, so a typo never silently drops a host from compliance reports.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from patchwave.calendars import CalendarSpec
from patchwave.domain.models import Connector, Criticality, OsFamily, parse_os_family
from patchwave.errors import InventoryError
from patchwave.yamlio import LineDict, line_of, load_yaml

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
CALENDAR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
TAG = re.compile(r"^[a-z0-9][a-z0-9:_./-]{0,62}$")
HOST_PORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+)):(?P<port>[0-9]{1,5})$")
CREDENTIAL_REF = re.compile(r"^(env:[A-Z_][A-Z0-9_]{0,127}|secret:[a-z0-9][a-z0-9-]{0,63})$")
ROLES = ("msp-lead", "msp-engineer", "tenant-admin")
MAX_ERRORS = 20

CSV_COLUMNS = (
    "tenant",
    "tenant_name",
    "site",
    "site_timezone",
    "name",
    "os_family",
    "os_version",
    "connector",
    "address",
    "tags",
    "ring",
    "criticality",
    "internet_facing",
    "rdp_exposed",
    "calendar",
    "credential_ref",
)
CSV_REQUIRED = ("tenant", "site", "name", "os_family")


def name_key(name: str) -> str:
    """The identity of a host name inside a tenant: "DC01", "dc01." and "dc01.acme.lan" are one."""
    name = name.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(name)
        return name
    except ValueError:
        return name.split(".", 1)[0]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: expected an IANA zone like Europe/Paris"
        ) from None
    return value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SlaRecord(_Record):
    p1: int = Field(default=7, ge=1, le=365)
    p2: int = Field(default=14, ge=1, le=365)
    p3: int = Field(default=30, ge=1, le=730)
    p4: int = Field(default=90, ge=1, le=1095)


class TenantRecord(_Record):
    slug: str
    name: str = ""
    timezone: str = "UTC"
    calendar: str | None = None
    sla: SlaRecord = SlaRecord()
    slack_channel: str | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"{v!r} is not a slug: expected lower-case letters, digits and dashes")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_timezone(v)


class SiteRecord(_Record):
    tenant: str
    name: str
    timezone: str = "UTC"
    calendar: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not SLUG.match(v.lower()):
            raise ValueError(f"{v!r}: expected letters, digits and dashes")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_timezone(v)


class HostRecord(_Record):
    tenant: str
    site: str
    name: str
    os_family: str
    os_version: str = ""
    connector: Connector = Connector.SIMULATED
    address: str | None = None
    tags: tuple[str, ...] = ()
    ring: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    internet_facing: bool = False
    rdp_exposed: bool = False
    calendar: str | None = None
    credential_ref: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not HOSTNAME.match(v):
            raise ValueError(f"{v!r} is not a host name: expected letters, digits, dashes, dots")
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if not v:
            return None
        # SSH hosts on another port than 22: "host:2222" or "[2001:db8::5]:2222".
        port = HOST_PORT.match(v)
        if port is not None:
            if not 1 <= int(port["port"]) <= 65535:
                raise ValueError(f"{v!r}: the port must be between 1 and 65535")
            host = cls._address(port["v6"] or port["host"])
            return f"[{host}]:{port['port']}" if port["v6"] else f"{host}:{port['port']}"
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            pass
        if not HOSTNAME.match(v):
            raise ValueError(f"{v!r}: expected an IP address or a DNS name, optionally with :port")
        return v.lower().rstrip(".")

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [t for t in re.split(r"[;,]", v) if t.strip()]
        if isinstance(v, list | tuple):
            for tag in v:
                if not isinstance(tag, str) or not TAG.match(tag.strip()):
                    raise ValueError(
                        f"tag {tag!r}: expected lower-case letters, digits and : _ . / -"
                    )
            return tuple(sorted({t.strip() for t in v}))
        return v

    @field_validator("ring")
    @classmethod
    def _ring(cls, v: str | None) -> str | None:
        if v and not SLUG.match(v):
            raise ValueError(f"{v!r}: expected a ring name like lab, pilot or broad")
        return v or None

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, v: str | None) -> str | None:
        if v and not CALENDAR_NAME.match(v):
            raise ValueError(f"{v!r}: expected a calendar name like patch-tuesday-plus-3")
        return v or None

    @field_validator("credential_ref")
    @classmethod
    def _credential(cls, v: str | None) -> str | None:
        if v and not CREDENTIAL_REF.match(v):
            # Never echo the value: it may be the secret itself pasted by mistake.
            raise ValueError(
                "expected a reference like env:VAR_NAME or secret:block-name, never the "
                "credential itself"
            )
        return v or None


class ApproverRecord(_Record):
    name: str
    role: str
    tenants: tuple[str, ...] = ()
    email: str | None = None
    slack_user_id: str | None = None
    slack_team_id: str | None = None

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in ROLES:
            raise ValueError(f"{v!r}: expected one of {', '.join(ROLES)}")
        return v


@dataclass
class Inventory:
    """A parsed, validated inventory file."""

    path: Path
    tenants: dict[str, TenantRecord] = field(default_factory=dict)
    sites: dict[tuple[str, str], SiteRecord] = field(default_factory=dict)
    hosts: list[tuple[HostRecord, str]] = field(default_factory=list)  # (record, origin)
    calendars: dict[str, CalendarSpec] = field(default_factory=dict)
    approvers: list[ApproverRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Errors:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{self.path}: {where}: {message}")

    def add_validation(self, where: str, exc: ValidationError, prefix: str = "") -> None:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            elif err["type"] == "missing":
                msg = "required field is missing"
            elif err["type"] == "enum":
                got = err.get("input")
                msg = f"got {got!r}, expected {err['ctx']['expected']}"
            elif err["type"].startswith("bool"):
                msg = f"got {err.get('input')!r}, expected true/false (yes/no, 1/0)"
            self.add(where, f"field '{prefix}{loc}': {msg}")

    def raise_if_any(self) -> None:
        if self.items:
            shown = self.items[:MAX_ERRORS]
            more = len(self.items) - len(shown)
            tail = f"\n... and {more} more problems" if more > 0 else ""
            raise InventoryError(
                f"{len(self.items)} problem(s), nothing imported:\n" + "\n".join(shown) + tail
            )


def load_inventory(path: Path) -> Inventory:
    """Parse and validate a CSV or YAML inventory. Raises InventoryError listing every problem."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        inv = _load_csv(path)
    elif suffix in (".yaml", ".yml"):
        inv = _load_yaml(path)
    else:
        raise InventoryError(f"{path}: unknown inventory format; expected a .csv, .yaml or .yml")
    return inv


def _quarantine_unknown_os(inv: Inventory, rec: HostRecord, origin: str) -> None:
    if parse_os_family(rec.os_family) is OsFamily.UNKNOWN:
        inv.warnings.append(
            f"{origin}: unknown OS {rec.os_family!r} for host {rec.name}: imported as "
            "quarantined (never patched); use one of windows, debian, ubuntu, rhel "
            "(rocky, alma, centos, fedora), suse"
        )


def _check_duplicates(inv: Inventory, errors: _Errors) -> None:
    seen_names: dict[tuple[str, str], str] = {}
    seen_addresses: dict[tuple[str, str], str] = {}
    for rec, origin in inv.hosts:
        key = (rec.tenant, name_key(rec.name))
        if key in seen_names:
            errors.add(
                origin,
                f"host {rec.name!r} duplicates {seen_names[key]} in tenant {rec.tenant} "
                "(names compare without case, trailing dot or domain); remove one",
            )
        else:
            seen_names[key] = f"{rec.name!r} at {origin}"
        if rec.address:
            akey = (rec.tenant, rec.address)
            if akey in seen_addresses:
                errors.add(
                    origin,
                    f"address {rec.address} of {rec.name!r} is already used by "
                    f"{seen_addresses[akey]} in tenant {rec.tenant}",
                )
            else:
                seen_addresses[akey] = f"{rec.name!r} at {origin}"


def _parse_bool_cell(value: str) -> bool | str:
    low = value.strip().lower()
    if low in ("", "false", "no", "n", "0", "off"):
        return False
    if low in ("true", "yes", "y", "1", "on"):
        return True
    return value  # let pydantic report it


def _load_csv(path: Path) -> Inventory:
    errors = _Errors(path)
    inv = Inventory(path=path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InventoryError(f"{path}: line 1: cannot read the header: {exc}") from exc
        unknown = [h for h in header if h not in CSV_COLUMNS]
        missing = [h for h in CSV_REQUIRED if h not in header]
        if unknown or missing:
            parts = []
            if unknown:
                parts.append(f"unknown column(s) {', '.join(unknown)}")
            if missing:
                parts.append(f"missing required column(s) {', '.join(missing)}")
            raise InventoryError(
                f"{path}: line 1 (header): {'; '.join(parts)}; expected columns: "
                + ", ".join(CSV_COLUMNS)
            )
        row_no = 0
        try:
            for row in reader:
                row_no += 1
                origin = f"row {row_no} (line {reader.line_num})"
                if None in row:
                    errors.add(origin, f"{len(row[None])} more cells than the header has")
                    continue
                _csv_row(inv, errors, row, origin)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InventoryError(f"{path}: line {reader.line_num}: {exc}") from exc
    if row_no == 0:
        errors.add("line 2", "no hosts: the file has a header but no rows")
    _check_duplicates(inv, errors)
    errors.raise_if_any()
    return inv


def _csv_row(inv: Inventory, errors: _Errors, row: dict[str, str], origin: str) -> None:
    cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
    tenant_slug = cells.get("tenant", "")
    if tenant_slug and tenant_slug not in inv.tenants:
        try:
            inv.tenants[tenant_slug] = TenantRecord(
                slug=tenant_slug, name=cells.get("tenant_name") or tenant_slug
            )
        except ValidationError as exc:
            errors.add_validation(origin, exc, "tenant.")
            return
    site_key = (tenant_slug, cells.get("site", ""))
    zone = cells.get("site_timezone", "")
    if site_key[1] and site_key not in inv.sites:
        try:
            inv.sites[site_key] = SiteRecord(
                tenant=tenant_slug, name=site_key[1], timezone=zone or "UTC"
            )
        except ValidationError as exc:
            errors.add_validation(origin, exc, "site_")
            return
    elif site_key[1] and zone and zone != inv.sites[site_key].timezone:
        errors.add(
            origin,
            f"field 'site_timezone': got {zone!r}, but site {site_key[1]!r} of tenant "
            f"{tenant_slug} already has {inv.sites[site_key].timezone!r} from an earlier row; "
            "a site has one time zone",
        )
        return
    host_fields: dict[str, Any] = {
        k: v for k, v in cells.items() if k not in ("tenant_name", "site_timezone") and v != ""
    }
    for flag in ("internet_facing", "rdp_exposed"):
        if flag in host_fields:
            host_fields[flag] = _parse_bool_cell(host_fields[flag])
    try:
        rec = HostRecord(**host_fields)
    except ValidationError as exc:
        errors.add_validation(origin, exc)
        return
    _quarantine_unknown_os(inv, rec, origin)
    inv.hosts.append((rec, origin))


def _at(value: Any, fallback: int | None = None) -> str:
    line = line_of(value) or fallback
    return f"line {line}" if line else "top level"


def _load_yaml(path: Path) -> Inventory:
    errors = _Errors(path)
    inv = Inventory(path=path)
    data = load_yaml(path, error=InventoryError)
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: expected a mapping with 'tenants' at the top level")
    allowed = {"tenants", "calendars", "approvers"}
    for key in data:
        if key not in allowed:
            errors.add(_at(data), f"unknown top-level key {key!r}; expected {sorted(allowed)}")
    for name, spec in (data.get("calendars") or {}).items():
        try:
            inv.calendars[str(name)] = CalendarSpec.model_validate(spec)
        except ValidationError as exc:
            errors.add_validation(_at(spec), exc, f"calendars.{name}.")
    for i, appr in enumerate(data.get("approvers") or []):
        try:
            inv.approvers.append(ApproverRecord.model_validate(appr))
        except ValidationError as exc:
            errors.add_validation(_at(appr), exc, f"approvers[{i}].")
    tenants = data.get("tenants")
    if not isinstance(tenants, list) or not tenants:
        errors.add(_at(data), "'tenants' must be a non-empty list")
        errors.raise_if_any()
        return inv
    for ti, tenant in enumerate(tenants):
        _yaml_tenant(inv, errors, tenant, f"tenants[{ti}]")
    _check_duplicates(inv, errors)
    errors.raise_if_any()
    return inv


def _yaml_tenant(inv: Inventory, errors: _Errors, tenant: Any, path: str) -> None:
    if not isinstance(tenant, dict):
        errors.add(_at(tenant), f"{path}: expected a mapping with slug, name and sites")
        return
    body = {k: v for k, v in tenant.items() if k != "sites"}
    try:
        trec = TenantRecord.model_validate(body)
    except ValidationError as exc:
        errors.add_validation(_at(tenant), exc, f"{path}.")
        return
    if trec.slug in inv.tenants:
        errors.add(_at(tenant), f"{path}: tenant {trec.slug!r} appears twice")
        return
    inv.tenants[trec.slug] = trec.model_copy(update={"name": trec.name or trec.slug})
    sites = tenant.get("sites") or []
    if not isinstance(sites, list) or not sites:
        errors.add(_at(tenant), f"{path}.sites: expected a non-empty list of sites")
        return
    for si, site in enumerate(sites):
        spath = f"{path}.sites[{si}]"
        if not isinstance(site, dict):
            errors.add(_at(site, line_of(tenant)), f"{spath}: expected a mapping")
            continue
        sbody = {k: v for k, v in site.items() if k != "hosts"}
        sbody.setdefault("timezone", trec.timezone)
        try:
            srec = SiteRecord.model_validate({"tenant": trec.slug, **sbody})
        except ValidationError as exc:
            errors.add_validation(_at(site), exc, f"{spath}.")
            continue
        inv.sites[(trec.slug, srec.name)] = srec
        for hi, host in enumerate(site.get("hosts") or []):
            hpath = f"{spath}.hosts[{hi}]"
            origin = f"{_at(host, line_of(site))} ({hpath})"
            if not isinstance(host, dict):
                errors.add(origin, "expected a mapping with name and os_family")
                continue
            fields = _yaml_host_fields(host)
            try:
                rec = HostRecord.model_validate({"tenant": trec.slug, "site": srec.name, **fields})
            except ValidationError as exc:
                errors.add_validation(origin, exc)
                continue
            _quarantine_unknown_os(inv, rec, origin)
            inv.hosts.append((rec, origin))


def _yaml_host_fields(host: dict[str, Any]) -> dict[str, Any]:
    """Accept the friendlier YAML spellings: ``os``, ``credential``, ``exposure: {...}``."""
    fields = dict(host)
    if "os" in fields and "os_family" not in fields:
        fields["os_family"] = fields.pop("os")
    if "credential" in fields and "credential_ref" not in fields:
        fields["credential_ref"] = fields.pop("credential")
    exposure = fields.pop("exposure", None)
    if isinstance(exposure, dict):
        fields.setdefault("internet_facing", exposure.get("internet_facing", False))
        fields.setdefault("rdp_exposed", exposure.get("rdp_exposed", False))
    elif exposure is not None:
        fields["exposure"] = exposure  # reported as an unknown field shape
    for key in ("address", "os_version"):
        if key in fields and fields[key] is not None and not isinstance(fields[key], str):
            fields[key] = str(fields[key])
    return fields


__all__ = [
    "CSV_COLUMNS",
    "ApproverRecord",
    "HostRecord",
    "Inventory",
    "LineDict",
    "SiteRecord",
    "TenantRecord",
    "load_inventory",
    "name_key",
]
