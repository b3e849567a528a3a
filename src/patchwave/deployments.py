"""Deployments from ``prefect.yaml``, served with ``flow.serve`` (no work pool needed).

``prefect.yaml`` stays the one place schedules and parameters are written; ``patchwave serve``
reads it and builds the same deployments for ``prefect.serve``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from patchwave.errors import UserError

PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DeploymentDef:
    name: str
    entrypoint: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[dict[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    concurrency_limit: dict[str, Any] | None = None


def load_deployments(path: Path | None = None) -> list[DeploymentDef]:
    path = path or PROJECT / "prefect.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: invalid YAML: {exc}") from exc
    out = []
    for i, d in enumerate(data.get("deployments") or []):
        try:
            out.append(
                DeploymentDef(
                    name=d["name"],
                    entrypoint=d["entrypoint"],
                    description=d.get("description", ""),
                    parameters=dict(d.get("parameters") or {}),
                    schedules=tuple(d.get("schedules") or ()),
                    tags=tuple(d.get("tags") or ()),
                    concurrency_limit=d.get("concurrency_limit"),
                )
            )
        except (KeyError, TypeError) as exc:
            raise UserError(f"{path}: deployments[{i}]: missing or bad field {exc}") from exc
    return out


def load_flow(entrypoint: str) -> Any:
    """``flows/campaign.py:patch_campaign`` -> the flow object."""
    file, _, name = entrypoint.partition(":")
    module = file.removesuffix(".py").replace("/", ".")
    return getattr(importlib.import_module(module), name)


def schedule_objects(defs: DeploymentDef) -> list[Any]:
    from prefect.client.schemas.schedules import CronSchedule, RRuleSchedule

    schedules: list[Any] = []
    for s in defs.schedules:
        if "cron" in s:
            schedules.append(CronSchedule(cron=s["cron"], timezone=s.get("timezone")))
        elif "rrule" in s:
            schedules.append(RRuleSchedule(rrule=s["rrule"], timezone=s.get("timezone")))
        else:
            raise UserError(f"deployment {defs.name}: a schedule needs cron or rrule")
    return schedules


def build_deployments(defs: list[DeploymentDef]) -> list[Any]:
    """RunnerDeployments ready for ``prefect.serve``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    out = []
    for d in defs:
        flow = load_flow(d.entrypoint)
        limit = None
        if d.concurrency_limit:
            limit = ConcurrencyLimitConfig(**d.concurrency_limit)
        out.append(
            flow.to_deployment(
                name=d.name,
                description=d.description,
                parameters=d.parameters,
                schedules=schedule_objects(d),
                tags=list(d.tags),
                concurrency_limit=limit,
            )
        )
    return out
