"""Writing a run's report files: ``<report dir>/<run id>/{report.html, jobs.csv, metrics.json}``,
and one HTML per client under ``clients/<tenant>.html`` that shows only that client."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import update

from patchwave.reports.compliance import (
    FleetCompliance,
    build_fleet_compliance,
    load_fleet,
    tenant_rows,
)
from patchwave.reports.fmt import zone
from patchwave.reports.load import load_run
from patchwave.reports.records import RunData
from patchwave.reports.render import render_compliance_html, render_run_html
from patchwave.reports.run import RunMetrics, build_run_metrics
from patchwave.settings import get_settings
from patchwave.store import Store
from patchwave.store.tables import CampaignRunRow

Format = Literal["html", "csv", "json"]
FORMATS: tuple[Format, ...] = ("html", "csv", "json")
CSV_COLUMNS = (
    "tenant",
    "site",
    "host",
    "ring",
    "wave",
    "state",
    "patches",
    "installed",
    "failed_step",
    "error",
    "started",
    "finished",
    "rebooted",
)


@dataclass(slots=True)
class ReportFiles:
    directory: Path
    html: Path | None = None
    csv: Path | None = None
    json: Path | None = None
    clients: dict[str, Path] = field(default_factory=dict)
    metrics: RunMetrics | None = None


def jobs_table(data: RunData) -> pd.DataFrame:
    """One row per host job (CSV_COLUMNS); times in ISO 8601 in the tenant's own zone."""
    jobs = data.jobs
    out = pd.DataFrame(
        {
            "tenant": jobs["tenant"],
            "site": jobs["site"],
            "host": jobs["host"],
            "ring": jobs["ring"],
            "wave": jobs["wave"],
            "state": jobs["state"],
            "patches": jobs["patches"].map(" ".join),
            "installed": jobs["installed"].map(" ".join),
            "failed_step": jobs["failed_step"],
            "error": jobs["error"],
            "started": "",
            "finished": "",
            "rebooted": jobs["rebooted"].map({True: "yes", False: "no"}),
        }
    )
    for slug, idx in jobs.groupby("tenant").groups.items():
        tz = zone(data.tenants[str(slug)].timezone) if str(slug) in data.tenants else zone("UTC")
        for src, dst in (("started_at", "started"), ("finished_at", "finished")):
            local = jobs.loc[idx, src].dt.tz_convert(tz)
            out.loc[idx, dst] = local.map(lambda t: "" if pd.isna(t) else t.isoformat())
    return out[list(CSV_COLUMNS)]


def report_dir(run_id: str, out_dir: Path | None = None) -> Path:
    return (out_dir or get_settings().effective_report_dir) / run_id


def write_run_report(
    store: Store,
    run_id: str,
    *,
    out_dir: Path | None = None,
    formats: Sequence[Format] = FORMATS,
    tenant: str | None = None,
    clients: bool = False,
    msp_name: str | None = None,
    now: datetime | None = None,
) -> ReportFiles:
    """Write the report of ``run_id`` in ``formats`` under ``<out_dir>/<run_id>/``.

    Args:
        tenant: a client's report only (files go to ``<run_id>/<tenant>/``).
        clients: also write ``clients/<tenant>.html`` for every tenant of the run.
        msp_name: the MSP named in the header (default: the msp_name setting).
    """
    with store.session() as session:
        data = load_run(session, run_id, now=now)
    directory = report_dir(run_id, out_dir)
    if tenant is not None:
        directory = directory / tenant
    directory.mkdir(parents=True, exist_ok=True)
    msp = msp_name or get_settings().msp_name
    template = str((data.run.spec.get("report") or {}).get("template") or "client-monthly")
    metrics = build_run_metrics(data, tenant=tenant)
    files = ReportFiles(directory=directory, metrics=metrics)
    if "html" in formats:
        files.html = directory / "report.html"
        files.html.write_text(
            render_run_html(metrics, msp_name=msp, template=template), encoding="utf-8"
        )
    if "csv" in formats:
        table = jobs_table(data)
        if tenant is not None:
            table = table[table["tenant"] == tenant]
        files.csv = directory / "jobs.csv"
        table.to_csv(files.csv, index=False)
    if "json" in formats:
        files.json = directory / "metrics.json"
        files.json.write_text(
            json.dumps(metrics.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    if clients and tenant is None and "html" in formats:
        (directory / "clients").mkdir(exist_ok=True)
        for slug in sorted(data.tenants):
            path = directory / "clients" / f"{slug}.html"
            client = build_run_metrics(data, tenant=slug)
            path.write_text(render_run_html(client, msp_name=msp, template=template), "utf-8")
            files.clients[slug] = path
    return files


def record_report_path(store: Store, run_id: str, path: Path) -> None:
    """Remember where the run's report is (campaign_runs.report_path)."""
    with store.session() as session:
        session.execute(
            update(CampaignRunRow)
            .where(CampaignRunRow.id == run_id)
            .values(report_path=str(path.resolve()))
        )


@dataclass(slots=True)
class ComplianceFiles:
    directory: Path
    html: Path
    json: Path
    csv: Path
    fleet: FleetCompliance


def write_compliance_report(
    store: Store,
    *,
    tenants: Sequence[str] | None = None,
    out_dir: Path | None = None,
    msp_name: str | None = None,
    now: datetime | None = None,
) -> ComplianceFiles:
    """Write the fleet compliance report to ``<out_dir>/compliance/<UTC time>/``."""
    with store.session() as session:
        data = load_fleet(session, tenants=list(tenants) if tenants else None, now=now)
    fleet = build_fleet_compliance(data)
    base = (out_dir or get_settings().effective_report_dir) / "compliance"
    directory = base / f"{fleet.generated_at:%Y%m%d-%H%M%S}"
    if tenants and len(tenants) == 1:
        directory = directory.with_name(f"{directory.name}-{tenants[0]}")
    directory.mkdir(parents=True, exist_ok=True)
    html = directory / "report.html"
    html.write_text(
        render_compliance_html(fleet, msp_name=msp_name or get_settings().msp_name), "utf-8"
    )
    metrics = directory / "metrics.json"
    metrics.write_text(json.dumps(fleet.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    csv = directory / "tenants.csv"
    pd.DataFrame(tenant_rows(fleet)).to_csv(csv, index=False)
    return ComplianceFiles(directory, html, metrics, csv, fleet)
