"""Per-arm estimates and treatment-versus-control comparisons, from sufficient statistics alone.

Every function takes the sums of the aggregate table (Σx, Σx², n, ...) and returns plain values:
no events, no rendering. Unit-level metrics (an outcome per randomised unit) use the textbook
tests; request-level ratios (error rate, mean latency, cost per request: one unit may make many
requests, and requests of one unit are not independent) use the delta method on the unit-level
sums (Deng, Knoblich and Lu, "Applying the Delta Method in Metric Analytics", KDD 2018).

``method="sequential"`` (the report's default) gives always-valid intervals and p-values
(:mod:`modelflags.analysis.sequential`); ``"fixed-horizon"`` the classical ones, right only at
one pre-planned look. Nothing here raises on degenerate input: what cannot be computed is None,
and :attr:`Comparison.reason` says why in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from scipy import stats

from modelflags.analysis import sequential

__all__ = [
    "ALPHA",
    "SRM_MIN_UNITS",
    "SRM_THRESHOLD",
    "Z_80",
    "Z_975",
    "Comparison",
    "Method",
    "RatioStats",
    "Srm",
    "holm",
    "mean_interval",
    "mean_test",
    "proportion_test",
    "ratio_of_estimates",
    "ratio_test",
    "required_sample_size",
    "srm_test",
    "wilson_interval",
]

Method = Literal["sequential", "fixed-horizon"]
ALPHA = sequential.ALPHA
Z_975 = 1.959963984540054  # norm.ppf(0.975)
Z_80 = 0.8416212335729143  # norm.ppf(0.8)
SRM_THRESHOLD = 0.001
"""An SRM p-value below this flags a sample-ratio mismatch."""
SRM_MIN_UNITS = 8
"""The chi-square approximation needs this many units in every arm."""

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


@dataclass(frozen=True)
class RatioStats:
    """Per-unit sums for a request-level ratio Σs/Σc over ``units`` units (the aggregate table's
    ``sum`` = Σs, ``sum_sq`` = Σs², ``count`` = Σc, ``count_sq`` = Σc², ``cross`` = Σs·c)."""

    units: float
    sum: float
    sum_sq: float
    count: float
    count_sq: float
    cross: float

    @property
    def ratio(self) -> float | None:
        """Σs/Σc; None without any request carrying the measure."""
        if not _finite(self.sum, self.count) or self.count <= 0:
            return None
        ratio = self.sum / self.count
        return ratio if math.isfinite(ratio) else None

    @property
    def variance(self) -> float | None:
        """Delta-method variance of :attr:`ratio` (Deng et al. 2018, section 3):
        ``Var(s - R·c) / (n·c̄²)`` with the unit-level sample variance (n - 1), which expands to
        ``(Σs² - 2R·Σsc + R²·Σc²) / ((n - 1)·n·c̄²)``. None with fewer than 2 units."""
        ratio = self.ratio
        fields = (self.units, self.sum_sq, self.count_sq, self.cross)
        if ratio is None or not _finite(*fields) or self.units < 2:
            return None
        n = self.units
        r2 = ratio * ratio
        ss = self.sum_sq - 2.0 * ratio * self.cross + r2 * self.count_sq
        scale = abs(self.sum_sq) + abs(2.0 * ratio * self.cross) + r2 * abs(self.count_sq)
        if not math.isfinite(ss) or ss < -1e-9 * scale:
            return None  # the sums contradict each other, or overflow
        if ss <= 1e-12 * scale:
            ss = 0.0
        mean_count = self.count / n
        denominator = (n - 1.0) * n * mean_count * mean_count
        variance = ss / denominator if denominator > 0 else math.inf
        return variance if math.isfinite(variance) else None


@dataclass(frozen=True)
class Srm:
    """Sample-ratio mismatch: units per arm against the split's weights (chi-square)."""

    p_value: float | None
    mismatch: bool  # p < SRM_THRESHOLD
    observed: Mapping[str, float]
    expected: Mapping[str, float]
    skipped: str | None = None


