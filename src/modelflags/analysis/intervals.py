"""The report's 95% level and the intervals of one arm's estimate, from sums alone.

An arm's rate gets the Wilson score interval, its mean the Student t interval, both from the
aggregate table's sums; the ratio of two arms' estimates (what a ``max_ratio`` guardrail
judges) gets the delta method on the log. The level is fixed: every interval of the report is
95%. ``method="sequential"`` (the report's default) widens an interval into a confidence
sequence (:mod:`modelflags.analysis.sequential`), valid however often it is looked at;
``"fixed-horizon"`` gives the classical one, right only at one pre-planned look. Nothing here
raises on degenerate input: an interval that cannot be computed is None.
"""

from __future__ import annotations

import math
from typing import Literal

from modelflags.analysis import sequential
from modelflags.analysis.distributions import t_ppf
from modelflags.analysis.sums import all_finite, sample_variance

__all__ = [
    "ALPHA",
    "Z_975",
    "Method",
    "mean_interval",
    "ratio_of_estimates",
    "wilson_interval",
]

Method = Literal["sequential", "fixed-horizon"]
ALPHA = sequential.ALPHA
Z_975 = 1.959963984540054  # norm.ppf(0.975)


def wilson_interval(successes: float, n: float) -> tuple[float, float] | None:
    """Wilson score 95% interval of a rate (Wilson 1927); None without units (n < 1) or when
    ``successes`` is outside 0..n."""
    if not all_finite(successes, n) or n < 1 or not 0 <= successes <= n:
        return None
    p = successes / n
    z2 = Z_975 * Z_975
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = Z_975 * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # at 0 or n successes the bound is exactly 0 or 1; floating point leaves ~1e-18
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return (low, high)


def mean_interval(total: float, total_sq: float, n: float) -> tuple[float, float] | None:
    """Student t 95% interval of a mean from Σx, Σx², n (df = n - 1); None with fewer than
    2 units or inconsistent sums. Zero variance gives the zero-width interval (mean, mean)."""
    variance = sample_variance(total, total_sq, n)
    if variance is None:
        return None
    mean = total / n
    half = t_ppf(1 - ALPHA / 2, n - 1) * math.sqrt(variance / n)
    return (mean - half, mean + half)


def ratio_of_estimates(
    est_c: float, var_c: float, est_t: float, var_t: float, n_total: float, *, method: Method
) -> tuple[float, float, float] | None:
    """``(est_t/est_c, low, high)``: the 95% interval of the ratio of two independent positive
    estimates with variances ``var_c``, ``var_t``, by the delta method on the log:
    ``Var(ln r) ≈ var_t/est_t² + var_c/est_c²`` (for two rates this is statsmodels'
    ``confint_proportions_2indep(compare="ratio", method="log")``). Sequential widens it with the
    confidence sequence at ``n_total`` units. None when an estimate is not positive, a variance
    is negative, both are 0, or ``n_total < 2``."""
    if not all_finite(est_c, var_c, est_t, var_t, n_total):
        return None
    if est_c <= 0 or est_t <= 0 or var_c < 0 or var_t < 0 or n_total < 2:
        return None
    try:
        se_log = math.sqrt(var_t / (est_t * est_t) + var_c / (est_c * est_c))
        if se_log == 0:
            return None
        if method == "fixed-horizon":
            half: float | None = Z_975 * se_log
        else:
            half = sequential.halfwidth(se_log, n_total)
        if half is None:
            return None
        ratio = est_t / est_c
        result = (ratio, ratio * math.exp(-half), ratio * math.exp(half))
    except ArithmeticError:  # an interval of (0, inf) in all but name
        return None
    return result if all_finite(*result) else None
