"""One arm of the experiment, read from the aggregate table, and its per-arm estimates.

Statistics are on the assignment unit. Outcome metrics count every randomised unit (intent
to treat: a unit without the metric counts as 0); a metric is binary when no observation of
it anywhere was anything but a JSON boolean, and is then a rate with a Wilson interval, else
a mean with a t interval. The request-level measures (``latency_ms``, ``cost``, ``error``,
``fallback``) are ratios Σs/Σc over the arm's units, whose variance is the delta method's,
because the requests of one unit are not independent. Latency quantiles come from the
arm's log-bucket sketch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelflags.analysis import intervals, sketch
from modelflags.analysis.ratio_stats import RatioStats
from modelflags.analysis.report_values import count, finite, interval
from modelflags.analysis.table_view import TableView

__all__ = [
    "BUILT_INS",
    "QUANTILES",
    "Arm",
    "Estimate",
    "MetricSums",
    "arm_json",
    "estimate",
    "latency_quantile",
    "read_arm",
    "unit_variance",
]

BUILT_INS = ("latency_ms", "cost", "error", "fallback")
"""Request-level measures every exposure carries (ratios Σs/Σc per arm)."""

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
"""Latency quantiles the report reads from the sketch."""

_RATIO_STATS = ("sum", "sum_sq", "count", "count_sq", "cross")

MetricType = Literal["binary", "numeric", "ratio"]


@dataclass(frozen=True)
class MetricSums:
    """An outcome metric's sufficient statistics in one arm (see the ``metric`` rows)."""

    total: float
    total_sq: float
    recorded: float
    nonbinary: float


@dataclass(frozen=True)
class Arm:
    """Everything the report reads about one arm, straight from the table."""

    variation: str
    weight: float
    units: float
    exposures: float
    units_with_outcome: float
    last_exposure: float | None
    last_outcome: float | None
    ratios: Mapping[str, RatioStats]
    metrics: Mapping[str, MetricSums]
    latency_sketch: Mapping[str, float]


@dataclass(frozen=True)
class Estimate:
    """One arm's value of one metric: the estimate, its variance and 95% interval.

    ``variance`` is the variance of the estimate (not of a unit), the input of
    :func:`intervals.ratio_of_estimates`; ``reason`` says why ``value`` is ``None``.
    """

    metric: str
    type: MetricType
    n: float
    value: float | None
    variance: float | None
    ci95: tuple[float, float] | None
    reason: str | None = None


def read_arm(view: TableView, variation: str, weight: float, metrics: Sequence[str]) -> Arm:
    """Read one arm (over the view's segments) with the given outcome metrics."""
    units = view.number("arm", variation, None, "units")
    ratios = {
        name: RatioStats(
            units, *(view.number("arm", variation, name, stat) for stat in _RATIO_STATS)
        )
        for name in BUILT_INS
    }
    sums = {
        name: MetricSums(
            view.number("metric", variation, name, "sum"),
            view.number("metric", variation, name, "sum_sq"),
            view.number("metric", variation, name, "units"),
            view.number("metric", variation, name, "nonbinary"),
        )
        for name in metrics
    }
    return Arm(
        variation=variation,
        weight=weight,
        units=units,
        exposures=view.number("arm", variation, None, "exposures"),
        units_with_outcome=view.number("arm", variation, None, "units_with_outcome"),
        last_exposure=view.value("arm", variation, None, "last_exposure") or None,
        last_outcome=view.value("arm", variation, None, "last_outcome") or None,
        ratios=ratios,
        metrics=sums,
        latency_sketch=view.stats("sketch", variation, "latency_ms"),
    )


def estimate(arm: Arm, metric: str, *, binary: bool) -> Estimate:
    """The arm's estimate of ``metric``: a built-in ratio, or an outcome metric per unit."""
    if metric in BUILT_INS:
        ratio = arm.ratios[metric]
        value, variance = finite(ratio.ratio), finite(ratio.variance)
        if value is None:
            return Estimate(metric, "ratio", arm.units, None, None, None, _no_requests(metric))
        ci95 = None
        if variance is not None:
            half = intervals.Z_975 * math.sqrt(max(variance, 0.0))
            ci95 = (value - half, value + half)
        return Estimate(metric, "ratio", arm.units, value, variance, ci95)
    sums = arm.metrics.get(metric, MetricSums(0.0, 0.0, 0.0, 0.0))
    kind: MetricType = "binary" if binary else "numeric"
    n = arm.units
    if n <= 0:
        return Estimate(metric, kind, n, None, None, None, "no randomised units in this arm")
    mean = sums.total / n
    if binary:
        variance = mean * (1.0 - mean) / n
        return Estimate(metric, kind, n, mean, variance, intervals.wilson_interval(sums.total, n))
    if n < 2:
        return Estimate(metric, kind, n, mean, None, None, "one unit: no variance yet")
    unit_variance = max(sums.total_sq - sums.total * sums.total / n, 0.0) / (n - 1)
    ci95 = intervals.mean_interval(sums.total, sums.total_sq, n)
    return Estimate(metric, kind, n, mean, unit_variance / n, ci95)


def unit_variance(arm: Arm, metric: str, *, binary: bool) -> float | None:
    """The variance of one unit's value of an outcome metric (for the sample size)."""
    sums = arm.metrics.get(metric)
    if sums is None or arm.units <= 0:
        return None
    mean = sums.total / arm.units
    if binary:
        return mean * (1.0 - mean)
    if arm.units < 2:
        return None
    return max(sums.total_sq - sums.total * sums.total / arm.units, 0.0) / (arm.units - 1)


def latency_quantile(arm: Arm, name: str) -> float | None:
    """The arm's latency p50/p95/p99 from its sketch (``None`` without latencies)."""
    if not arm.latency_sketch:
        return None
    return finite(sketch.quantile(arm.latency_sketch, QUANTILES[name]))


def arm_json(arm: Arm, metrics: Mapping[str, bool]) -> dict[str, Any]:
    """The arm as the report shows it; ``metrics`` maps each outcome metric to "binary?"."""
    latency = estimate(arm, "latency_ms", binary=False)
    cost = estimate(arm, "cost", binary=False)
    return {
        "variation": arm.variation,
        "weight": count(arm.weight),
        "units": count(arm.units),
        "exposures": count(arm.exposures),
        "fallbackRate": estimate(arm, "fallback", binary=False).value,
        "errorRate": estimate(arm, "error", binary=False).value,
        "latencyMs": {
            "mean": latency.value,
            **{name: latency_quantile(arm, name) for name in QUANTILES},
        },
        "cost": {
            "mean": cost.value,
            "total": finite(arm.ratios["cost"].sum) if arm.ratios["cost"].count > 0 else None,
        },
        "metrics": {
            name: _metric_json(estimate(arm, name, binary=binary))
            for name, binary in metrics.items()
        },
    }


def _metric_json(found: Estimate) -> dict[str, Any]:
    return {
        "type": found.type,
        "n": count(found.n),
        "mean": finite(found.value),
        "ci95": interval(found.ci95),
        "reason": found.reason,
    }


def _no_requests(metric: str) -> str:
    if metric in ("latency_ms", "cost"):
        return f"no exposure in this arm recorded {metric}"
    return "no exposures in this arm"