def wilson_interval(successes: float, n: float) -> tuple[float, float] | None:
    """Wilson score 95% interval of a rate (Wilson 1927); None without units (n < 1) or when
    ``successes`` is outside 0..n."""
    if not _finite(successes, n) or n < 1 or not 0 <= successes <= n:
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
    variance = _sample_variance(total, total_sq, n)
    if variance is None:
        return None
    mean = total / n
    half = float(stats.t.ppf(1 - ALPHA / 2, n - 1)) * math.sqrt(variance / n)
    return (mean - half, mean + half)


def proportion_test(
    x_c: float, n_c: float, x_t: float, n_t: float, *, method: Method
) -> Comparison:
    """Difference of two rates. Fixed-horizon: pooled two-proportion z-test p-value, interval
    with the unpooled (Wald) standard error. Sequential: the confidence sequence on the unpooled
    standard error and its always-valid p-value (so that it inverts the reported interval)."""
    test = "two-proportion z (pooled)" if method == "fixed-horizon" else _seq("two-proportion")
    if not _finite(x_c, n_c, x_t, n_t):
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
    if not _finite(sum_c, sum_sq_c, n_c, sum_t, sum_sq_t, n_t):
        return _nothing(test, "the sums are not finite numbers")
    if n_c < 1 or n_t < 1:
        return _nothing(test, "an arm has no units")
    try:
        mean_c, mean_t = sum_c / n_c, sum_t / n_t
        diff = mean_t - mean_c
        if min(n_c, n_t) < 2:
            return _comparison(diff, None, None, control=mean_c, test=test, why=_FEW_UNITS)
        var_c = _sample_variance(sum_c, sum_sq_c, n_c)
        var_t = _sample_variance(sum_t, sum_sq_t, n_t)
        if var_c is None or var_t is None:
            return _nothing(test, "inconsistent sums: Σx² is smaller than (Σx)²/n")
        a, b = var_c / n_c, var_t / n_t
        se = math.sqrt(a + b)
        df = (a + b) * (a + b) / (a * a / (n_c - 1) + b * b / (n_t - 1)) if se > 0 else None
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


def ratio_of_estimates(
    est_c: float, var_c: float, est_t: float, var_t: float, n_total: float, *, method: Method
) -> tuple[float, float, float] | None:
    """``(est_t/est_c, low, high)``: the 95% interval of the ratio of two independent positive
    estimates with variances ``var_c``, ``var_t``, by the delta method on the log:
    ``Var(ln r) ≈ var_t/est_t² + var_c/est_c²`` (for two rates this is statsmodels'
    ``confint_proportions_2indep(compare="ratio", method="log")``). Sequential widens it with the
    confidence sequence at ``n_total`` units. None when an estimate is not positive, a variance
    is negative, both are 0, or ``n_total < 2``."""
    if not _finite(est_c, var_c, est_t, var_t, n_total):
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
    return result if _finite(*result) else None


