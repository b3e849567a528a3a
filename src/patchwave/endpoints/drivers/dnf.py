"""dnf driver (RHEL, Rocky, Alma, Oracle, Fedora, Amazon Linux), dnf4 and dnf5.

Scan = ``check-update`` (exit 100 when updates exist) for the candidates, plus the updateinfo
advisories: dnf4 ``updateinfo list`` and ``updateinfo info`` (dnf4 has no JSON), dnf5
``advisory list --json`` (with ``--with-cve`` for the references). Rollback undoes the install's
history transaction, falling back to a downgrade to the recorded versions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cmp_to_key
from typing import Any

from patchwave.domain.models import Advisory, PackageFix, Severity, parse_severity
from patchwave.endpoints.drivers.base import Driver, validate_name, validate_path
from patchwave.endpoints.drivers.rpmcommon import (
    RPM_QUERY_FORMAT,
    VendorAdvisory,
    build_advisories,
    parse_nevra,
    parse_rpm_query,
)
from patchwave.endpoints.drivers.versions import compare_evr
from patchwave.errors import ParseError, PatchFailed

_NOISE = re.compile(
    r"^(Last metadata expiration check|Updating and loading repositories|Repositories loaded"
    r"|Security: |Waiting for process|Updating Subscription|Upgrades?$|Available upgrades)"
)
_PROGRESS = re.compile(r"(\d+(\.\d+)?\s*[kMG]?B/s|\|\s*\d+(\.\d+)?\s*[kMG]?B\s)")
_EVR_TOKEN = re.compile(r"^(\d+:)?[0-9A-Za-z._+~^]+-[0-9A-Za-z._+~^]+$")
_TYPE_SEV = re.compile(r"^(?:(\w+)/(Sec|Bug|Enh)\.|(\w+))$")
_KINDS = {"Sec": "security", "Bug": "bugfix", "Enh": "enhancement"}


def _is_noise(line: str) -> bool:
    return not line.strip() or bool(_NOISE.match(line.strip())) or bool(_PROGRESS.search(line))


def parse_check_update(text: str) -> dict[str, tuple[str, str]]:
    """``dnf check-update`` (dnf4) / ``dnf check-upgrade`` (dnf5): name -> (arch, candidate EVR).
    dnf4 wraps a long name onto its own line; the obsoletes section is not an upgrade list."""
    out: dict[str, tuple[str, str]] = {}
    pending: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith("Obsoleting Packages"):
            break
        if not pending and _is_noise(line):
            continue
        tokens = pending + line.split()
        if len(tokens) < 3:
            if len(tokens) == 1 and "." in tokens[0]:
                pending = tokens
                continue
            raise ParseError(f"unexpected dnf check-update line: {line[:120]!r}")
        pending = []
        if len(tokens) != 3 or "." not in tokens[0] or not _EVR_TOKEN.match(tokens[1]):
            raise ParseError(f"unexpected dnf check-update line: {line[:120]!r}")
        name, _, arch = tokens[0].rpartition(".")
        if not name:
            raise ParseError(f"package without a name: {line[:120]!r}")
        if name not in out or compare_evr(tokens[1], out[name][1]) > 0:
            out[name] = (arch, tokens[1])
    if pending:
        raise ParseError("dnf check-update output ends in the middle of a package line")
    return out


def _type_severity(label: str) -> tuple[str, Severity]:
    match = _TYPE_SEV.match(label)
    if match is None:
        raise ParseError(f"unknown advisory type {label!r}")
    if match.group(3):
        return match.group(3).lower(), Severity.UNSPECIFIED
    return _KINDS[match.group(2)], parse_severity(match.group(1))


def parse_updateinfo_list(text: str) -> list[VendorAdvisory]:
    """dnf4 ``updateinfo list``: ``ID TYPE[/SEVERITY] NEVRA`` per line, one line per package."""
    by_id: dict[str, VendorAdvisory] = {}
    for line in text.splitlines():
        if _is_noise(line):
            continue
        tokens = line.split()
        if len(tokens) != 3:
            raise ParseError(f"unexpected dnf updateinfo line: {line[:120]!r}")
        adv_id, label, nevra_text = tokens
        kind, severity = _type_severity(label)
        nevra = parse_nevra(nevra_text)
        adv = by_id.setdefault(adv_id, VendorAdvisory(adv_id, kind, severity))
        adv.packages[nevra.name] = nevra.evr
    return list(by_id.values())


def parse_updateinfo_info(text: str) -> dict[str, VendorAdvisory]:
    """dnf4 ``updateinfo info`` blocks: title, Update ID, Type, Severity and CVEs per advisory."""
    out: dict[str, VendorAdvisory] = {}
    title = ""
    current: VendorAdvisory | None = None
    last_key = ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("====="):
            # A title sits between two rule lines.
            if i + 2 < len(lines) and lines[i + 2].strip().startswith("====="):
                title = lines[i + 1].strip()
            current = None
            continue
        if ":" not in line or _is_noise(line):
            continue
        key, _, value = line.partition(":")
        key, value = key.strip() or last_key, value.strip()
        if key == "Update ID":
            current = out.setdefault(value, VendorAdvisory(value, "", title=title))
        elif current is not None and key == "Type":
            current.kind = value.lower()
        elif current is not None and key == "Severity":
            current.severity = parse_severity(value)
        elif current is not None and key == "CVEs":
            current.cves.extend(value.split())
        elif current is not None and key == "Reboot" and value.lower() not in ("", "none"):
            current.reboot = True
        last_key = key
    return out


def parse_dnf5_advisories(list_json: str, cve_json: str | None) -> list[VendorAdvisory]:
    """dnf5 ``advisory list --json`` (name, type, severity, nevra per package) and, optionally,
    ``advisory list --json --with-cve`` (advisory_name, references) for the CVEs."""
    try:
        rows = json.loads(list_json or "[]")
        cve_rows = json.loads(cve_json or "[]")
    except ValueError as exc:
        raise ParseError(f"dnf5 advisory output is not JSON: {exc}") from exc
    if not isinstance(rows, list) or not isinstance(cve_rows, list):
        raise ParseError("dnf5 advisory output is not a JSON array")
    by_id: dict[str, VendorAdvisory] = {}
    for row in rows:
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) for k in ("name", "type", "nevra")
        ):
            raise ParseError(f"unexpected dnf5 advisory row: {str(row)[:120]!r}")
        nevra = parse_nevra(row["nevra"])
        adv = by_id.setdefault(
            row["name"],
            VendorAdvisory(row["name"], row["type"].lower(), parse_severity(row.get("severity"))),
        )
        adv.packages[nevra.name] = nevra.evr
    for row in cve_rows:
        if not isinstance(row, dict) or not isinstance(row.get("advisory_name"), str):
            raise ParseError(f"unexpected dnf5 advisory row: {str(row)[:120]!r}")
        refs = row.get("references") or []
        if not isinstance(refs, list):
            raise ParseError("dnf5 advisory references are not a list")
        target = by_id.get(row["advisory_name"])
        for ref in refs:
            if not isinstance(ref, dict):
                raise ParseError("dnf5 advisory reference is not an object")
            if target is not None and ref.get("reference_type") == "cve":
                target.cves.append(str(ref.get("reference_id", "")))
    return list(by_id.values())


def parse_history_last_id(text: str) -> int | None:
    """The newest transaction id in ``dnf history list`` (dnf4 uses | columns, dnf5 spaces)."""
    ids = []
    for line in text.splitlines():
        first = line.replace("|", " ").split()[:1]
        if first and first[0].isdigit():
            ids.append(int(first[0]))
    return max(ids) if ids else None


class DnfDriver(Driver):
    name = "dnf"
    scheme = "rpm"
    self_packages = frozenset(
        {"dnf", "dnf5", "libdnf", "libdnf5", "python3-dnf", "python3-libdnf", "rpm", "rpm-libs"}
    )
    vendor = "rhel"
    _major: int | None = None

    async def major(self) -> int:
        if self._major is None:
            res = await self.run(self.cmd("dnf", "--version"))
            res.check(f"dnf --version on {self.where}")
            first = (res.stdout.strip().splitlines() or [""])[0]
            self._major = 5 if "dnf5" in first or first.startswith("5.") else 4
        return self._major

    async def dnf(self, *args: str) -> list[str]:
        five = await self.major() == 5
        opts = ["-y"]
        if self.options.root:
            opts.append(f"--installroot={validate_path(self.options.root)}")
        if self.options.releasever:
            opts.append(f"--releasever={self.options.releasever}")
        if self.options.reposdir:
            opts.append(f"--setopt=reposdir={validate_path(self.options.reposdir)}")
        if self.options.no_gpg_checks:
            opts.append("--no-gpgchecks" if five else "--nogpgcheck")
        if self.options.dnf_pluginpath:
            opts.append(f"--setopt=pluginpath={validate_path(self.options.dnf_pluginpath)}")
        if not self.options.dnf_plugins:
            opts.append("--no-plugins" if five else "--noplugins")
        return self.cmd("dnf", *opts, *args)

    def rpm(self, *args: str) -> list[str]:
        root = ["--root", validate_path(self.options.root)] if self.options.root else []
        return self.cmd("rpm", *root, *args)

    async def scan(self) -> list[Advisory]:
        refresh = ["--refresh"] if self.options.refresh else []
        verb = "check-upgrade" if await self.major() == 5 else "check-update"
        res = await self.run(await self.dnf(*refresh, verb), sudo=True)
        res.check(f"dnf {verb} on {self.where}", accept=(0, 100))
        candidates = parse_check_update(res.stdout)
        if not candidates:
            return []
        installed = await self.installed_versions(sorted(candidates))
        updates = {n: (installed.get(n) or "", evr) for n, (_arch, evr) in candidates.items()}
        return build_advisories(
            vendor=self.vendor, updates=updates, vendor_advisories=await self._advisories()
        )

    async def _advisories(self) -> list[VendorAdvisory]:
        if await self.major() == 5:
            plain = await self.run(await self.dnf("advisory", "list", "--json"), sudo=True)
            plain.check(f"dnf advisory list on {self.where}")
            cves = await self.run(
                await self.dnf("advisory", "list", "--json", "--with-cve"), sudo=True
            )
            cves.check(f"dnf advisory list --with-cve on {self.where}")
            return parse_dnf5_advisories(plain.stdout, cves.stdout)
        listing = await self.run(await self.dnf("updateinfo", "list"), sudo=True)
        listing.check(f"dnf updateinfo list on {self.where}")
        advisories = parse_updateinfo_list(listing.stdout)
        if advisories:
            info = await self.run(await self.dnf("updateinfo", "info"), sudo=True)
            info.check(f"dnf updateinfo info on {self.where}")
            details = parse_updateinfo_info(info.stdout)
            for adv in advisories:
                extra = details.get(adv.id)
                if extra is not None:
                    adv.title, adv.cves, adv.reboot = extra.title, extra.cves, extra.reboot
                    adv.severity = extra.severity if extra.severity else adv.severity
        return advisories

    async def installed_versions(self, names: Sequence[str]) -> dict[str, str | None]:
        for name in names:
            validate_name("rpm", name)
        res = await self.run(self.rpm("-q", "--qf", RPM_QUERY_FORMAT, "--", *names))
        if res.exit_code < 0 or res.exit_code > len(names):  # rpm exits with the number missing
            res.check(f"rpm -q on {self.where}")
        found = parse_rpm_query(res.stdout)
        return {name: found.get(name) for name in names}

    async def install_fixes(self, fixes: Sequence[PackageFix]) -> str:
        specs = [f"{f.name}-{f.fixed_version}" for f in fixes]
        res = await self.run(
            await self.dnf("upgrade", "--", *specs), sudo=True, timeout=self.options.install_timeout
        )
        res.check(f"dnf upgrade on {self.where}")
        return res.stdout[-4000:]

    async def reboot_required(self) -> bool:
        res = await self.run(await self.dnf("needs-restarting", "-r"), sudo=True)
        text = res.stdout + res.stderr
        if "No such command" in text or "Unknown argument" in text or res.exit_code == 2:
            return await self._kernel_changed()
        return res.exit_code == 1

    async def _kernel_changed(self) -> bool:
        """Without the needs-restarting plugin: is a newer kernel installed than the running one?"""
        uname = await self.run(["uname", "-r"])
        kernels = await self.installed_versions(["kernel-core", "kernel"])
        newest = [v for v in kernels.values() if v]
        if not newest:
            return False
        best = max(newest, key=cmp_to_key(compare_evr))
        return not uname.stdout.strip().startswith(best.split(":")[-1])

    async def after_install(self, folder: str, manifest: dict[str, Any]) -> dict[str, Any]:
        res = await self.run(await self.dnf("history", "list"), sudo=True)
        if res.ok:
            manifest = {**manifest, "transaction": parse_history_last_id(res.stdout)}
        return manifest

    async def rollback_to(self, folder: str, manifest: dict[str, Any]) -> str:
        logs = []
        transaction = manifest.get("transaction")
        if isinstance(transaction, int) and transaction > manifest.get("transaction_before", 0):
            res = await self.run(
                await self.dnf("history", "undo", str(transaction)),
                sudo=True,
                timeout=self.options.install_timeout,
            )
            logs.append(res.stdout[-2000:])
            if res.ok:
                return "\n".join(logs)
            logs.append(f"history undo {transaction} failed: {res.error_tail()}")
        previous = {n: v for n, v in dict(manifest["previous"]).items() if v}
        if not previous:
            raise PatchFailed(f"nothing recorded to roll back to on {self.where}")
        specs = [f"{validate_name('rpm', n)}-{v}" for n, v in sorted(previous.items())]
        res = await self.run(
            await self.dnf("downgrade", "--", *specs),
            sudo=True,
            timeout=self.options.install_timeout,
        )
        res.check(f"dnf downgrade on {self.where}")
        logs.append(res.stdout[-2000:])
        return "\n".join(logs)

    async def capture_rollback(self, folder: str, fixes: Sequence[PackageFix]) -> dict[str, Any]:
        manifest = await super().capture_rollback(folder, fixes)
        res = await self.run(await self.dnf("history", "list"), sudo=True)
        before = parse_history_last_id(res.stdout) if res.ok else None
        return {**manifest, "transaction_before": before or 0}
