"""Gate decisions and the wave-abort threshold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from patchwave.domain.gates import RingCounts, evaluate_gate, wave_should_abort


def test_promotes_when_all_conditions_hold() -> None:
    d = evaluate_gate(RingCounts(19, 1), min_success_rate=0.95, max_failures=1)
    assert d.promote and d.reasons == () and d.success_rate == 0.95


def test_each_failed_condition_is_a_reason() -> None:
    d = evaluate_gate(
        RingCounts(8, 2), min_success_rate=0.95, max_failures=1, health_failures=["web1"]
    )
    assert not d.promote
    assert any("success rate 80.0% below 95%" in r for r in d.reasons)
    assert any("2 failures exceed the maximum of 1" in r for r in d.reasons)
    assert any("health checks failed on web1" in r for r in d.reasons)


def test_skipped_hosts_do_not_count_as_attempted() -> None:
    assert evaluate_gate(RingCounts(10, 0, skipped=5), min_success_rate=1.0, max_failures=0).promote
    d = evaluate_gate(RingCounts(0, 0, skipped=5), min_success_rate=0.9, max_failures=None)
    assert not d.promote and "no host of the ring was patched" in d.reasons


def test_wave_abort_only_when_failures_exceed() -> None:
    assert not wave_should_abort(2, 20, 10)  # exactly 10%: not exceeded
    assert wave_should_abort(3, 20, 10)
    assert wave_should_abort(1, 20, 0)
    assert not wave_should_abort(0, 20, 0)
    assert not wave_should_abort(20, 20, 100)


@given(st.integers(0, 500), st.integers(0, 500), st.floats(0, 1), st.integers(0, 50) | st.none())
def test_more_failures_never_turn_a_halt_into_a_promotion(
    ok: int, bad: int, rate: float, max_failures: int | None
) -> None:
    before = evaluate_gate(RingCounts(ok, bad), min_success_rate=rate, max_failures=max_failures)
    after = evaluate_gate(RingCounts(ok, bad + 1), min_success_rate=rate, max_failures=max_failures)
    assert not (after.promote and not before.promote)


@given(st.integers(0, 1000), st.integers(1, 1000), st.floats(0, 100))
def test_abort_is_monotone_in_failures(failed: int, size: int, pct: float) -> None:
    if wave_should_abort(failed, size, pct):
        assert wave_should_abort(failed + 1, size, pct)
