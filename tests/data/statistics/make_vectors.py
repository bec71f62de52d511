"""Regenerate ``vectors.json``: reference values for ``modelflags.analysis`` statistics.

Run from the project root (needs numpy, scipy and statsmodels)::

    .venv/bin/python tests/data/statistics/make_vectors.py

Nothing here imports ``modelflags``. Every expected value comes from an independent source,
named in each case's ``computed_by``:

- statsmodels and scipy directly: ``proportion_confint(method="wilson")``,
  ``DescrStatsW.tconfint_mean``, ``proportions_ztest`` (pooled),
  ``confint_proportions_2indep`` (Wald difference; log ratio), ``CompareMeans.ttest_ind`` and
  ``tconfint_diff`` with ``usevar="unequal"`` (Welch), ``scipy.stats.chisquare``,
  ``multipletests(method="holm")``, ``NormalIndPower`` next to the closed-form sample size;
- the delta method by brute force on simulated per-unit data: the variance of the linearised
  per-unit values ``(s - R·c)/c̄``, not the sums the module uses;
- the confidence sequences by a separate transcription of Waudby-Smith et al.
  (arXiv:2103.06476, eq. 9 and 161), the always-valid p-value by root-finding over alpha (the
  module has a closed form);
- the sketch by exact rational arithmetic (``gamma = 101/99``) and
  ``numpy.quantile(method="lower")``, the quantile interval's ranks by a scan of
  ``scipy.stats.binom.cdf``.

Degenerate cases (no units, n < 2, zero variance, ...) have the documented "not computable"
answer, with ``computed_by`` saying so. Inputs come from a seeded numpy Generator, so the output
is the same on every run with the same library versions, which the file records (the committed
file: Python 3.11.7, numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0).
``tests/analysis/test_statistics.py`` checks that this script still writes the committed file.
"""

from __future__ import annotations

import json
import math
import platform
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import statsmodels
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

OUT = Path(__file__).with_name("vectors.json")
SEED = 20261129
ALPHA = 0.05
N_STAR = 5000.0
GAMMA = Fraction(101, 99)  # (1 + 0.01) / (1 - 0.01), exactly

Case = dict[str, Any]
NOTHING = {"diff": None, "ci95": None, "relative_lift": None, "p_value": None}


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def _pair(lo: Any, hi: Any) -> list[float]:
    return [float(lo), float(hi)]


def _comparison(
    diff: float | None,
    ci: list[float] | None,
    lift: float | None,
    p: float | None,
) -> dict[str, Any]:
    return {"diff": _f(diff), "ci95": ci, "relative_lift": _f(lift), "p_value": _f(p)}


def _point(diff: float, lift: float | None) -> dict[str, Any]:
    """A comparison with its point estimates only: no interval, no p-value."""
    return _comparison(diff, None, lift, None)


# -- confidence sequences: eq. 161 and eq. 9 of Waudby-Smith et al., written out again -------


def cs_rho(alpha: float = ALPHA, n_star: float = N_STAR) -> float:
    """Eq. 161: rho^2 = (-2 log(alpha) + log(-2 log(alpha) + 1)) / N*."""
    a = -2.0 * np.log(alpha)
    return float(np.sqrt((a + np.log(a + 1.0)) / n_star))


def cs_radius(se: float, n: float, alpha: float) -> float:
    """Eq. 9 for a mean of n observations with standard deviation sigma = se * sqrt(n)."""
    rho = cs_rho()
    t = n
    sigma = se * np.sqrt(t)
    inner = (2.0 * (t * rho**2 + 1.0)) / (t**2 * rho**2) * np.log(np.sqrt(t * rho**2 + 1.0) / alpha)
    return float(sigma * np.sqrt(inner))


