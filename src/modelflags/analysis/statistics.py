"""Treatment versus control, metric by metric: the difference, its interval and p-value.

Every function takes the sums of the aggregate table (Σx, Σx², n, ...) of two arms and returns
plain values: no events, no rendering. Unit-level metrics (an outcome per randomised unit) use
the textbook tests; request-level ratios (error rate, mean latency, cost per request) use each
arm's delta-method variance (:class:`~modelflags.analysis.ratio_stats.RatioStats`). Holm's
adjustment corrects the p-values of many comparisons at once, and the sample size says how many
units a comparison needs to detect a given difference.

``method="sequential"`` (the report's default) gives always-valid intervals and p-values
(:mod:`modelflags.analysis.sequential`); ``"fixed-horizon"`` the classical ones, right only at
one pre-planned look. Nothing here raises on degenerate input: what cannot be computed is None,
and :attr:`Comparison.reason` says why in words. The intervals of one arm's own estimate are in
:mod:`modelflags.analysis.intervals`, the sample-ratio check in :mod:`modelflags.analysis.srm`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelflags.analysis import sequential
from modelflags.analysis.distributions import normal_sf, t_ppf, t_sf
from modelflags.analysis.intervals import ALPHA, Z_975, Method
from modelflags.analysis.ratio_stats import RatioStats
from modelflags.analysis.sums import all_finite, sample_variance

__all__ = [
    "Z_80",
    "Comparison",
    "holm",
    "mean_test",
    "proportion_test",
    "ratio_test",
    "required_sample_size",
]

Z_80 = 0.8416212335729143  # norm.ppf(0.8)

_NO_LIFT = "the control estimate is 0: no relative lift"
_FEW_UNITS = "an arm has fewer than 2 units: no interval or p-value"
_OVERFLOW = "the numbers are too large or too small to compute in floating point"


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control for one metric.

    ``diff`` and ``relative_lift`` are point estimates, present whenever both arms have an
    estimate; ``ci95`` and ``p_value`` need variance and at least 2 units per arm. ``reason`` is
    set whenever any field is None and says which and why.
    """

    diff: float | None
    ci95: tuple[float, float] | None
    relative_lift: float | None  # diff / control estimate; None when the control estimate is 0
    p_value: float | None
    test: str  # e.g. "two-proportion z (pooled)", "Welch t", "delta method"
    reason: str | None = None


def proportion_test(
    x_c: float, n_c: float, x_t: float, n_t: float, *, method: Method
) -> Comparison:
    """Difference of two rates. Fixed-horizon: pooled two-proportion z-test p-value, interval
    with the unpooled (Wald) standard error. Sequential: the confidence sequence on the unpooled
    standard error and its always-valid p-value (so that it inverts the reported interval)."""
    test = "two-proportion z (pooled)" if method == "fixed-horizon" else _seq("two-proportion")
    if not all_finite(x_c, n_c, x_t, n_t):
        return _nothing(test, "the counts are not finite numbers")
    if n_c < 1 or n_t < 1:
        return _nothing(test, "an arm has no units")
    if not (0 <= x_c <= n_c and 0 <= x_t <= n_t):
        return _nothing(test, "a count of successes is outside 0..units")
    try:
        p_c, p_t = x_c / n_c, x_t / n_t
        diff = p_t - p_c
        if min(n_c, n_t) < 2:
            return _comparison(diff, None, None, control=p_c, test=test, why=_FEW_UNITS)
        se = math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
        pooled = (x_c + x_t) / (n_c + n_t)
        se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
        return _infer(diff, se, p_c, n_c + n_t, method=method, test=test, se_null=se_pooled)
    except ArithmeticError:
        return _nothing(test, _OVERFLOW)


def mean_test(  # noqa: PLR0917 -- the API's signature: each arm's Σx, Σx², n in turn
    sum_c: float,
    sum_sq_c: float,
    n_c: float,
    sum_t: float,
    sum_sq_t: float,
    n_t: float,
    *,
    method: Method,
) -> Comparison:
    """Difference of two means. Fixed-horizon: Welch's t-test (Welch-Satterthwaite degrees of
    freedom); sequential: the confidence sequence on the same standard error."""
    test = "Welch t" if method == "fixed-horizon" else _seq("difference in means")
    if not all_finite(sum_c, sum_sq_c, n_c, sum_t, sum_sq_t, n_t):
        return _nothing(test, "the sums are not finite numbers")
    if n_c < 1 or n_t < 1:
        return _nothing(test, "an arm has no units")
    try:
        mean_c, mean_t = sum_c / n_c, sum_t / n_t
        diff = mean_t - mean_c
        if min(n_c, n_t) < 2:
            return _comparison(diff, None, None, control=mean_c, test=test, why=_FEW_UNITS)
        var_c = sample_variance(sum_c, sum_sq_c, n_c)
        var_t = sample_variance(sum_t, sum_sq_t, n_t)
        if var_c is None or var_t is None:
            return _nothing(test, "inconsistent sums: Σx² is smaller than (Σx)²/n")
        a, b = var_c / n_c, var_t / n_t
        se = math.sqrt(a + b)
        df = None
        if se > 0:  # Welch-Satterthwaite, written with the arms' shares of the variance, so
            # that variances near the smallest float do not turn it into 0 / 0
            share_c, share_t = a / (a + b), b / (a + b)
            df = 1.0 / (share_c * share_c / (n_c - 1) + share_t * share_t / (n_t - 1))
        return _infer(diff, se, mean_c, n_c + n_t, method=method, test=test, df=df)
    except ArithmeticError:
        return _nothing(test, _OVERFLOW)


