"""Guardrails judged from arms built out of simulated per-unit data."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence

import pytest

from modelflags.analysis import intervals, sketch
from modelflags.analysis.arms import Arm, MetricSums
from modelflags.analysis.guardrails import GuardrailResult, evaluate_guardrails
from modelflags.analysis.ratio_stats import RatioStats
from modelflags.schema.models import Guardrail

NOW = 1_796_000_000.0


def ratio_stats(per_unit: Sequence[Sequence[float]]) -> RatioStats:
    """The aggregate table's request-level sums of one measure over units."""
    s = [math.fsum(values) for values in per_unit]
    c = [float(len(values)) for values in per_unit]
    return RatioStats(
        float(len(per_unit)),
        math.fsum(s),
        math.fsum(x * x for x in s),
        math.fsum(c),
        math.fsum(x * x for x in c),
        math.fsum(a * b for a, b in zip(s, c, strict=True)),
    )


def make_arm(
    variation: str,
    latencies: Sequence[Sequence[float]],
    *,
    error_rate: float = 0.01,
    seed: int = 0,
    last_exposure: float | None = NOW - 60,
    last_outcome: float | None = NOW - 120,
    resolved: float = 0.7,
) -> Arm:
    """An arm whose units made the given requests (latencies), with random errors."""
    rng = random.Random(seed)
    errors = [[1.0 if rng.random() < error_rate else 0.0 for _ in unit] for unit in latencies]
    outcome = [1.0 if rng.random() < resolved else 0.0 for _ in latencies]
    flat = [x for unit in latencies for x in unit]
    n = float(len(latencies))
    return Arm(
        variation=variation,
        weight=50,
        units=n,
        exposures=float(len(flat)),
        units_with_outcome=n,
        last_exposure=last_exposure,
        last_outcome=last_outcome,
        ratios={
            "latency_ms": ratio_stats(latencies),
            "cost": ratio_stats([[0.004] * len(unit) for unit in latencies]),
            "error": ratio_stats(errors),
            "fallback": ratio_stats([[0.0] * len(unit) for unit in latencies]),
        },
        metrics={"resolved": MetricSums(sum(outcome), sum(outcome), sum(outcome), 0.0)},
        latency_sketch=sketch.sketch_of(flat),
    )


def traffic(units: int, scale: float, seed: int) -> list[list[float]]:
    """Per unit 1-3 requests with log-normal latencies around ``scale`` ms."""
    rng = random.Random(seed)
    return [
        [rng.lognormvariate(0, 0.4) * scale for _ in range(rng.choice((1, 2, 3)))]
        for _ in range(units)
    ]


def judge(
    rule: Guardrail, control: Arm, *arms: Arm, method: intervals.Method = "fixed-horizon"
) -> list[GuardrailResult]:
    return evaluate_guardrails([rule], control, arms, {"resolved": True}, method=method, now=NOW)


P95 = Guardrail(metric="latency_ms", stat="p95", max_ratio=1.3)


def test_p95_ratio_clearly_above_the_threshold_is_breached() -> None:
    control = make_arm("control", traffic(3000, 800, 1))
    slow = make_arm("candidate", traffic(3000, 1200, 2))
    (result,) = judge(P95, control, slow)
    assert result.status == "breached"
    assert result.ci95 is not None and result.ci95[0] > 1.3
    assert result.reason.startswith("candidate's p95 latency is 1.")
    assert result.reason.endswith("above the 1.3\u00d7 guardrail")


def test_p95_ratio_clearly_below_the_threshold_holds() -> None:
    control = make_arm("control", traffic(3000, 800, 1))
    fast = make_arm("candidate", traffic(3000, 700, 2))
    (result,) = judge(P95, control, fast)
    assert result.status == "holds"
    assert result.ci95 is not None and result.ci95[1] <= 1.3
    assert "within the 1.3\u00d7 guardrail" in result.reason


def test_p95_ratio_near_the_threshold_with_little_data_is_inconclusive() -> None:
    control = make_arm("control", traffic(80, 800, 1))
    similar = make_arm("candidate", traffic(80, 1000, 2))
    (result,) = judge(P95, control, similar)
    assert result.status == "inconclusive"
    assert "not yet clear" in result.reason


def test_quantile_ratio_interval_is_the_conservative_ratio_of_the_two_intervals() -> None:
    control = make_arm("control", traffic(2000, 800, 1))
    candidate = make_arm("candidate", traffic(2000, 900, 2))
    (result,) = judge(P95, control, candidate)
    own = sketch.quantile_interval(candidate.latency_sketch, 0.95)
    base = sketch.quantile_interval(control.latency_sketch, 0.95)
    assert own is not None and base is not None
    assert result.ci95 == pytest.approx((own[0] / base[1], own[1] / base[0]), rel=1e-12)
    arm_p95 = sketch.quantile(candidate.latency_sketch, 0.95)
    control_p95 = sketch.quantile(control.latency_sketch, 0.95)
    assert arm_p95 is not None and control_p95 is not None
    assert result.observed == pytest.approx(arm_p95 / control_p95, rel=1e-12)


