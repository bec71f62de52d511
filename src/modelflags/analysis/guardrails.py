"""Guardrails: the experiment's stop rules, judged for every non-control arm.

Each guardrail is one-sided and judged from a 95% interval, so a guardrail is *breached*
only when the evidence says so, *holds* only when the evidence says so, and is
*inconclusive* otherwise:

- ``max_ratio`` on a mean or rate: the arm's estimate over the control's, with the 95%
  interval of that ratio (:func:`intervals.ratio_of_estimates`, under the report's method).
  Breached when the interval's lower bound is above the threshold; holds when its upper
  bound is at or below it. When that interval does not exist (an arm's estimate is 0, or
  neither arm varies) the conservative ratio of the two arms' own intervals stands in:
  ``arm lo / control hi`` to ``arm hi / control lo``. A control whose value is 0 (no error
  at all) leaves no ratio to judge: inconclusive, with the advice to bound the arm's own
  value with ``max`` for a measure that is usually 0.
- ``max_ratio`` on a latency quantile (``p50``, ``p95``, ``p99``): the ratio of the two arms'
  quantiles, with the conservative interval built from each arm's distribution-free 95%
  interval of the quantile: ``arm lo / control hi`` to ``arm hi / control lo``. Breached when
  ``arm lo / control hi`` is above the threshold; holds when ``arm hi / control lo`` is at or
  below it.
- ``max`` on the arm's own value (mean, rate or quantile) with its 95% interval (under the
  sequential method the confidence sequence around the estimate; fixed-horizon: Wilson for
  a rate, t for a mean, normal for a request-level ratio; a quantile: its distribution-free
  interval; a rate that does not vary at all, such as no error yet: the Wilson interval of
  its counts): breached when the lower bound is above ``max``, holds when the upper bound is
  at or below it.
- A value within a relative 1e-9 of the bound counts as at the bound (rounding in sums).
- ``metric: telemetry`` with ``max_silence_minutes``: the minutes from ``now`` back to the
  arm's last exposure and to its last outcome (each kind the arm has recorded); breached when
  either silence exceeds the limit, holds otherwise; inconclusive before the arm's first
  event.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelflags.analysis import intervals, phrasing, sequential, sketch
from modelflags.analysis.arms import (
    BUILT_INS,
    QUANTILES,
    Arm,
    Estimate,
    estimate,
    latency_quantile,
)
from modelflags.analysis.report_values import finite, interval
from modelflags.schema.models import Guardrail

__all__ = ["GuardrailResult", "evaluate_guardrails"]

Status = Literal["holds", "breached", "inconclusive"]
Bound = Literal["max_ratio", "max", "max_silence_minutes"]

TELEMETRY = "telemetry"

TOLERANCE = 1e-9
"""Relative distance from a bound within which a value counts as at the bound."""


@dataclass(frozen=True)
class GuardrailResult:
    """One guardrail judged for one arm, with the sentence that explains the verdict."""

    variation: str
    metric: str
    stat: str | None
    bound: Bound
    threshold: float
    observed: float | None
    ci95: tuple[float, float] | None
    status: Status
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The guardrail as the report's JSON shows it."""
        return {
            "variation": self.variation,
            "metric": self.metric,
            "stat": self.stat,
            "bound": self.bound,
            "threshold": finite(self.threshold),
            "observed": finite(self.observed),
            "ci95": interval(self.ci95),
            "status": self.status,
            "reason": self.reason,
        }


def evaluate_guardrails(
    guardrails: Sequence[Guardrail],
    control: Arm,
    treatments: Sequence[Arm],
    binary: Mapping[str, bool],
    *,
    method: intervals.Method,
    now: float,
) -> list[GuardrailResult]:
    """Every guardrail for every non-control arm, in the flag file's order per arm."""
    return [
        _judge(rule, control, arm, binary, method=method, now=now)
        for arm in treatments
        for rule in guardrails
    ]