def srm_test(observed: Mapping[str, float], weights: Mapping[str, float]) -> Srm:
    """Chi-square goodness of fit of the units per arm against the split's weights, flagged at
    p < 0.001; skipped (with the reason) when any arm has fewer than 8 units. Arms with a
    positive weight are the categories; an arm missing from ``observed`` has 0 units."""
    arms = [arm for arm, weight in weights.items() if _finite(weight) and weight > 0]
    counts = {arm: float(observed.get(arm, 0.0)) for arm in arms}
    total_weight = sum(weights[arm] for arm in arms)
    total = sum(counts.values())
    expected: dict[str, float] = {}
    if _finite(total, total_weight) and total_weight > 0:
        expected = {arm: total * (weights[arm] / total_weight) for arm in arms}

    def skip(why: str) -> Srm:
        return Srm(None, False, counts, expected, skipped=why)

    if len(arms) < 2:
        return skip("the split has fewer than two arms with a positive weight")
    if not _finite(*counts.values()) or any(c < 0 for c in counts.values()):
        return skip("a unit count is negative or not a finite number")
    stray = sorted(a for a, c in observed.items() if a not in counts and _finite(c) and c > 0)
    if stray:
        return skip(f"units in arms without a positive weight: {', '.join(stray)}")
    small = sorted(arm for arm, c in counts.items() if c < SRM_MIN_UNITS)
    if small:
        return skip(
            f"fewer than {SRM_MIN_UNITS} units in {', '.join(small)}: "
            "too few for the chi-square test"
        )
    if len(expected) != len(arms) or not all(_finite(e) and e > 0 for e in expected.values()):
        return skip("a weight is too small next to the others to expect any unit")
    chi2 = sum((counts[a] - expected[a]) * (counts[a] - expected[a]) / expected[a] for a in arms)
    if not _finite(chi2):
        return skip("the unit counts are too large to compute with")
    p = float(stats.chi2.sf(chi2, len(arms) - 1))
    return Srm(p, p < SRM_THRESHOLD, counts, expected)


def required_sample_size(variance: float, mde: float) -> int | None:
    """Units per arm to detect an absolute difference ``mde`` with a two-sided 5% test at 80%
    power: ``ceil(2·variance·(z₀.₉₇₅ + z₀.₈)² / mde²)``, ``variance = p(1 - p)`` for a binary
    metric. None unless the variance is positive and the MDE non-zero (both finite)."""
    if not _finite(variance, mde) or variance <= 0 or mde == 0:
        return None
    z = Z_975 + Z_80
    squared_mde = mde * mde
    n = 2.0 * variance * z * z / squared_mde if squared_mde > 0 else math.inf
    return math.ceil(n) if math.isfinite(n) else None


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (Holm 1979), in the input order. None (or a value that is not
    a probability) stays None and does not count towards the number of tests."""
    valid = [(p, i) for i, p in enumerate(p_values) if p is not None and _finite(p) and 0 <= p <= 1]
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
            crit = Z_975 if df is None else float(stats.t.ppf(1 - ALPHA / 2, df))
            ci = (diff - crit * se, diff + crit * se)
        se_p = se if se_null is None else se_null
        if se_p > 0:
            z = abs(diff) / se_p
            p = 2.0 * float(stats.norm.sf(z) if df is None else stats.t.sf(z, df))
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
    if not _finite(diff):
        return _nothing(test, _OVERFLOW)
    reasons = [why] if why else []
    if ci is not None and not _finite(*ci):
        ci = None
        reasons.append("the interval is too wide to compute")
    if p is not None and not (_finite(p) and 0.0 <= p <= 1.0):
        p = None
        reasons.append("the p-value could not be computed")
    lift = diff / control if control != 0 else None
    if control == 0:
        reasons.append(_NO_LIFT)
    elif lift is not None and not _finite(lift):
        lift = None
        reasons.append("the control estimate is too close to 0 for a relative lift")
    return Comparison(diff, ci, lift, p, test, "; ".join(reasons) or None)


def _nothing(test: str, why: str) -> Comparison:
    return Comparison(None, None, None, None, test, why)


def _seq(name: str) -> str:
    return f"{name}, confidence sequence (N*={sequential.TUNING:g})"


def _sample_variance(total: float, total_sq: float, n: float) -> float | None:
    """(Σx² - (Σx)²/n)/(n - 1), with rounding noise of a constant sample taken as 0; None for
    n < 2 or sums that contradict each other."""
    if not _finite(total, total_sq, n) or n < 2 or total_sq < 0:
        return None
    ss = total_sq - total * total / n
    if ss < -1e-9 * total_sq:
        return None
    return 0.0 if ss <= 1e-12 * total_sq else ss / (n - 1)


def _finite(*values: float) -> bool:
    try:
        return all(math.isfinite(v) for v in values)
    except TypeError:
        return False
