"""Campaign specifications: the validated model of ``campaigns/*.yaml``.

``load_campaign(path)`` parses a file and returns a frozen ``CampaignSpec``; every mistake raises
``CampaignSpecError`` with one line per problem naming the file, line:column, field path, what was
found and what was expected. ``spec_hash`` fingerprints a validated spec so approvals and runs can
be bound to exactly what was approved.

Defaults never approve and never widen: an omitted ``approval`` means "required, by msp-leads";
an omitted window policy is an error; emergencies need two distinct approvers.

Modules: ``types`` (durations, percentages, names), ``rings`` (selection, gate, approval),
``models`` (the campaign), ``loader`` (YAML with positions, error messages).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from patchwave.spec.loader import read_text, validate_yaml_text
from patchwave.spec.models import (
    DEFAULT_ESTIMATES,
    CampaignKind,
    CampaignSpec,
    Concurrency,
    Deployment,
    GateFailure,
    Notify,
    Patches,
    RebootPolicy,
    Report,
    Retries,
    Scope,
    SlackNotify,
    WindowPolicy,
)
from patchwave.spec.rings import (
    SELECT_TAGS,
    Approval,
    AutoApproveIf,
    Gate,
    Ring,
    SelectHosts,
    SelectInventoryRing,
    Selection,
    SelectRest,
    SelectShare,
    SelectTags,
)
from patchwave.spec.types import (
    APPROVER_ROLES,
    SHIPPED_CALENDAR_NAMES,
    format_duration,
    parse_duration,
    parse_percent,
)

__all__ = [
    "APPROVER_ROLES",
    "DEFAULT_ESTIMATES",
    "SHIPPED_CALENDAR_NAMES",
    "Approval",
    "AutoApproveIf",
    "CampaignKind",
    "CampaignSpec",
    "Concurrency",
    "Deployment",
    "Gate",
    "GateFailure",
    "Notify",
    "Patches",
    "RebootPolicy",
    "Report",
    "Retries",
    "Ring",
    "Scope",
    "SelectHosts",
    "SelectInventoryRing",
    "SelectRest",
    "SelectShare",
    "SelectTags",
    "Selection",
    "SlackNotify",
    "WindowPolicy",
    "format_duration",
    "load_campaign",
    "parse_campaign",
    "parse_duration",
    "parse_percent",
    "spec_hash",
]


def parse_campaign(text: str, source: str = "<campaign>") -> CampaignSpec:
    """Validate YAML text; errors name ``source`` as the file."""
    return validate_yaml_text(CampaignSpec, text, source, SELECT_TAGS)


def load_campaign(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign file; every problem raises ``CampaignSpecError``."""
    path = Path(path)
    return parse_campaign(read_text(path), str(path))


def spec_hash(spec: CampaignSpec) -> str:
    """SHA-256 (hex) of the canonical JSON of a validated spec: sorted keys, normalised values
    (durations, tag sets), so formatting and key order in the file do not change it."""
    canonical = json.dumps(
        spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
