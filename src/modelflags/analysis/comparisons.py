"""Each non-control arm against the control, metric by metric.

Per arm: the primary metric first (``primary: true``), then every other outcome metric, then
the request-level measures ``latency_ms`` (mean), ``cost`` (mean per request), ``error``
(rate) and ``fallback`` (rate). Binary outcome metrics use the two-proportion z-test
(pooled p-value, unpooled interval), numeric ones Welch's t-test, request-level measures the
delta method; all on the assignment unit, under the report's method (sequential or
fixed-horizon).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelflags.analysis import intervals, statistics
from modelflags.analysis.arms import BUILT_INS, Arm, MetricSums
from modelflags.analysis.report_values import finite, interval

__all__ = ["MetricComparison", "compare", "compare_arms", "metric_order"]


@dataclass(frozen=True)
class MetricComparison:
    """One metric of one arm against the control."""

    variation: str
    metric: str
    primary: bool
    result: statistics.Comparison

    def as_json(self) -> dict[str, Any]:
        """The comparison as the report's JSON shows it."""
        result = self.result
        return {
            "variation": self.variation,
            "metric": self.metric,
            "diff": finite(result.diff),
            "ci95": interval(result.ci95),
            "relativeLift": finite(result.relative_lift),
            "pValue": finite(result.p_value),
            "test": result.test,
            "primary": self.primary,
            "reason": result.reason,
        }


def metric_order(primary: str | None, outcome_metrics: Sequence[str]) -> list[str]:
    """Metrics in the order the report compares them: primary, other outcomes, built-ins."""
    first = [primary] if primary is not None else []
    others = [name for name in outcome_metrics if name != primary and name not in BUILT_INS]
    return [*first, *others, *(name for name in BUILT_INS if name != primary)]


def compare(
    control: Arm, treatment: Arm, metric: str, *, binary: bool, method: intervals.Method
) -> statistics.Comparison:
    """``treatment`` minus ``control`` on one metric, with the test that fits it."""
    if metric in BUILT_INS:
        return statistics.ratio_test(
            control.ratios[metric], treatment.ratios[metric], method=method
        )
    empty = MetricSums(0.0, 0.0, 0.0, 0.0)
    c = control.metrics.get(metric, empty)
    t = treatment.metrics.get(metric, empty)
    if binary:
        return statistics.proportion_test(
            c.total, control.units, t.total, treatment.units, method=method
        )
    return statistics.mean_test(
        c.total, c.total_sq, control.units, t.total, t.total_sq, treatment.units, method=method
    )


def compare_arms(
    control: Arm,
    treatments: Sequence[Arm],
    metrics: Mapping[str, bool],
    primary: str | None,
    *,
    method: intervals.Method,
) -> list[MetricComparison]:
    """Every comparison of the report: per non-control arm, every metric in report order.

    ``metrics`` maps each outcome metric (the primary one included, even when no outcome
    recorded it yet) to whether it is binary.
    """
    order = metric_order(primary, list(metrics))
    return [
        MetricComparison(
            arm.variation,
            name,
            name == primary,
            compare(control, arm, name, binary=metrics.get(name, False), method=method),
        )
        for arm in treatments
        for name in order
    ]
