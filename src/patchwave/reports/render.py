"""HTML rendering: Jinja2 with StrictUndefined and autoescape, one self-contained file per report
(CSS inline, no scripts, no external assets) that prints on A4."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from patchwave import __version__
from patchwave.errors import NotFound
from patchwave.reports.compliance import FleetCompliance
from patchwave.reports.fmt import FILTERS, GLOBALS
from patchwave.reports.run import RunMetrics


def template_dir() -> Path:
    """``templates/report`` at the top of the checkout (templates are data, outside the package)."""
    return Path(__file__).resolve().parents[3] / "templates" / "report"


@lru_cache(maxsize=4)
def environment(directory: Path | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(directory or template_dir())),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    env.globals["version"] = __version__
    return env


def available_templates(directory: Path | None = None) -> list[str]:
    root = directory or template_dir()
    return sorted(p.name.removesuffix(".html.j2") for p in root.glob("[!_]*.html.j2"))


def render(template: str, *, directory: Path | None = None, **context: Any) -> str:
    """Render ``templates/report/<template>.html.j2``; NotFound names the shipped templates."""
    try:
        tpl = environment(directory).get_template(f"{template}.html.j2")
    except TemplateNotFound as exc:
        shipped = ", ".join(available_templates(directory))
        raise NotFound(
            f"report template {template!r} is not in {directory or template_dir()} "
            f"(shipped: {shipped}); set report.template in the campaign file to one of them"
        ) from exc
    return tpl.render(**context)


def render_run_html(metrics: RunMetrics, *, msp_name: str, template: str = "client-monthly") -> str:
    """The run report as one HTML page (the MSP view, or a client's when metrics.client is set)."""
    return render(template, m=metrics, msp_name=msp_name)


def render_compliance_html(fleet: FleetCompliance, *, msp_name: str) -> str:
    """The fleet compliance report; a one-tenant report is that client's own."""
    client = fleet.tenants[0] if len(fleet.tenants) == 1 else None
    return render("fleet-compliance", f=fleet, client=client, msp_name=msp_name)