def cs_p_value(estimate: float, se: float, n: float) -> float:
    """The smallest alpha whose sequence excludes 0, found by root-finding on log(alpha)."""
    gap = lambda log_a: cs_radius(se, n, math.exp(log_a)) - abs(estimate)  # noqa: E731
    if gap(math.log1p(-1e-15)) >= 0:
        return 1.0
    low = -1.0
    while gap(low) < 0:
        low *= 2.0
    root = optimize.brentq(gap, low, math.log1p(-1e-15), xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return math.exp(root)


def cs_interval(estimate: float, se: float, n: float) -> tuple[list[float], float]:
    radius = cs_radius(se, n, ALPHA)
    return [estimate - radius, estimate + radius], cs_p_value(estimate, se, n)


# -- per-arm intervals -------------------------------------------------------------------------


def wilson_cases() -> list[Case]:
    cases = []
    for x, n in [
        (0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (1, 2), (50, 100), (1, 1000),
        (999, 1000), (12345, 100000), (2.5, 10), (5, 7), (17, 200),
    ]:  # fmt: skip
        lo, hi = proportion_confint(x, n, alpha=ALPHA, method="wilson")
        cases.append(
            {
                "name": f"{x} of {n}",
                "inputs": {"successes": x, "n": n},
                "expected": _pair(lo, hi),
                "computed_by": 'statsmodels proportion_confint(method="wilson")',
            }
        )
    for x, n, why in [(0, 0, "no units"), (11, 10, "successes > n"), (-1, 10, "successes < 0")]:
        cases.append(
            {
                "name": why,
                "inputs": {"successes": x, "n": n},
                "expected": None,
                "computed_by": f"not computable: {why}",
            }
        )
    return cases


def _sums(x: np.ndarray) -> dict[str, float]:
    return {"total": math.fsum(x), "total_sq": math.fsum(x * x), "n": float(len(x))}


def mean_interval_cases(rng: np.random.Generator) -> list[Case]:
    samples = {
        "normal n=2": rng.normal(10, 3, 2),
        "normal n=3": rng.normal(10, 3, 3),
        "normal n=30": rng.normal(10, 3, 30),
        "normal n=1000": rng.normal(-4, 0.5, 1000),
        "exponential n=50": rng.exponential(2.0, 50),
        "lognormal n=200": rng.lognormal(6, 1, 200),
        "binary n=40": (rng.random(40) < 0.3).astype(float),
        "poisson n=500": rng.poisson(3, 500).astype(float),
        "constant n=10": np.full(10, 5.0),
        "all zero n=25": np.zeros(25),
        "cost n=80": rng.gamma(2.0, 0.002, 80),
    }
    cases = []
    for name, x in samples.items():
        lo, hi = DescrStatsW(x).tconfint_mean(alpha=ALPHA)
        cases.append(
            {
                "name": name,
                "inputs": _sums(x),
                "expected": _pair(lo, hi),
                "computed_by": "statsmodels DescrStatsW(x).tconfint_mean() on the raw sample",
            }
        )
    for name, inputs in [
        ("n=1", {"total": 4.0, "total_sq": 16.0, "n": 1.0}),
        ("n=0", {"total": 0.0, "total_sq": 0.0, "n": 0.0}),
        ("inconsistent sums", {"total": 10.0, "total_sq": 1.0, "n": 5.0}),
    ]:
        cases.append(
            {
                "name": name,
                "inputs": inputs,
                "expected": None,
                "computed_by": f"not computable: {name}",
            }
        )
    return cases


# -- comparisons ---------------------------------------------------------------------------------


def proportion_cases() -> list[Case]:
    cases = []
    z = float(stats.norm.isf(ALPHA / 2))
    for x_c, n_c, x_t, n_t in [
        (200, 1000, 230, 1000), (50, 500, 40, 520), (5, 20, 9, 21), (1000, 10000, 1100, 10000),
        (0, 100, 3, 100), (12, 40, 12, 40), (480, 5000, 520, 5000),
        (30000, 100000, 30500, 100000), (2, 3, 1, 2), (7, 2400, 19, 2600),
    ]:  # fmt: skip
        inputs = {"x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t}
        p_c, p_t = x_c / n_c, x_t / n_t
        diff, lift = p_t - p_c, ((p_t - p_c) / p_c if p_c else None)
        _, p_fixed = proportions_ztest([x_t, x_c], [n_t, n_c])
        lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
        se = (hi - lo) / (2 * z)  # the unpooled (Wald) standard error, read off statsmodels
        seq_ci, seq_p = cs_interval(diff, se, n_c + n_t)
        name = f"{x_c}/{n_c} vs {x_t}/{n_t}"
        cases.append(
            {
                "name": name,
                "method": "fixed-horizon",
                "inputs": inputs,
                "expected": _comparison(diff, _pair(lo, hi), lift, p_fixed),
                "computed_by": "statsmodels proportions_ztest (pooled) and "
                'confint_proportions_2indep(method="wald", compare="diff")',
            }
        )
        cases.append(
            {
                "name": name,
                "method": "sequential",
                "inputs": inputs,
                "expected": _comparison(diff, seq_ci, lift, seq_p),
                "computed_by": "Wald standard error from statsmodels; confidence sequence by "
                "transcription of eq. 9/161, p-value by root-finding",
            }
        )
    # every unit in each arm alike, but the arms differ: the pooled test still has variance
    _, p_fixed = proportions_ztest([50, 0], [50, 50])
    for method, p in [("fixed-horizon", p_fixed), ("sequential", None)]:
        cases.append(
            {
                "name": "0/50 vs 50/50",
                "method": method,
                "inputs": {"x_c": 0, "n_c": 50, "x_t": 50, "n_t": 50},
                "expected": _comparison(1.0, None, None, p),
                "computed_by": "no variance within the arms: no interval"
                + ("; statsmodels proportions_ztest (pooled)" if p is not None else ""),
            }
        )
    for name, inputs, expected in [
        ("no variance at all", (0, 100, 0, 100), _comparison(0.0, None, None, None)),
        ("all successes", (100, 100, 100, 100), _comparison(0.0, None, 0.0, None)),
        ("an arm with 1 unit", (1, 1, 0, 3), _comparison(-1.0, None, -1.0, None)),
        ("an arm without units", (0, 0, 1, 5), _comparison(None, None, None, None)),
        ("successes above units", (3, 2, 1, 5), _comparison(None, None, None, None)),
    ]:
        for method in ("fixed-horizon", "sequential"):
            x_c, n_c, x_t, n_t = inputs
            cases.append(
                {
                    "name": name,
                    "method": method,
                    "inputs": {"x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t},
                    "expected": expected,
                    "computed_by": f"not computable: {name}",
                }
            )
    return cases


def _zero_sum(x: np.ndarray) -> np.ndarray:
    """Integers whose sum is exactly 0 (the last one balances the rest)."""
    x = x.astype(float)
    x[-1] = -x[:-1].sum()
    return x


def mean_cases(rng: np.random.Generator) -> list[Case]:
    samples = {
        "normal 50 vs 60": (rng.normal(10, 3, 50), rng.normal(11, 3, 60)),
        "unequal variances": (rng.normal(5, 1, 40), rng.normal(5.5, 4, 35)),
        "exponential": (rng.exponential(2.0, 300), rng.exponential(2.2, 280)),
        "two per arm": (rng.normal(0, 1, 2), rng.normal(1, 1, 2)),
        "2 vs 500": (rng.normal(3, 1, 2), rng.normal(3, 1, 500)),
        "binary": ((rng.random(400) < 0.3) * 1.0, (rng.random(380) < 0.36) * 1.0),
        "poisson counts": (rng.poisson(4, 1000) * 1.0, rng.poisson(4.1, 1000) * 1.0),
        "lognormal cost": (rng.lognormal(-5, 1, 700), rng.lognormal(-5.1, 1, 650)),
        "constant control": (np.full(30, 2.0), rng.normal(2.5, 1, 30)),
        "control mean 0": (_zero_sum(rng.integers(-5, 6, 20)), rng.normal(0.3, 1, 25)),
        "large arms": (rng.normal(100, 20, 20000), rng.normal(100.4, 20, 20000)),
    }
    cases = []
    for name, (c, t) in samples.items():
        inputs = {
            "sum_c": math.fsum(c), "sum_sq_c": math.fsum(c * c), "n_c": float(len(c)),
            "sum_t": math.fsum(t), "sum_sq_t": math.fsum(t * t), "n_t": float(len(t)),
        }  # fmt: skip
        cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        _, p, _ = cm.ttest_ind(usevar="unequal")
        lo, hi = cm.tconfint_diff(alpha=ALPHA, usevar="unequal")
        with warnings.catch_warnings():  # a constant arm: scipy warns, the value is right
            warnings.simplefilter("ignore", RuntimeWarning)
            _, p_scipy = stats.ttest_ind(t, c, equal_var=False)
        assert math.isclose(p, p_scipy, rel_tol=1e-9), (name, p, p_scipy)
        diff = float(np.mean(t) - np.mean(c))
        lift = diff / np.mean(c) if np.mean(c) != 0 else None
        se = float(cm.std_meandiff_separatevar)
        seq_ci, seq_p = cs_interval(diff, se, len(c) + len(t))
        cases.append(
            {
                "name": name,
                "method": "fixed-horizon",
                "inputs": inputs,
                "expected": _comparison(diff, _pair(lo, hi), lift, p),
                "computed_by": "statsmodels CompareMeans.ttest_ind / tconfint_diff "
                '(usevar="unequal") on the raw samples; scipy ttest_ind(equal_var=False) agrees',
            }
        )
        cases.append(
            {
                "name": name,
                "method": "sequential",
                "inputs": inputs,
                "expected": _comparison(diff, seq_ci, lift, seq_p),
                "computed_by": "statsmodels std_meandiff_separatevar; confidence sequence by "
                "transcription of eq. 9/161, p-value by root-finding",
            }
        )
    for name, inputs, expected in [
        ("both constant, equal", (20.0, 40.0, 10.0, 20.0, 40.0, 10.0), _point(0.0, 0.0)),
        ("both constant, different", (20.0, 40.0, 10.0, 30.0, 90.0, 10.0), _point(1.0, 0.5)),
        ("an arm with 1 unit", (3.0, 9.0, 1.0, 8.0, 34.0, 2.0), _point(1.0, 1 / 3)),
        ("an arm without units", (0.0, 0.0, 0.0, 8.0, 34.0, 2.0), NOTHING),
        ("inconsistent sums", (10.0, 1.0, 5.0, 8.0, 34.0, 2.0), NOTHING),
    ]:  # fmt: skip
        keys = ("sum_c", "sum_sq_c", "n_c", "sum_t", "sum_sq_t", "n_t")
        for method in ("fixed-horizon", "sequential"):
            cases.append(
                {
                    "name": name,
                    "method": method,
                    "inputs": dict(zip(keys, inputs, strict=True)),
                    "expected": expected,
                    "computed_by": f"not computable: {name}",
                }
            )
    return cases


def _ratio_sums(s: np.ndarray, c: np.ndarray) -> dict[str, float]:
    return {
        "units": float(len(s)),
        "sum": math.fsum(s),
        "sum_sq": math.fsum(s * s),
        "count": math.fsum(c),
        "count_sq": math.fsum(c * c),
        "cross": math.fsum(s * c),
    }


def _delta_brute(s: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Ratio and delta-method variance from the per-unit values themselves."""
    ratio = s.sum() / c.sum()
    influence = (s - ratio * c) / c.mean()
    return float(ratio), float(np.var(influence, ddof=1) / len(s))


def _simulate_units(
    rng: np.random.Generator, units: int, kind: str, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit (s, c): the sum of a request measure and the number of requests carrying it."""
    exposures = 1 + rng.poisson(1.5, units)
    s, c = np.zeros(units), np.zeros(units)
    for i, k in enumerate(exposures):
        if kind == "error":
            s[i], c[i] = float((rng.random(k) < level).sum()), float(k)
        else:  # latency or cost: about one request in ten does not record it
            carried = rng.random(k) < 0.9
            s[i] = float(rng.lognormal(level, 0.8, k)[carried].sum())
            c[i] = float(carried.sum())
    return s, c


def ratio_cases(rng: np.random.Generator) -> tuple[list[Case], list[Case]]:
    arms = {
        "error rate": (("error", 0.05, 500), ("error", 0.07, 520)),
        "latency": (("latency", 6.0, 300), ("latency", 6.1, 320)),
        "cost": (("cost", -6.0, 800), ("cost", -6.05, 760)),
        "small arms": (("latency", 6.0, 3), ("latency", 6.0, 4)),
        "rare errors": (("error", 0.002, 2000), ("error", 0.004, 2000)),
        "one exposure each": (("error", 0.2, 50), ("error", 0.3, 50)),
    }
    stats_cases: list[Case] = []
    cases: list[Case] = []
    for name, ((kind_c, level_c, n_c), (kind_t, level_t, n_t)) in arms.items():
        s_c, c_c = _simulate_units(rng, n_c, kind_c, level_c)
        s_t, c_t = _simulate_units(rng, n_t, kind_t, level_t)
        if name == "one exposure each":
            c_c, c_t = np.ones(n_c), np.ones(n_t)
            s_c, s_t = np.minimum(s_c, 1.0), np.minimum(s_t, 1.0)
        r_c, v_c = _delta_brute(s_c, c_c)
        r_t, v_t = _delta_brute(s_t, c_t)
        for arm, (s, c, r, v) in {"control": (s_c, c_c, r_c, v_c), "treatment": (s_t, c_t, r_t, v_t)}.items():  # fmt: skip  # noqa: E501
            stats_cases.append(
                {
                    "name": f"{name}, {arm}",
                    "inputs": _ratio_sums(s, c),
                    "expected": {"ratio": r, "variance": v},
                    "computed_by": "numpy: ratio of sums, ddof=1 variance of the per-unit "
                    "linearised values (s - R c) / mean(c), over n",
                }
            )
        diff = r_t - r_c
        se = math.sqrt(v_c + v_t)
        z = float(stats.norm.isf(ALPHA / 2))
        p = float(2 * stats.norm.sf(abs(diff) / se))
        seq_ci, seq_p = cs_interval(diff, se, n_c + n_t)
        lift = diff / r_c
        inputs = {"control": _ratio_sums(s_c, c_c), "treatment": _ratio_sums(s_t, c_t)}
        cases.append(
            {
                "name": name,
                "method": "fixed-horizon",
                "inputs": inputs,
                "expected": _comparison(diff, [diff - z * se, diff + z * se], lift, p),
                "computed_by": "brute-force per-unit delta method (numpy); normal "
                "interval and p-value from scipy.stats.norm",
            }
        )
        cases.append(
            {
                "name": name,
                "method": "sequential",
                "inputs": inputs,
                "expected": _comparison(diff, seq_ci, lift, seq_p),
                "computed_by": "brute-force per-unit delta method (numpy); confidence "
                "sequence by transcription of eq. 9/161, p-value by root-finding",
            }
        )
    # control without errors, treatment with some: the test stands, the lift does not
    s_c, c_c = np.zeros(300), 1.0 + rng.poisson(1.0, 300)
    s_t, c_t = _simulate_units(rng, 300, "error", 0.01)
    r_t, v_t = _delta_brute(s_t, c_t)
    se = math.sqrt(v_t)
    z = float(stats.norm.isf(ALPHA / 2))
    inputs = {"control": _ratio_sums(s_c, c_c), "treatment": _ratio_sums(s_t, c_t)}
    for method, ci, p in [
        ("fixed-horizon", [r_t - z * se, r_t + z * se], 2 * stats.norm.sf(r_t / se)),
        ("sequential", *cs_interval(r_t, se, 600)),
    ]:
        cases.append(
            {
                "name": "no errors in control",
                "method": method,
                "inputs": inputs,
                "expected": _comparison(r_t, ci, None, p),
                "computed_by": "brute-force per-unit delta method; control variance 0",
            }
        )
    one = {"units": 1.0, "sum": 2.0, "sum_sq": 4.0, "count": 2.0, "count_sq": 4.0, "cross": 4.0}
    none = {"units": 4.0, "sum": 0.0, "sum_sq": 0.0, "count": 0.0, "count_sq": 0.0, "cross": 0.0}
    quiet = {"units": 5.0, "sum": 0.0, "sum_sq": 0.0, "count": 9.0, "count_sq": 19.0, "cross": 0.0}
    stats_cases += [
        {
            "name": "one unit",
            "inputs": one,
            "expected": {"ratio": 1.0, "variance": None},
            "computed_by": "not computable: variance needs 2 units",
        },
        {
            "name": "no requests carry the measure",
            "inputs": none,
            "expected": {"ratio": None, "variance": None},
            "computed_by": "not computable: no requests",
        },
    ]
    for name, control, treatment, expected in [
        ("an arm with 1 unit", one, quiet, _comparison(-1.0, None, -1.0, None)),
        ("an arm without requests", none, quiet, _comparison(None, None, None, None)),
        ("no errors anywhere", quiet, quiet, _comparison(0.0, None, None, None)),
    ]:
        for method in ("fixed-horizon", "sequential"):
            cases.append(
                {
                    "name": name,
                    "method": method,
                    "inputs": {"control": control, "treatment": treatment},
                    "expected": expected,
                    "computed_by": f"not computable: {name}",
                }
            )
    return stats_cases, cases


def ratio_of_estimates_cases() -> list[Case]:
    cases = []
    z = float(stats.norm.isf(ALPHA / 2))
    for x_c, n_c, x_t, n_t in [(200, 1000, 230, 1000), (30, 700, 45, 650), (9, 50, 4, 60)]:
        p_c, p_t = x_c / n_c, x_t / n_t
        inputs = {
            "est_c": p_c, "var_c": p_c * (1 - p_c) / n_c,
            "est_t": p_t, "var_t": p_t * (1 - p_t) / n_t, "n_total": float(n_c + n_t),
        }  # fmt: skip
        lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, compare="ratio", method="log")
        cases.append(
            {
                "name": f"rates {x_c}/{n_c} vs {x_t}/{n_t}",
                "method": "fixed-horizon",
                "inputs": inputs,
                "expected": [p_t / p_c, float(lo), float(hi)],
                "computed_by": 'statsmodels confint_proportions_2indep(compare="ratio", '
                'method="log")',
            }
        )
    for name, est_c, var_c, est_t, var_t, n_total in [
        ("p95 latency", 812.0, 140.0, 760.0, 150.0, 4000.0),
        ("cost per request", 0.0031, 1.2e-9, 0.0042, 2.1e-9, 1500.0),
        ("treatment exact", 50.0, 4.0, 55.0, 0.0, 200.0),
        ("small n", 10.0, 9.0, 12.0, 9.0, 2.0),
    ]:
        se_log = math.sqrt(var_t / est_t**2 + var_c / est_c**2)
        log_r = math.log(est_t) - math.log(est_c)
        inputs = {
            "est_c": est_c, "var_c": var_c, "est_t": est_t, "var_t": var_t, "n_total": n_total,
        }  # fmt: skip
        for method, half in [
            ("fixed-horizon", z * se_log),
            ("sequential", cs_radius(se_log, n_total, ALPHA)),
        ]:
            cases.append(
                {
                    "name": name,
                    "method": method,
                    "inputs": inputs,
                    "expected": [est_t / est_c, math.exp(log_r - half), math.exp(log_r + half)],
                    "computed_by": "exp(log ratio ± half-width), half-width "
                    + ("z·se of the log" if method == "fixed-horizon" else "eq. 9 on the log"),
                }
            )
    for name, inputs in [
        ("control estimate 0", (0.0, 1.0, 2.0, 1.0, 100.0)),
        ("negative estimate", (-1.0, 1.0, 2.0, 1.0, 100.0)),
        ("negative variance", (1.0, -1.0, 2.0, 1.0, 100.0)),
        ("no variance", (1.0, 0.0, 2.0, 0.0, 100.0)),
        ("one unit", (1.0, 1.0, 2.0, 1.0, 1.0)),
    ]:
        keys = ("est_c", "var_c", "est_t", "var_t", "n_total")
        for method in ("fixed-horizon", "sequential"):
            cases.append(
                {
                    "name": name,
                    "method": method,
                    "inputs": dict(zip(keys, inputs, strict=True)),
                    "expected": None,
                    "computed_by": f"not computable: {name}",
                }
            )
    return cases


# -- SRM, Holm, sample size -------------------------------------------------------------------


def srm_cases() -> list[Case]:
    cases = []
    for name, observed, weights in [
        ("balanced", {"control": 5000, "candidate": 5000}, {"control": 50, "candidate": 50}),
        ("slight drift", {"control": 5050, "candidate": 4950}, {"control": 50, "candidate": 50}),
        ("2% off", {"control": 10000, "candidate": 10400}, {"control": 50, "candidate": 50}),
        ("strong mismatch", {"control": 1000, "candidate": 1200}, {"control": 1, "candidate": 1}),
        ("90/10", {"control": 9000, "candidate": 1060}, {"control": 90, "candidate": 10}),
        ("90/10 mismatch", {"control": 9000, "candidate": 800}, {"control": 90, "candidate": 10}),
        ("three arms", {"a": 3300, "b": 3350, "c": 3210}, {"a": 1, "b": 1, "c": 1}),
        ("weights 1:3", {"a": 260, "b": 740}, {"a": 1, "b": 3}),
        ("eight units", {"a": 8, "b": 12}, {"a": 50, "b": 50}),
        ("zero-weight arm", {"a": 520, "b": 480}, {"a": 50, "b": 50, "off": 0}),
    ]:
        arms = [a for a, w in weights.items() if w > 0]
        total = sum(observed.get(a, 0) for a in arms)
        total_w = sum(weights[a] for a in arms)
        f_obs = [float(observed.get(a, 0)) for a in arms]
        f_exp = [total * weights[a] / total_w for a in arms]
        result = stats.chisquare(f_obs, f_exp)
        cases.append(
            {
                "name": name,
                "inputs": {"observed": observed, "weights": weights},
                "expected": {
                    "p_value": float(result.pvalue),
                    "mismatch": bool(result.pvalue < 0.001),
                    "expected": dict(zip(arms, f_exp, strict=True)),
                    "skipped": False,
                },
                "computed_by": "scipy.stats.chisquare(observed, expected)",
            }
        )
    for name, observed, weights in [
        ("seven units", {"a": 7, "b": 12}, {"a": 50, "b": 50}),
        ("an arm without units", {"a": 40}, {"a": 50, "b": 50}),
        ("one arm", {"a": 400}, {"a": 100}),
        ("units outside the split", {"a": 40, "b": 41, "x": 3}, {"a": 50, "b": 50}),
    ]:
        cases.append(
            {
                "name": name,
                "inputs": {"observed": observed, "weights": weights},
                "expected": {"p_value": None, "mismatch": False, "skipped": True},
                "computed_by": f"skipped: {name}",
            }
        )
    return cases


def holm_cases() -> list[Case]:
    lists: list[list[float | None]] = [
        [0.01, 0.04, 0.03, 0.005],
        [0.5],
        [0.001, 0.001, 0.2],
        [0.04, 0.04, 0.04],
        [0.9, 0.8, 0.7, 0.6, 0.5],
        [0.0, 0.05, 1.0],
        [0.012, 0.2, 0.031, 0.0004, 0.049, 0.75, 0.008],
        [1e-12, 0.3],
        [0.02, None, 0.01, None],
        [None],
        [],
    ]
    cases = []
    for p_values in lists:
        present = [p for p in p_values if p is not None]
        adjusted = list(multipletests(present, method="holm")[1]) if present else []
        it = iter(adjusted)
        expected = [None if p is None else float(next(it)) for p in p_values]
        cases.append(
            {
                "name": repr(p_values),
                "inputs": {"p_values": p_values},
                "expected": expected,
                "computed_by": 'statsmodels multipletests(method="holm") on the present values',
            }
        )
    return cases


def sample_size_cases() -> list[Case]:
    z = float(stats.norm.ppf(0.975) + stats.norm.ppf(0.8))
    cases = []
    for name, variance, mde in [
        ("10% rate, 1 point", 0.1 * 0.9, 0.01),
        ("10% rate, 2 points", 0.1 * 0.9, 0.02),
        ("50% rate, 5 points", 0.25, 0.05),
        ("2% rate, half a point", 0.02 * 0.98, 0.005),
        ("30% rate, 3 points", 0.3 * 0.7, 0.03),
        ("numeric, sd 5, mde 1", 25.0, 1.0),
        ("numeric, sd 0.002, mde 0.0001", 4e-6, 1e-4),
        ("large effect", 0.25, 0.4),
        ("negative mde", 0.25, -0.05),
    ]:
        closed = math.ceil(2 * variance * z**2 / mde**2)
        solved = NormalIndPower().solve_power(
            effect_size=abs(mde) / math.sqrt(variance), alpha=ALPHA, power=0.8, ratio=1.0
        )
        cases.append(
            {
                "name": name,
                "inputs": {"variance": variance, "mde": mde},
                "expected": closed,
                "statsmodels_n": float(solved),
                "computed_by": "closed form with scipy.stats.norm.ppf; statsmodels "
                "NormalIndPower().solve_power as statsmodels_n (counts both tails)",
            }
        )
    for name, variance, mde in [("no variance", 0.0, 0.01), ("no effect", 0.25, 0.0)]:
        cases.append(
            {
                "name": name,
                "inputs": {"variance": variance, "mde": mde},
                "expected": None,
                "computed_by": f"not computable: {name}",
            }
        )
    return cases


# -- confidence sequences ---------------------------------------------------------------------


def sequential_cases() -> dict[str, list[Case]]:
    rho_cases = []
    for alpha, n_star in [(0.05, 5000.0), (0.05, 1000.0), (0.01, 5000.0), (0.1, 100.0)]:
        rho_cases.append(
            {
                "name": f"alpha={alpha}, N*={n_star:g}",
                "inputs": {"alpha": alpha, "tuning": n_star},
                "expected": cs_rho(alpha, n_star),
                "computed_by": "transcription of eq. 161",
            }
        )
    width_cases = []
    for se, n, alpha in [
        (0.5, 1.0, 0.05), (0.1, 2.0, 0.05), (0.02, 100.0, 0.05), (0.01, 1000.0, 0.05),
        (0.004, 5000.0, 0.05), (0.003, 10000.0, 0.05), (0.0001, 1e6, 0.05), (0.02, 100.0, 0.01),
        (0.02, 100.0, 0.2), (0.004, 5000.0, 0.001), (0.0, 100.0, 0.05), (2.5, 40.0, 0.05),
        (0.05, 3.0, 0.05), (1e-5, 1e8, 0.05), (0.01, 5174.0, 0.05),
    ]:  # fmt: skip
        width_cases.append(
            {
                "name": f"se={se}, n={n:g}, alpha={alpha}",
                "inputs": {"standard_error": se, "n": n, "alpha": alpha},
                "expected": cs_radius(se, n, alpha),
                "computed_by": "transcription of eq. 9 (rho from alpha=0.05, N*=5000)",
            }
        )
    p_cases = []
    for estimate, se, n in [
        (0.05, 0.02, 2000.0), (0.05, 0.01, 5000.0), (0.2, 0.01, 10000.0), (0.0, 0.01, 100.0),
        (-0.03, 0.01, 800.0), (0.01, 0.1, 10.0), (0.5, 0.1, 50.0), (0.02, 0.005, 2e5),
        (1.0, 0.05, 3.0), (0.03, 0.012, 1500.0), (-0.2, 0.05, 400.0), (0.001, 0.0004, 1e6),
        (12.0, 3.0, 60.0), (0.08, 0.02, 20000.0), (0.004, 0.004, 5000.0),
    ]:  # fmt: skip
        p_cases.append(
            {
                "name": f"estimate={estimate}, se={se}, n={n:g}",
                "inputs": {"estimate": estimate, "standard_error": se, "n": n},
                "expected": cs_p_value(estimate, se, n),
                "computed_by": "smallest alpha whose eq. 9 interval excludes 0 (scipy brentq)",
            }
        )
    return {"mixing_rho": rho_cases, "halfwidth": width_cases, "p_value": p_cases}


# -- sketch -----------------------------------------------------------------------------------


def exact_bucket(x: float) -> int:
    """The i with gamma^(i-1) < x ≤ gamma^i, in exact rational arithmetic."""
    value = Fraction(x)
    i = math.ceil(math.log(x) / math.log(101 / 99))
    while value > GAMMA**i:
        i += 1
    while value <= GAMMA ** (i - 1):
        i -= 1
    return i


def exact_representative(i: int) -> float:
    return float(2 * GAMMA**i / (GAMMA + 1))


def _near_boundary(x: float) -> bool:
    position = math.log(x) / math.log(101 / 99)
    return abs(position - round(position)) < 1e-6


def _sketch(values: np.ndarray) -> dict[str, float]:
    counts: dict[str, float] = {}
    for x in values:
        key = "zero" if x <= 0 else f"b{exact_bucket(float(x))}"
        counts[key] = counts.get(key, 0.0) + 1.0
    return dict(sorted(counts.items()))


def sketch_cases(rng: np.random.Generator) -> dict[str, Any]:
    """Bucket, representative, quantile and interval cases; the sketches they read are stored
    once under ``sketches`` and named by the cases."""
    values = [1e-9, 0.5, 1.0, 1.5, 7.0, 123.4, 1e6, 3.3e12, *rng.lognormal(5, 2, 12)]
    index_cases = [
        {
            "name": repr(float(x)),
            "inputs": {"value": float(x)},
            "expected": exact_bucket(float(x)),
            "computed_by": "exact rationals: gamma^(i-1) < x ≤ gamma^i with gamma = 101/99",
        }
        for x in values
        if not _near_boundary(float(x))
    ]
    index_cases += [
        {"name": repr(x), "inputs": {"value": x}, "expected": None, "computed_by": "x ≤ 0"}
        for x in (0.0, -3.0)
    ]
    value_cases = [
        {
            "name": f"b{i}",
            "inputs": {"index": i},
            "expected": exact_representative(i),
            "computed_by": "exact rationals: 2·gamma^i/(gamma+1) with gamma = 101/99",
        }
        for i in (-700, -50, -1, 0, 1, 35, 348, 1000)
    ]
    datasets = {
        "one latency": np.array([250.0]),
        "two latencies": np.array([120.0, 900.0]),
        "five latencies": rng.lognormal(5, 1, 5),
        "100 latencies": rng.lognormal(6, 0.7, 100),
        "1000 latencies": rng.lognormal(5.5, 1.2, 1000),
        "with zeros": np.concatenate([np.zeros(30), rng.lognormal(4, 1, 170)]),
    }
    sketches = {name: _sketch(data) for name, data in datasets.items()}
    quantile_cases = []
    interval_cases = []
    for name, data in datasets.items():
        ordered = np.sort(data)
        for q in (0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0):
            exact = float(np.quantile(data, q, method="lower"))
            quantile_cases.append(
                {
                    "name": f"{name}, q={q}",
                    "inputs": {"sketch": name, "q": q},
                    "expected": 0.0 if exact <= 0 else exact_representative(exact_bucket(exact)),
                    "exact": exact,
                    "computed_by": 'numpy.quantile(method="lower") and its exact bucket',
                }
            )
            n = len(data)
            cdf = stats.binom.cdf(np.arange(n + 1), n, q)
            low = int(np.argmax(cdf >= 0.025))
            high = int(np.argmax(cdf >= 0.975)) + 1
            if low < 1 or high > n:
                expected, exact_pair = None, None
            else:
                ends = [float(ordered[low - 1]), float(ordered[high - 1])]
                exact_pair = ends
                expected = [0.0 if e <= 0 else exact_representative(exact_bucket(e)) for e in ends]
            interval_cases.append(
                {
                    "name": f"{name}, q={q}",
                    "inputs": {"sketch": name, "q": q},
                    "expected": expected,
                    "exact": exact_pair,
                    "computed_by": "order statistics at the ranks where scipy.stats.binom.cdf "
                    "first reaches 2.5% and 97.5% (+1); None when outside 1..N",
                }
            )
    sketches |= {
        "empty": {},
        "one bucket": {"b3": 2.0},
        "unknown key": {"b3": 2.0, "p50": 1.0},
        "negative count": {"b3": 2.0, "b4": -1.0},
    }
    for name, sketch, q in [
        ("empty", "empty", 0.5),
        ("q above 1", "one bucket", 1.5),
        ("unknown key", "unknown key", 0.5),
        ("negative count", "negative count", 0.5),
    ]:
        for cases in (quantile_cases, interval_cases):
            cases.append(
                {
                    "name": name,
                    "inputs": {"sketch": sketch, "q": q},
                    "expected": None,
                    "computed_by": f"not computable: {name}",
                }
            )
    return {
        "sketches": sketches,
        "bucket_index": index_cases,
        "bucket_value": value_cases,
        "quantile": quantile_cases,
        "quantile_interval": interval_cases,
    }


def build() -> dict[str, Any]:
    """Everything the file holds, in a fixed order."""
    rng = np.random.default_rng(SEED)
    ratio_stats, ratio = ratio_cases(rng)
    return {
        "generated_by": "tests/data/statistics/make_vectors.py",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "statistics": {
            "wilson_interval": wilson_cases(),
            "mean_interval": mean_interval_cases(rng),
            "proportion_test": proportion_cases(),
            "mean_test": mean_cases(rng),
            "ratio_stats": ratio_stats,
            "ratio_test": ratio,
            "ratio_of_estimates": ratio_of_estimates_cases(),
            "srm_test": srm_cases(),
            "holm": holm_cases(),
            "required_sample_size": sample_size_cases(),
        },
        "sequential": sequential_cases(),
        "sketch": sketch_cases(rng),
    }


def render() -> str:
    """The file's text."""
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
