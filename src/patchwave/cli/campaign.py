"""``patchwave campaign ...``: campaign files. ``validate`` lives here; the campaign flow adds
``plan``, ``run`` and ``resume`` to the same ``campaign_app``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patchwave.cli.common import app, console, handle_errors
from patchwave.errors import CampaignSpecError
from patchwave.spec import CampaignSpec, format_duration, load_campaign, spec_hash

campaign_app = typer.Typer(
    help="Campaign files (campaigns/*.yaml): check them before they run.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("validate")
@handle_errors
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Campaign YAML files to check.", show_default=False)
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only report problems.")] = False,
) -> None:
    """Check campaign files and summarise what each would do; exit 2 on any problem."""
    problems: list[str] = []
    for path in files:
        try:
            spec = load_campaign(path)
        except CampaignSpecError as exc:
            problems.append(str(exc))
            continue
        if not quiet:
            print_summary(spec, path)
    if problems:
        # Every file is checked before failing so one run shows all the problems.
        raise CampaignSpecError("\n".join(problems))


def print_summary(spec: CampaignSpec, path: Path | None = None) -> None:
    """A short, readable summary of a validated campaign."""
    where = f" [dim]({path})[/]" if path else ""
    console.print(
        f"[bold green]ok[/] [bold]{spec.name}[/] ({spec.kind.value}, owner {spec.owner}){where}"
        f"  [dim]sha256 {spec_hash(spec)[:12]}[/]",
        highlight=False,
        soft_wrap=True,
    )
    if spec.description:
        console.print(f"  {spec.description}", highlight=False, soft_wrap=True)
    console.print(f"  scope: {_scope(spec)}", highlight=False, soft_wrap=True)
    console.print(f"  patches: {_patches(spec)}", highlight=False, soft_wrap=True)
    console.print(f"  window: {_window(spec)}", highlight=False, soft_wrap=True)
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 2))
    for column in ("ring", "hosts", "gate", "approval"):
        table.add_column(column)
    for ring in spec.rings:
        table.add_row(
            ring.name, ring.select.describe(), ring.gate.describe(), ring.approval.describe()
        )
    console.print(table)
    console.print(f"  deployment: {_deployment(spec)}", highlight=False, soft_wrap=True)


def _scope(spec: CampaignSpec) -> str:
    scope = spec.scope
    parts = ["all tenants" if scope.tenants == "all" else "tenants " + ", ".join(scope.tenants)]
    if scope.sites:
        parts.append("sites " + ", ".join(scope.sites))
    if scope.include_tags:
        parts.append("tags " + ", ".join(scope.include_tags))
    if scope.exclude_tags:
        parts.append("not " + ", ".join(scope.exclude_tags))
    if scope.hosts:
        parts.append(f"{len(scope.hosts)} named host(s)")
    if scope.os_families:
        parts.append("os " + ", ".join(scope.os_families))
    if scope.connectors:
        parts.append("via " + ", ".join(scope.connectors))
    return "; ".join(parts)


def _patches(spec: CampaignSpec) -> str:
    patches = spec.patches
    if patches.kev_only:
        text = "CISA KEV only"
    else:
        text = f"{', '.join(patches.classifications)} at {patches.min_tier} or more urgent"
        if patches.always_include_kev:
            text += ", plus every KEV"
    if patches.include:
        text += "; include " + ", ".join(patches.include)
    if patches.exclude:
        text += "; exclude " + ", ".join(patches.exclude)
    if patches.packages:
        text += "; packages " + ", ".join(patches.packages)
    return text


def _window(spec: CampaignSpec) -> str:
    windows = spec.windows
    if windows.ignore:
        return f"[bold yellow]ignored[/] ({windows.reason})"
    origin = "defined here" if windows.default in spec.calendars else "shipped"
    override = ", hosts' own calendars win" if windows.host_override else ""
    return f"{windows.default} ({origin}{override})"


def _deployment(spec: CampaignSpec) -> str:
    d = spec.deployment
    c = d.concurrency
    limits = f"concurrency {c.per_campaign}/campaign, {c.per_site}/site"
    if c.per_tenant:
        limits += f", {c.per_tenant}/tenant"
    return (
        f"{limits}; waves of {d.effective_wave_size}; stop a wave above "
        f"{d.max_fail_percentage:g}% failures; timeout {format_duration(d.host_timeout)}, "
        f"retries {d.retries.count}; reboot {d.reboot.value}; on gate failure "
        f"{d.on_gate_failure.value}"
    )
