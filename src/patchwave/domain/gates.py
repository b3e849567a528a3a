"""Gate and wave-abort decisions: pure functions of counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RingCounts:
    """Outcomes of a ring's host jobs. ``attempted`` = succeeded + failed (an unreachable host is
    a failure); skipped jobs (no approval, wave aborted) were never attempted."""

    succeeded: int
    failed: int
    skipped: int = 0
    rolled_back: int = 0

    @property
    def attempted(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.attempted if self.attempted else 1.0


@dataclass(frozen=True, slots=True)
class GateDecision:
    promote: bool
    reasons: tuple[str, ...]
    success_rate: float


def evaluate_gate(
    counts: RingCounts,
    *,
    min_success_rate: float,
    max_failures: int | None,
    health_failures: Sequence[str] = (),
    wave_aborted: bool = False,
) -> GateDecision:
    """Promote only when every condition holds; each failed condition is a reason."""
    reasons: list[str] = []
    rate = counts.success_rate
    if counts.attempted and rate < min_success_rate:
        reasons.append(
            f"success rate {rate:.1%} below {min_success_rate:.0%} "
            f"({counts.succeeded} of {counts.attempted} hosts)"
        )
    if max_failures is not None and counts.failed > max_failures:
        reasons.append(f"{counts.failed} failures exceed the maximum of {max_failures}")
    if health_failures:
        shown = ", ".join(health_failures[:5])
        more = f" and {len(health_failures) - 5} more" if len(health_failures) > 5 else ""
        reasons.append(f"health checks failed on {shown}{more}")
    if wave_aborted:
        reasons.append("a wave was aborted: too many failures")
    if counts.attempted == 0 and counts.skipped:
        reasons.append("no host of the ring was patched")
    return GateDecision(promote=not reasons, reasons=tuple(reasons), success_rate=rate)


def wave_should_abort(failed: int, wave_size: int, max_fail_percentage: float) -> bool:
    """Abort the rest of a wave once its failures *exceed* the percentage of the wave's size
    (10% of 20 hosts: the third failure aborts, the second does not)."""
    if wave_size <= 0:
        return False
    return failed * 100 > max_fail_percentage * wave_size