def test_rate_ratio_uses_the_ratio_of_the_two_estimates() -> None:
    control = make_arm("control", traffic(4000, 800, 1), error_rate=0.02, seed=3)
    candidate = make_arm("candidate", traffic(4000, 800, 2), error_rate=0.06, seed=4)
    rule = Guardrail(metric="error", stat="rate", max_ratio=2.0)
    (result,) = judge(rule, control, candidate)
    c, t = control.ratios["error"], candidate.ratios["error"]
    assert None not in (c.ratio, c.variance, t.ratio, t.variance)
    expected = intervals.ratio_of_estimates(
        c.ratio or 0.0,
        c.variance or 0.0,
        t.ratio or 0.0,
        t.variance or 0.0,
        8000,
        method="fixed-horizon",
    )
    assert expected is not None
    assert result.observed == pytest.approx(expected[0])
    assert result.ci95 == pytest.approx(expected[1:])
    assert result.status == "breached"


def test_sequential_intervals_are_wider_than_fixed_horizon_ones() -> None:
    control = make_arm("control", traffic(1000, 800, 1), error_rate=0.05, seed=3)
    candidate = make_arm("candidate", traffic(1000, 800, 2), error_rate=0.05, seed=4)
    rule = Guardrail(metric="error", stat="rate", max_ratio=2.0)
    (fixed,) = judge(rule, control, candidate, method="fixed-horizon")
    (always,) = judge(rule, control, candidate, method="sequential")
    assert fixed.ci95 is not None and always.ci95 is not None
    assert always.ci95[0] < fixed.ci95[0] and always.ci95[1] > fixed.ci95[1]


def test_max_on_the_arms_own_rate_is_breached_when_its_lower_bound_is_above() -> None:
    control = make_arm("control", traffic(3000, 800, 1), error_rate=0.01, seed=3)
    candidate = make_arm("candidate", traffic(3000, 800, 2), error_rate=0.08, seed=4)
    (result,) = judge(Guardrail(metric="error", stat="rate", max=0.05), control, candidate)
    assert result.bound == "max"
    assert result.observed == pytest.approx(candidate.ratios["error"].ratio)
    assert result.status == "breached"
    assert "above the 5% maximum" in result.reason


def test_max_on_an_outcome_rate_holds_when_its_upper_bound_is_below() -> None:
    control = make_arm("control", traffic(2000, 800, 1), resolved=0.7)
    candidate = make_arm("candidate", traffic(2000, 800, 2), resolved=0.7)
    (result,) = judge(Guardrail(metric="resolved", stat="rate", max=0.9), control, candidate)
    assert result.status == "holds"
    assert result.ci95 is not None and result.ci95[1] <= 0.9


def test_telemetry_is_breached_after_the_allowed_silence() -> None:
    control = make_arm("control", traffic(10, 800, 1))
    quiet = make_arm("candidate", traffic(10, 800, 2), last_exposure=NOW - 45 * 60)
    rule = Guardrail(metric="telemetry", max_silence_minutes=30)
    (result,) = judge(rule, control, quiet)
    assert (result.status, result.bound, result.stat) == ("breached", "max_silence_minutes", None)
    assert result.observed == pytest.approx(45.0)
    assert "no exposure from candidate for 45 minutes" in result.reason


def test_telemetry_watches_outcomes_too() -> None:
    control = make_arm("control", traffic(10, 800, 1))
    no_outcomes = make_arm("candidate", traffic(10, 800, 2), last_outcome=NOW - 90 * 60)
    rule = Guardrail(metric="telemetry", max_silence_minutes=60)
    (result,) = judge(rule, control, no_outcomes)
    assert result.status == "breached"
    assert "no outcome from candidate for 90 minutes" in result.reason


def test_telemetry_is_inconclusive_when_every_arm_went_quiet_together() -> None:
    # events read an hour after the last one: the data ends, no arm broke
    control = make_arm("control", traffic(10, 800, 1), last_exposure=NOW - 60 * 60)
    candidate = make_arm("candidate", traffic(10, 800, 2), last_exposure=NOW - 60 * 60)
    rule = Guardrail(metric="telemetry", max_silence_minutes=30)
    (result,) = judge(rule, control, candidate)
    assert result.status == "inconclusive"
    assert "none from control for 60 minutes either" in result.reason


def test_telemetry_holds_while_events_keep_arriving() -> None:
    control = make_arm("control", traffic(10, 800, 1))
    rule = Guardrail(metric="telemetry", max_silence_minutes=30)
    (result,) = judge(rule, control, make_arm("candidate", traffic(10, 800, 2)))
    assert result.status == "holds"
    assert result.observed == pytest.approx(2.0)


def test_telemetry_is_inconclusive_before_the_first_event() -> None:
    control = make_arm("control", traffic(10, 800, 1))
    silent = make_arm("candidate", [], last_exposure=None, last_outcome=None)
    rule = Guardrail(metric="telemetry", max_silence_minutes=30)
    (result,) = judge(rule, control, silent)
    assert result.status == "inconclusive"
    assert result.observed is None


