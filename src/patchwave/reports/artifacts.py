"""What the Prefect UI shows for a run and for the fleet: plain data (markdown text, table rows,
keys) that ``tasks/report.py`` publishes as artifacts. No Prefect import here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from patchwave.reports.compliance import FleetCompliance, tenant_rows
from patchwave.reports.fmt import hours, number, pct, period
from patchwave.reports.run import RunMetrics

TABLE_CAP = 1000
PROBLEM_STATES = ("failed", "rolled_back", "rolling_back")


@dataclass(frozen=True, slots=True)
class MarkdownArtifact:
    key: str
    markdown: str
    description: str


@dataclass(frozen=True, slots=True)
class TableArtifact:
    key: str
    rows: list[dict[str, Any]]
    description: str


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


def _cell(value: Any) -> str:
    # A pipe or a newline in a markdown table cell would break the table.
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def run_summary_markdown(m: RunMetrics, html_path: str | Path | None) -> str:
    """The run in a screen: status, totals, rings, clients, top failure reasons, the report."""
    o = m.msp
    head = f"# Campaign `{m.campaign}` · run `{m.run_id}` · **{m.status}**"
    when = period(m.started_at or m.created_at, m.finished_at, "UTC")
    parts = [head, f"{when} · requested by {m.requested_by}" + (" · dry run" if m.dry_run else "")]
    parts.append(
        _table(
            [
                "In scope",
                "Patched",
                "Failed",
                "Skipped",
                "Rolled back",
                "Deferred",
                "Compliance",
                "SLA met",
                "Time to patch (median)",
            ],
            [
                [
                    number(o.hosts_in_scope),
                    number(o.succeeded),
                    number(o.failed),
                    number(o.skipped),
                    number(o.rolled_back),
                    number(o.deferred),
                    f"{pct(o.compliance_before)} → {pct(o.compliance_after)}",
                    pct(o.sla_met_rate),
                    hours(o.ttp_median_hours),
                ]
            ],
        )
    )
    ring_rows = []
    for r in m.rings:
        gate = "—"
        if r.gate:
            gate = f"{'promote' if r.gate.promote else 'halt'} ({pct(r.gate.success_rate)})"
        c = r.counts
        ring_rows.append(
            [
                r.name,
                r.status + (", rolled back" if r.rolled_back else ""),
                number(r.hosts),
                number(c.succeeded if c else 0),
                number(c.failed if c else 0),
                gate,
            ]
        )
    parts += [
        "## Rings",
        _table(["Ring", "Status", "Hosts", "Patched", "Failed", "Gate"], ring_rows),
    ]
    parts += [
        "## Clients",
        _table(
            [
                "Client",
                "In scope",
                "Patched",
                "Failed",
                "Deferred",
                "Rolled back",
                "Compliance",
                "Overdue",
            ],
            [
                [
                    t.name,
                    number(t.outcome.hosts_in_scope),
                    number(t.outcome.succeeded),
                    number(t.outcome.failed),
                    number(t.outcome.deferred),
                    number(t.outcome.rolled_back),
                    f"{pct(t.outcome.compliance_before)} → {pct(t.outcome.compliance_after)}",
                    number(t.outcome.overdue_open),
                ]
                for t in m.tenants
            ],
        ),
    ]
    if o.failures:
        parts.append("## Top failure reasons")
        parts += [
            f"- **{_cell(g.reason)}**{f' (at {g.step})' if g.step else ''}: {number(g.count)} "
            f"host{'s' if g.count != 1 else ''}"
            for g in o.failures[:5]
        ]
    if html_path:
        path = Path(html_path)
        parts.append(f"Report: [{path.name}]({path.resolve().as_uri()}) (`{path}`)")
    return "\n\n".join(parts) + "\n"


def host_outcome_rows(jobs: pd.DataFrame, cap: int = TABLE_CAP) -> list[dict[str, Any]]:
    """One row per host job, problems first (failed, rolled back), at most ``cap`` rows."""
    if jobs.empty:
        return []
    problem = ~jobs["state"].isin(PROBLEM_STATES)  # False sorts first
    ordered = jobs.assign(_p=problem).sort_values(["_p", "tenant", "ring_index", "host"]).head(cap)
    return [
        {
            "tenant": tenant,
            "host": host,
            "ring": ring,
            "wave": int(wave),
            "state": state,
            "patches": len(patches),
            "installed": len(installed),
            "failed_step": step or "",
            "error": error or "",
        }
        for tenant, host, ring, wave, state, patches, installed, step, error in zip(
            ordered["tenant"],
            ordered["host"],
            ordered["ring"],
            ordered["wave"],
            ordered["state"],
            ordered["patches"],
            ordered["installed"],
            ordered["failed_step"],
            ordered["error"],
            strict=True,
        )
    ]


def run_artifacts(
    m: RunMetrics, jobs: pd.DataFrame, html_path: str | Path | None
) -> tuple[MarkdownArtifact, TableArtifact]:
    """The run's summary (markdown) and host-outcome table, with their keys."""
    rows = host_outcome_rows(jobs)
    shown = (
        f"the first {number(len(rows))} of {number(len(jobs))}" if len(rows) < len(jobs) else "all"
    )
    return (
        MarkdownArtifact(
            artifact_key("campaign", m.run_id, "summary"),
            run_summary_markdown(m, html_path),
            f"Outcome of campaign {m.campaign}, run {m.run_id}",
        ),
        TableArtifact(
            artifact_key("campaign", m.run_id, "hosts"),
            rows,
            f"Host outcomes of run {m.run_id}: {shown} host jobs, failures first",
        ),
    )


def compliance_artifacts(
    fleet: FleetCompliance, html_path: str | Path | None
) -> tuple[MarkdownArtifact, TableArtifact]:
    """The fleet compliance summary (markdown) and one table row per tenant."""
    a = fleet.all
    lines = [
        f"# Fleet compliance · {fleet.generated_at:%Y-%m-%d %H:%M} UTC",
        f"**{pct(a.compliance)}** of {number(a.hosts)} hosts compliant · open P1 "
        f"{number(a.open_by_tier['P1'])}, P2 {number(a.open_by_tier['P2'])} · KEV open "
        f"{number(a.kev_open)} · overdue {number(a.overdue)} · SLA met (30 days) "
        f"{pct(a.sla_met_rate_30d)}",
    ]
    worst = sorted(fleet.tenants, key=lambda t: t.compliance if t.compliance is not None else 2.0)
    if worst:
        lines += [
            "## Least compliant clients",
            _table(
                ["Client", "Compliant", "KEV open", "Overdue", "Hosts in trouble"],
                [
                    [
                        t.name,
                        pct(t.compliance),
                        number(t.kev_open),
                        number(t.overdue),
                        number(t.trouble_total),
                    ]
                    for t in worst[:10]
                ],
            ),
        ]
    if html_path:
        path = Path(html_path)
        lines.append(f"Report: [{path.name}]({path.resolve().as_uri()}) (`{path}`)")
    return (
        MarkdownArtifact(
            "fleet-compliance-summary", "\n\n".join(lines) + "\n", "Fleet compliance now"
        ),
        TableArtifact("fleet-compliance-tenants", tenant_rows(fleet), "Compliance per client"),
    )
