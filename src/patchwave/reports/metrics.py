"""Run-report numbers for one set of hosts (the whole run, or one tenant): pandas in, plain data
out. What each number means is in ``definitions.py`` and in every report's footer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

HIGH_TIERS = ("P1", "P2")
TERMINAL = ("succeeded", "failed", "skipped", "rolled_back")
UNREACHABLE_STEPS = ("connect",)
LIST_CAP = 50  # hosts listed per group / list in the HTML; the CSV has every host
OVERDUE_CAP = 25


@dataclass(frozen=True, slots=True)
class ReasonGroup:
    """Hosts that failed (or were skipped) for the same reason."""

    step: str | None
    reason: str
    count: int
    hosts: list[str]
    more: int


@dataclass(frozen=True, slots=True)
class JobLine:
    host: str
    site: str
    ring: str
    state: str
    detail: str
    when: datetime | None = None
    deferrals: int = 0


@dataclass(frozen=True, slots=True)
class OverdueLine:
    host: str
    advisory: str
    tier: str
    kev: bool
    deadline: datetime
    days_overdue: int


@dataclass(frozen=True, slots=True)
class RingCount:
    ring: str
    index: int
    hosts: int
    succeeded: int
    failed: int
    skipped: int
    rolled_back: int
    in_progress: int


@dataclass(slots=True)
class Outcome:
    """Numbers and lists for a set of hosts. Fractions are 0..1; None when there is no data."""

    hosts_in_scope: int = 0
    hosts_with_jobs: int = 0
    nothing_to_patch: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    rolled_back: int = 0
    in_progress: int = 0
    deferred: int = 0
    deferred_waiting: int = 0
    unreachable: int = 0
    rebooted: int = 0
    patches_planned: int = 0
    patches_installed: int = 0
    compliant_before: int = 0
    compliant_after: int = 0
    compliance_before: float | None = None
    compliance_after: float | None = None
    findings_in_campaign: int = 0
    findings_resolved: int = 0
    patch_compliance_before: float | None = None
    patch_compliance_after: float | None = None
    resolved_in_run: int = 0
    ttp_median_hours: float | None = None
    ttp_p90_hours: float | None = None
    sla_met: int = 0
    sla_met_rate: float | None = None
    overdue_open: int = 0
    kev_open_after: int = 0
    hosts_missing_kev: int = 0
    rings: list[RingCount] = field(default_factory=list)
    failures: list[ReasonGroup] = field(default_factory=list)
    skips: list[ReasonGroup] = field(default_factory=list)
    deferred_hosts: list[JobLine] = field(default_factory=list)
    rolled_back_hosts: list[JobLine] = field(default_factory=list)
    trouble: list[JobLine] = field(default_factory=list)
    trouble_total: int = 0
    overdue: list[OverdueLine] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.rolled_back


def open_at(findings: pd.DataFrame, t: datetime) -> pd.Series:
    """Findings open at instant ``t``: first seen by then and not resolved by then."""
    ts = pd.Timestamp(t)
    return (findings["first_seen"] <= ts) & (
        findings["resolved_at"].isna() | (findings["resolved_at"] > ts)
    )


def noncompliant_hosts(findings: pd.DataFrame, t: datetime) -> set[int]:
    """Hosts with an open P1/P2 or KEV finding at ``t``."""
    serious = findings["tier"].isin(HIGH_TIERS) | findings["kev"]
    return {int(h) for h in findings.loc[open_at(findings, t) & serious, "host_id"].unique()}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _label(frame: pd.DataFrame, with_tenant: bool) -> pd.Series:
    if with_tenant:
        return frame["tenant"] + "/" + frame["host"]
    return frame["host"].astype(str)


def _groups(jobs: pd.DataFrame, with_tenant: bool, *, with_step: bool) -> list[ReasonGroup]:
    if jobs.empty:
        return []
    frame = jobs.assign(
        label=_label(jobs, with_tenant),
        step=jobs["failed_step"].fillna("") if with_step else "",
        reason=jobs["error"].fillna("no reason recorded"),
    )
    out = []
    for (step, reason), group in frame.groupby(["step", "reason"], sort=False):
        names = sorted(group["label"])
        out.append(
            ReasonGroup(
                step=str(step) or None,
                reason=str(reason),
                count=len(names),
                hosts=names[:LIST_CAP],
                more=max(0, len(names) - LIST_CAP),
            )
        )
    out.sort(key=lambda g: (-g.count, g.step or "", g.reason))
    return out


def _when(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _lines(frame: pd.DataFrame, with_tenant: bool, detail: pd.Series, when: str) -> list[JobLine]:
    labels = _label(frame, with_tenant)
    return [
        JobLine(
            host=str(label),
            site=str(site),
            ring=str(ring),
            state=str(state),
            detail=str(text),
            when=_when(at),
            deferrals=int(deferrals),
        )
        for label, site, ring, state, text, at, deferrals in zip(
            labels,
            frame["site"],
            frame["ring"],
            frame["state"],
            detail,
            frame[when],
            frame["deferrals"],
            strict=True,
        )
    ]


def _ring_counts(jobs: pd.DataFrame) -> list[RingCount]:
    out = []
    for (index, ring), group in jobs.groupby(["ring_index", "ring"], sort=True):
        states = group["state"].value_counts()
        done = {s: int(states.get(s, 0)) for s in TERMINAL}
        out.append(
            RingCount(
                ring=str(ring),
                index=int(index),  # type: ignore[call-overload]
                hosts=len(group),
                in_progress=len(group) - sum(done.values()),
                **done,
            )
        )
    return out


@dataclass(slots=True)
class Prepared:
    """Findings and campaign patches annotated once for the whole run, then split per tenant."""

    findings: pd.DataFrame  # + open_before, open_after, serious, overdue
    pairs: pd.DataFrame  # one row per (host, planned patch): resolved, in_run, ttp_hours, sla_met


def prepare(
    jobs: pd.DataFrame, findings: pd.DataFrame, *, baseline: datetime, end: datetime
) -> Prepared:
    """Annotate findings (open before/after, serious, overdue) and the campaign's planned
    patches (resolved by the end, during the run, time to patch, SLA met)."""
    end_ts, base_ts = pd.Timestamp(end), pd.Timestamp(baseline)
    f = findings.assign(
        open_before=open_at(findings, baseline),
        open_after=open_at(findings, end),
        serious=findings["tier"].isin(HIGH_TIERS) | findings["kev"],
    )
    f["days_overdue"] = (end_ts.floor("D") - f["deadline"]).dt.days
    f["overdue"] = f["open_after"] & (f["days_overdue"] > 0)
    cols = ["host_id", "tenant", "patches", "installed"]
    pairs = jobs[cols].explode("patches").dropna(subset=["patches"])
    pairs = pairs.rename(columns={"patches": "advisory_id"})
    pairs = pairs.merge(
        findings[["host_id", "advisory_id", "first_seen", "resolved_at", "deadline"]],
        on=["host_id", "advisory_id"],
        how="left",
    ).drop_duplicates(["host_id", "advisory_id"])
    known = pairs["first_seen"].notna()
    by_end = pairs["resolved_at"].notna() & (pairs["resolved_at"] <= end_ts)
    resolved = by_end.copy()
    unknown = pairs[~known]
    if not unknown.empty:
        # A planned patch with no finding row in the window: trust the job's installed list.
        fallback = [
            adv in inst
            for adv, inst in zip(unknown["advisory_id"], unknown["installed"], strict=True)
        ]
        resolved.loc[unknown.index] = pd.Series(fallback, index=unknown.index, dtype=bool)
    pairs["resolved"] = resolved
    pairs["resolved_before"] = pairs["resolved_at"].notna() & (pairs["resolved_at"] <= base_ts)
    pairs["in_run"] = by_end & (pairs["resolved_at"] > base_ts)
    pairs["ttp_hours"] = (pairs["resolved_at"] - pairs["first_seen"]).dt.total_seconds() / 3600
    pairs["sla_met"] = pairs["resolved_at"].dt.floor("D") <= pairs["deadline"]
    return Prepared(f, pairs.drop(columns=["installed"]))


def compute_outcome(
    *,
    scope: pd.DataFrame,
    jobs: pd.DataFrame,
    findings: pd.DataFrame,
    pairs: pd.DataFrame,
    with_tenant: bool,
) -> Outcome:
    """Every number of the report for one set of hosts: ``scope`` and their jobs, findings and
    planned patches, annotated by ``prepare``."""
    out = Outcome(hosts_in_scope=len(scope), hosts_with_jobs=len(jobs))
    out.nothing_to_patch = int((~scope["host_id"].isin(jobs["host_id"])).sum())
    states = jobs["state"].value_counts()
    out.succeeded = int(states.get("succeeded", 0))
    out.failed = int(states.get("failed", 0))
    out.skipped = int(states.get("skipped", 0))
    out.rolled_back = int(states.get("rolled_back", 0))
    out.in_progress = len(jobs) - out.finished
    terminal = jobs["state"].isin(TERMINAL)
    deferred = (jobs["deferrals"] > 0) | jobs["not_before"].notna()
    out.deferred = int(deferred.sum())
    out.deferred_waiting = int((deferred & ~terminal).sum())
    failed = jobs[jobs["state"] == "failed"]
    out.unreachable = int(failed["failed_step"].isin(UNREACHABLE_STEPS).sum())
    out.rebooted = int(jobs["rebooted"].sum())
    out.patches_planned = int(jobs["patches"].map(len).sum())
    out.patches_installed = int(jobs["installed"].map(len).sum())
    out.rings = _ring_counts(jobs)

    n = len(scope)
    in_scope = findings["host_id"].isin(scope["host_id"])
    for when in ("before", "after"):
        bad = findings.loc[in_scope & findings[f"open_{when}"] & findings["serious"], "host_id"]
        setattr(out, f"compliant_{when}", n - int(bad.nunique()))
    out.compliance_before = _ratio(out.compliant_before, n)
    out.compliance_after = _ratio(out.compliant_after, n)

    _patch_numbers(out, pairs)
    _overdue(out, scope, findings, with_tenant=with_tenant)

    out.failures = _groups(failed, with_tenant, with_step=True)
    out.skips = _groups(jobs[jobs["state"] == "skipped"], with_tenant, with_step=False)
    dj = jobs[deferred].sort_values(["not_before", "tenant", "host"], na_position="last")
    detail = dj["state"].where(~dj["state"].isin(TERMINAL), "done: " + dj["state"])
    out.deferred_hosts = _lines(dj.head(LIST_CAP), with_tenant, detail.head(LIST_CAP), "not_before")
    rb = jobs[jobs["state"].isin(("rolled_back", "rolling_back"))]
    out.rolled_back_hosts = _lines(rb, with_tenant, rb["error"].fillna(""), "finished_at")
    _trouble(out, scope, jobs, findings, with_tenant=with_tenant)
    return out


def _patch_numbers(out: Outcome, pairs: pd.DataFrame) -> None:
    total = len(pairs)
    if not total:
        return
    out.findings_in_campaign = total
    out.findings_resolved = int(pairs["resolved"].sum())
    out.patch_compliance_before = _ratio(int(pairs["resolved_before"].sum()), total)
    out.patch_compliance_after = _ratio(out.findings_resolved, total)
    in_run = pairs[pairs["in_run"]]
    out.resolved_in_run = len(in_run)
    if not in_run.empty:
        out.ttp_median_hours = float(in_run["ttp_hours"].median())
        out.ttp_p90_hours = float(in_run["ttp_hours"].quantile(0.9))
        out.sla_met = int(in_run["sla_met"].sum())
        out.sla_met_rate = _ratio(out.sla_met, len(in_run))


def _overdue(
    out: Outcome, scope: pd.DataFrame, findings: pd.DataFrame, *, with_tenant: bool
) -> None:
    mine = findings[findings["host_id"].isin(scope["host_id"])]
    late = mine[mine["overdue"]]
    out.overdue_open = len(late)
    kev = mine[mine["open_after"] & mine["kev"]]
    out.kev_open_after = len(kev)
    out.hosts_missing_kev = int(kev["host_id"].nunique())
    if late.empty:
        return
    # "P1" < "P2" < ...: the most urgent tier first, then the oldest deadline.
    top = late.sort_values(["tier", "deadline", "host_id", "advisory_id"]).head(OVERDUE_CAP)
    names = scope.set_index("host_id")
    top = top.drop(columns=["tenant"], errors="ignore").join(names, on="host_id")
    labels = _label(top, with_tenant)
    out.overdue = [
        OverdueLine(
            host=str(label),
            advisory=str(adv),
            tier=str(tier),
            kev=bool(kev_flag),
            deadline=pd.Timestamp(deadline).to_pydatetime(),
            days_overdue=int(days),
        )
        for label, adv, tier, kev_flag, deadline, days in zip(
            labels,
            top["advisory_id"],
            top["tier"],
            top["kev"],
            top["deadline"],
            top["days_overdue"],
            strict=True,
        )
    ]


def _trouble(
    out: Outcome,
    scope: pd.DataFrame,
    jobs: pd.DataFrame,
    findings: pd.DataFrame,
    *,
    with_tenant: bool,
) -> None:
    """Hosts that need someone: failed, unreachable, rolled back, or still missing a KEV patch."""
    problems: dict[int, list[str]] = {}
    for hid, state, step, error in zip(
        jobs["host_id"], jobs["state"], jobs["failed_step"], jobs["error"], strict=True
    ):
        why = str(error) if isinstance(error, str) and error else "no reason recorded"
        if state == "failed":
            what = "unreachable" if step in UNREACHABLE_STEPS else f"failed at {step or 'unknown'}"
            text = why if what in why.lower() else f"{what}: {why}"
            problems.setdefault(int(hid), []).append(text)
        elif state in ("rolled_back", "rolling_back"):
            text = str(state).replace("_", " ") + (f" after: {error}" if why == error else "")
            problems.setdefault(int(hid), []).append(text)
    mine = findings["host_id"].isin(scope["host_id"])
    broken = set(problems)  # failed or rolled back: first in the list
    kev = findings[mine & findings["open_after"] & findings["kev"]]
    kev_count: dict[int, int] = {}
    counts = kev["host_id"].value_counts()
    for hid, count in zip(counts.index, counts.to_numpy(), strict=True):
        noun = "patch" if count == 1 else "patches"
        kev_count[int(hid)] = int(count)
        problems.setdefault(int(hid), []).append(f"still missing {count} KEV {noun}")
    out.trouble_total = len(problems)
    if not problems:
        return
    # Failed or rolled back before KEV-only; more problems first; then more KEV patches missing.
    ordered = sorted(
        problems,
        key=lambda h: (h not in broken, -len(problems[h]), -kev_count.get(h, 0), h),
    )[:LIST_CAP]
    picked = scope[scope["host_id"].isin(ordered)]
    where = {
        int(h): (str(t), str(s), str(n))
        for h, t, s, n in zip(
            picked["host_id"], picked["tenant"], picked["site"], picked["host"], strict=True
        )
    }
    held = jobs[jobs["host_id"].isin(ordered)]
    job_of = {
        int(h): (str(r), str(s))
        for h, r, s in zip(held["host_id"], held["ring"], held["state"], strict=True)
    }
    lines = []
    for hid in ordered:
        tenant, site, name = where.get(hid, ("", "", f"host #{hid}"))
        ring, state = job_of.get(hid, ("", "no job"))
        label = f"{tenant}/{name}" if with_tenant else name
        lines.append(JobLine(label, site, ring, state, "; ".join(problems[hid])))
    out.trouble = lines