def _judge(
    rule: Guardrail,
    control: Arm,
    arm: Arm,
    binary: Mapping[str, bool],
    *,
    method: intervals.Method,
    now: float,
) -> GuardrailResult:
    if rule.metric == TELEMETRY:
        return _telemetry(rule, arm, control, now)
    stat = rule.stat or "mean"
    bound: Bound = "max_ratio" if rule.max_ratio is not None else "max"
    threshold = float(rule.max_ratio if rule.max_ratio is not None else rule.max or 0.0)
    is_binary = binary.get(rule.metric, False)

    def result(
        observed: float | None, ci95: tuple[float, float] | None, status: Status, reason: str
    ) -> GuardrailResult:
        return GuardrailResult(
            arm.variation, rule.metric, stat, bound, threshold, observed, ci95, status, reason
        )

    if rule.metric not in BUILT_INS and rule.metric not in binary:
        known = ", ".join([*BUILT_INS, *binary])
        reason = f"no metric '{rule.metric}' in the evidence (known: {known})"
        return result(None, None, "inconclusive", reason)
    if stat in QUANTILES:
        if rule.metric != "latency_ms":
            reason = f"quantiles are only recorded for latency_ms, not {rule.metric}"
            return result(None, None, "inconclusive", reason)
        observed, ci95 = _quantile(stat, control, arm, ratio=bound == "max_ratio")
    else:
        observed, ci95 = _mean(
            rule.metric, control, arm, is_binary, method, ratio=bound == "max_ratio"
        )
    status = _status(ci95, threshold)
    label = f"{arm.variation}'s {phrasing.metric_label(rule.metric, stat, binary=is_binary)}"
    if bound == "max_ratio" and stat not in QUANTILES and _is_zero(control, rule.metric):
        name = phrasing.metric_label(rule.metric, stat, binary=is_binary)
        reason = (
            f"{control.variation}'s {name} is 0, so no ratio to it can be judged: for a "
            "measure that is usually 0, bound the arm's own value with 'max' instead"
        )
        return result(None, None, "inconclusive", reason)
    wording = phrasing.GuardrailWording(label, control.variation, rule.metric, is_binary)
    return result(
        observed, ci95, status, wording.sentence(bound, threshold, observed, ci95, status)
    )


def _status(ci95: tuple[float, float] | None, threshold: float) -> Status:
    """Judge an interval against a bound; within :data:`TOLERANCE` (relative) of the bound
    counts as at it, so that rounding in sums (a constant cost summed in two orders) does
    not breach a ``max_ratio: 1.0``."""
    if ci95 is None:
        return "inconclusive"
    slack = TOLERANCE * max(1.0, abs(threshold))
    if ci95[0] > threshold + slack:
        return "breached"
    if ci95[1] <= threshold + slack:
        return "holds"
    return "inconclusive"


def _is_zero(control: Arm, metric: str) -> bool:
    """Whether the control's estimate of a mean or rate is exactly 0 (with data)."""
    found = estimate(control, metric, binary=False)
    return found.value is not None and found.value == 0


def _quantile(
    stat: str, control: Arm, arm: Arm, *, ratio: bool
) -> tuple[float | None, tuple[float, float] | None]:
    q = QUANTILES[stat]
    own = latency_quantile(arm, stat)
    own_ci = sketch.quantile_interval(arm.latency_sketch, q) if arm.latency_sketch else None
    if not ratio:
        return own, own_ci
    base = latency_quantile(control, stat)
    base_ci = (
        sketch.quantile_interval(control.latency_sketch, q) if control.latency_sketch else None
    )
    observed = own / base if own is not None and base else None
    if own_ci is None or base_ci is None or base_ci[0] <= 0 or base_ci[1] <= 0:
        return finite(observed), None
    return finite(observed), (own_ci[0] / base_ci[1], own_ci[1] / base_ci[0])