def test_an_unknown_metric_is_inconclusive_and_names_the_known_ones() -> None:
    control = make_arm("control", traffic(100, 800, 1))
    rule = Guardrail(metric="resolvd", stat="rate", max=0.5)
    (result,) = judge(rule, control, make_arm("candidate", traffic(100, 800, 2)))
    assert result.status == "inconclusive"
    assert "no metric 'resolvd'" in result.reason and "resolved" in result.reason


def test_a_quantile_of_anything_but_latency_is_inconclusive() -> None:
    control = make_arm("control", traffic(100, 800, 1))
    rule = Guardrail(metric="cost", stat="p95", max_ratio=1.2)
    (result,) = judge(rule, control, make_arm("candidate", traffic(100, 800, 2)))
    assert result.status == "inconclusive"
    assert "only recorded for latency_ms" in result.reason


def test_an_arm_without_data_is_inconclusive_not_an_error() -> None:
    control = make_arm("control", traffic(100, 800, 1))
    empty = make_arm("candidate", [])
    results = [
        judge(rule, control, empty)[0]
        for rule in (
            P95,
            Guardrail(metric="error", stat="rate", max_ratio=2.0),
            Guardrail(metric="latency_ms", stat="mean", max=900.0),
        )
    ]
    assert [r.status for r in results] == ["inconclusive"] * 3
    assert all(r.observed is None and r.ci95 is None for r in results)


def test_every_guardrail_is_judged_for_every_non_control_arm() -> None:
    control = make_arm("control", traffic(100, 800, 1))
    arms = [make_arm(name, traffic(100, 800, i)) for i, name in enumerate(("b", "c"), 2)]
    rules = [P95, Guardrail(metric="error", stat="rate", max_ratio=2.0)]
    results = evaluate_guardrails(rules, control, arms, {}, method="sequential", now=NOW)
    assert [(r.variation, r.metric) for r in results] == [
        ("b", "latency_ms"),
        ("b", "error"),
        ("c", "latency_ms"),
        ("c", "error"),
    ]


def test_a_constant_measure_in_both_arms_is_known_exactly() -> None:
    control = make_arm("control", traffic(100, 800, 1))
    candidate = make_arm("candidate", traffic(100, 800, 2))
    (result,) = judge(Guardrail(metric="cost", stat="mean", max_ratio=1.0), control, candidate)
    assert result.observed == pytest.approx(1.0)
    assert result.status == "holds"


def test_an_arm_without_any_error_holds_a_ratio_guardrail_once_the_data_suffice() -> None:
    control = make_arm("control", traffic(5000, 800, 1), error_rate=0.02, seed=3)
    flawless = make_arm("candidate", traffic(5000, 800, 2), error_rate=0.0, seed=4)
    (result,) = judge(Guardrail(metric="error", stat="rate", max_ratio=1.5), control, flawless)
    assert result.observed == 0.0
    assert result.status == "holds"
    assert result.ci95 is not None and result.ci95[0] == 0.0 and result.ci95[1] < 1.5


def test_no_error_in_a_few_requests_is_not_proof_of_a_low_error_rate() -> None:
    control = make_arm("control", traffic(3, 800, 1), error_rate=0.0)
    few = make_arm("candidate", traffic(3, 800, 2), error_rate=0.0)
    (result,) = judge(Guardrail(metric="error", stat="rate", max=0.1), control, few)
    assert result.observed == 0.0
    assert result.status == "inconclusive"


def test_a_ratio_to_a_control_of_zero_is_inconclusive_with_advice() -> None:
    control = make_arm("control", traffic(2000, 800, 1), error_rate=0.0, seed=3)
    candidate = make_arm("candidate", traffic(2000, 800, 2), error_rate=0.0, seed=4)
    (result,) = judge(Guardrail(metric="error", stat="rate", max_ratio=2.0), control, candidate)
    assert (result.status, result.observed, result.ci95) == ("inconclusive", None, None)
    assert "control's error rate is 0" in result.reason and "'max'" in result.reason


def test_rounding_in_the_sums_does_not_breach_a_ratio_of_one() -> None:
    control = make_arm("control", traffic(900, 800, 1))
    candidate = make_arm("candidate", traffic(100, 800, 2))
    noisy = dataclasses.replace(
        candidate.ratios["cost"], sum=candidate.ratios["cost"].sum * (1 + 4e-15)
    )
    candidate = dataclasses.replace(candidate, ratios={**candidate.ratios, "cost": noisy})
    (result,) = judge(Guardrail(metric="cost", stat="mean", max_ratio=1.0), control, candidate)
    assert result.observed is not None and result.observed > 1.0
    assert result.status == "holds"


def test_an_arms_own_rate_interval_stays_within_zero_and_one() -> None:
    control = make_arm("control", traffic(400, 800, 1), error_rate=0.02, seed=3)
    candidate = make_arm("candidate", traffic(40, 800, 2), error_rate=0.02, seed=5)
    rule = Guardrail(metric="error", stat="rate", max=0.05)
    (result,) = judge(rule, control, candidate, method="sequential")
    assert result.ci95 is not None
    assert 0.0 <= result.ci95[0] <= result.ci95[1] <= 1.0
    assert result.observed is not None and result.observed > 0
