"""The probability distributions the report's statistics use, from :mod:`scipy.special`.

These are the functions :mod:`scipy.stats` itself evaluates for the normal, Student t and
chi-square distributions (``ndtr``, ``stdtr``, ``stdtrit``, ``chdtrc``), called directly:
importing :mod:`scipy.special` costs less than half of importing :mod:`scipy.stats` (0.3
against 0.7 s on a 2-core machine), which every ``modelflags report`` paid. The binomial
quantile is the smallest count whose CDF reaches the probability, found by stepping from the
normal approximation; the CDF is the regularized incomplete beta function (``betainc``,
accurate for any count, where ``bdtr`` answers nan from 2^31 on). Tests check every function
against :mod:`scipy.stats` itself.
"""

from __future__ import annotations

import math

from scipy import special

__all__ = ["binomial_quantile", "chi2_sf", "normal_sf", "t_ppf", "t_sf"]


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return float(special.ndtr(-z))


def t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's t with ``df`` degrees of freedom."""
    return float(special.stdtr(df, -x))


def t_ppf(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom."""
    return float(special.stdtrit(df, p))


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square X with ``df`` degrees of freedom."""
    return float(special.chdtrc(df, x))


def binomial_quantile(q: float, n: int, p: float) -> int:
    """The smallest ``k`` in 0..n with P(X <= k) >= ``q``, for X ~ Binomial(n, p) and
    ``q`` strictly between 0 and 1 (``scipy.stats.binom.ppf``)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1, not {q!r}")
    if p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    guess = n * p + float(special.ndtri(q)) * math.sqrt(n * p * (1.0 - p))
    k = min(n, max(0, math.floor(guess)))  # a few counts from the answer
    if _binomial_cdf(k, n, p) >= q:
        while k > 0 and _binomial_cdf(k - 1, n, p) >= q:
            k -= 1
    else:
        while k < n and _binomial_cdf(k, n, p) < q:
            k += 1
    return k


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p): I_{1-p}(n - k, k + 1)."""
    return 1.0 if k >= n else float(special.betainc(n - k, k + 1, 1.0 - p))