def _mean(
    metric: str,
    control: Arm,
    arm: Arm,
    is_binary: bool,
    method: intervals.Method,
    *,
    ratio: bool,
) -> tuple[float | None, tuple[float, float] | None]:
    own = estimate(arm, metric, binary=is_binary)
    own_ci = _own_interval(arm, own, is_binary, method)
    if not ratio:
        return own.value, own_ci
    base = estimate(control, metric, binary=is_binary)
    if own.value is None or base.value is None:
        return None, None
    found = None
    if own.variance is not None and base.variance is not None:
        found = intervals.ratio_of_estimates(
            base.value,
            base.variance,
            own.value,
            own.variance,
            control.units + arm.units,
            method=method,
        )
    if found is not None:
        return finite(found[0]), (found[1], found[2])
    # An estimate of 0, or no variation in either arm: the conservative ratio of the two
    # arms' own intervals, as for quantiles.
    observed = finite(own.value / base.value) if base.value > 0 else None
    base_ci = _own_interval(control, base, is_binary, method)
    if observed is None or own_ci is None or base_ci is None or base_ci[0] <= 0:
        return observed, None
    return observed, (own_ci[0] / base_ci[1], own_ci[1] / base_ci[0])


def _own_interval(
    arm: Arm, found: Estimate, is_binary: bool, method: intervals.Method
) -> tuple[float, float] | None:
    """The 95% interval of one arm's estimate under the report's method.

    Without variation (every unit 0, or every unit alike) a normal interval has width 0 and
    would claim certainty from three units; rates then take the Wilson interval of their
    counts instead, which stays wide until there is evidence.
    """
    if found.value is None or found.variance is None:
        return None
    counts = _counts(arm, found.metric, is_binary)
    if found.variance <= 0:
        if counts is not None:
            return intervals.wilson_interval(*counts)
        return (found.value, found.value)
    interval = found.ci95
    if method == "sequential":
        half = sequential.halfwidth(math.sqrt(found.variance), found.n)
        interval = None if half is None else (found.value - half, found.value + half)
    if interval is not None and counts is not None:  # a rate lies in [0, 1]
        interval = (max(0.0, interval[0]), min(1.0, interval[1]))
    return interval


def _counts(arm: Arm, metric: str, is_binary: bool) -> tuple[float, float] | None:
    """(successes, trials) of a rate: requests for error and fallback, units for a binary
    outcome metric; ``None`` for a mean."""
    if metric in ("error", "fallback"):
        return arm.ratios[metric].sum, arm.ratios[metric].count
    if is_binary and metric in arm.metrics:
        return arm.metrics[metric].total, arm.units
    return None


def _telemetry(rule: Guardrail, arm: Arm, control: Arm, now: float) -> GuardrailResult:
    """Breached when the arm's exposures or outcomes stopped for longer than the limit while
    the control's kept coming: events that stop in every arm at once are the end of the
    data read (an export read later, a window), not a broken arm, and stay inconclusive."""
    limit = float(rule.max_silence_minutes or 0.0)
    last = [t for t in (arm.last_exposure, arm.last_outcome) if t is not None]
    control_last = [t for t in (control.last_exposure, control.last_outcome) if t is not None]

    def result(observed: float | None, status: Status, reason: str) -> GuardrailResult:
        return GuardrailResult(
            arm.variation,
            TELEMETRY,
            None,
            "max_silence_minutes",
            limit,
            observed,
            None,
            status,
            reason,
        )

    if not last:
        reason = f"no event from {arm.variation} yet: its telemetry cannot be judged"
        return result(None, "inconclusive", reason)
    silence = max(0.0, (now - min(last)) / 60.0)
    kind = "exposure" if min(last) == arm.last_exposure else "outcome"
    minutes, allowed = phrasing.number(silence), phrasing.number(limit)
    control_silence = max(0.0, (now - min(control_last)) / 60.0) if control_last else None
    if silence > limit and control_silence is not None and control_silence > limit:
        return result(
            silence,
            "inconclusive",
            f"no {kind} from {arm.variation} for {minutes} minutes, but none from "
            f"{control.variation} for {phrasing.number(control_silence)} minutes either: the "
            "events end for every arm (data read after it was written?), not for one",
        )
    if silence > limit:
        return result(
            silence,
            "breached",
            f"no {kind} from {arm.variation} for {minutes} minutes, more than the "
            f"{allowed}-minute telemetry guardrail allows",
        )
    return result(
        silence,
        "holds",
        f"{arm.variation}'s last {kind} was {minutes} minutes ago, within the "
        f"{allowed}-minute telemetry guardrail",
    )