def ratio_test(control: RatioStats, treatment: RatioStats, *, method: Method) -> Comparison:
    """Difference of two request-level ratios Σs/Σc, with each arm's delta-method variance
    (:attr:`RatioStats.variance`) and a normal approximation."""
    test = "delta method" if method == "fixed-horizon" else _seq("delta method")
    try:
        r_c, r_t = control.ratio, treatment.ratio
        if r_c is None or r_t is None:
            return _nothing(test, "an arm has no requests with this measure")
        diff = r_t - r_c
        v_c, v_t = control.variance, treatment.variance
        if v_c is None or v_t is None:
            why = "an arm has fewer than 2 units (or inconsistent sums): no interval or p-value"
            return _comparison(diff, None, None, control=r_c, test=test, why=why)
        n_total = control.units + treatment.units
        return _infer(diff, math.sqrt(v_c + v_t), r_c, n_total, method=method, test=test)
    except ArithmeticError:
        return _nothing(test, _OVERFLOW)


def required_sample_size(variance: float, mde: float) -> int | None:
    """Units per arm to detect an absolute difference ``mde`` with a two-sided 5% test at 80%
    power: ``ceil(2·variance·(z₀.₉₇₅ + z₀.₈)² / mde²)``, ``variance = p(1 - p)`` for a binary
    metric. None unless the variance is positive and the MDE non-zero (both finite)."""
    if not all_finite(variance, mde) or variance <= 0 or mde == 0:
        return None
    z = Z_975 + Z_80
    squared_mde = mde * mde
    n = 2.0 * variance * z * z / squared_mde if squared_mde > 0 else math.inf
    return math.ceil(n) if math.isfinite(n) else None


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (Holm 1979), in the input order. None (or a value that is not
    a probability) stays None and does not count towards the number of tests."""
    valid = [
        (p, i) for i, p in enumerate(p_values) if p is not None and all_finite(p) and 0 <= p <= 1
    ]
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(valid)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(valid)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def _infer(
    diff: float,
    se: float,
    control: float,
    n_total: float,
    *,
    method: Method,
    test: str,
    df: float | None = None,
    se_null: float | None = None,
) -> Comparison:
    """Interval and p-value of ``diff`` with standard error ``se``. Fixed-horizon uses Student t
    when ``df`` is given (else normal) and ``se_null`` for the p-value when given."""
    ci: tuple[float, float] | None = None
    p: float | None = None
    if method == "fixed-horizon":
        if se > 0:
            crit = Z_975 if df is None else t_ppf(1 - ALPHA / 2, df)
            ci = (diff - crit * se, diff + crit * se)
        se_p = se if se_null is None else se_null
        if se_p > 0:
            z = abs(diff) / se_p
            p = 2.0 * (normal_sf(z) if df is None else t_sf(z, df))
    elif se > 0:
        half = sequential.halfwidth(se, n_total)
        ci = None if half is None else (diff - half, diff + half)
        p = sequential.p_value(diff, se, n_total)
    why = None
    if ci is None or p is None:
        missing = " and ".join(n for n, v in (("interval", ci), ("p-value", p)) if v is None)
        why = f"no variance within the arms: no {missing}"
    return _comparison(diff, ci, p, control=control, test=test, why=why)


def _comparison(
    diff: float,
    ci: tuple[float, float] | None,
    p: float | None,
    *,
    control: float,
    test: str,
    why: str | None,
) -> Comparison:
    """The one place a comparison is assembled: a value that is not a finite number becomes
    None, and the reason lists every missing piece."""
    if not all_finite(diff):
        return _nothing(test, _OVERFLOW)
    reasons = [why] if why else []
    if ci is not None and not all_finite(*ci):
        ci = None
        reasons.append("the interval is too wide to compute")
    if p is not None and not (all_finite(p) and 0.0 <= p <= 1.0):
        p = None
        reasons.append("the p-value could not be computed")
    lift = float(diff) / float(control) if control != 0 else None  # (a NumPy scalar warns)
    if control == 0:
        reasons.append(_NO_LIFT)
    elif lift is not None and not all_finite(lift):
        lift = None
        reasons.append("the control estimate is too close to 0 for a relative lift")
    return Comparison(diff, ci, lift, p, test, "; ".join(reasons) or None)


def _nothing(test: str, why: str) -> Comparison:
    return Comparison(None, None, None, None, test, why)


def _seq(name: str) -> str:
    return f"{name}, confidence sequence (N*={sequential.TUNING:g})"
