"""The distributions evaluated through ``scipy.special`` give exactly what ``scipy.stats``
gives (the functions it calls), and the binomial quantile is the smallest count whose CDF
reaches the probability."""

from __future__ import annotations

import random

import pytest
from scipy import stats

from modelflags.analysis.distributions import (
    binomial_quantile,
    chi2_sf,
    normal_sf,
    t_ppf,
    t_sf,
)


def test_normal_t_and_chi_square_are_scipy_stats_values() -> None:
    draw = random.Random(20261130)
    for _ in range(3000):
        x = draw.uniform(-40.0, 40.0)
        df = draw.choice([1, 2, 3, 5, 10, 30, 100, 1e3, 1e6, draw.uniform(1.0, 500.0)])
        p = draw.random()
        assert normal_sf(x) == stats.norm.sf(x)
        assert t_sf(x, df) == stats.t.sf(x, df)
        assert t_ppf(p, df) == stats.t.ppf(p, df)
        assert chi2_sf(abs(x) * 3, df) == stats.chi2.sf(abs(x) * 3, df)


SIZES = [*range(1, 60), 100, 137, 1000, 12_345, 10**6, 10**9]
LEVELS = [0.0, 1e-9, 0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1 - 1e-9, 1.0]


@pytest.mark.parametrize("q", [0.025, 0.975, 0.001, 0.999])
def test_the_binomial_quantile_is_scipy_stats_binom_ppf(q: float) -> None:
    for n in SIZES:
        for p in LEVELS:
            assert binomial_quantile(q, n, p) == stats.binom.ppf(q, n, p), (n, p)


def test_the_binomial_quantile_is_scipy_stats_binom_ppf_for_large_and_random_counts() -> None:
    """Counts from 1 to 10^12 (scipy.special's ``bdtr`` answers nan from 2^31 on, and is off
    by about 1e-8 near 10^8: the quantile must not use it)."""
    cases = [
        (0.025, 2**31, 0.5),
        (0.975, 3_000_000_000, 0.5),
        (0.975, 204_734_374, 0.544286728033163),
    ]
    draw = random.Random(20261130)
    for _ in range(2000):
        cases.append((draw.choice([0.025, 0.975]), int(10 ** draw.uniform(0, 12)), draw.random()))
    for q, n, p in cases:
        assert binomial_quantile(q, n, p) == stats.binom.ppf(q, n, p), (q, n, p)


def test_the_binomial_quantile_needs_a_probability_strictly_inside() -> None:
    for q in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            binomial_quantile(q, 10, 0.5)


def test_the_binomial_quantile_is_the_smallest_count_reaching_the_probability() -> None:
    for n in (7, 40, 1000):
        for p in (0.05, 0.5, 0.99):
            for q in (0.025, 0.3, 0.975):
                k = binomial_quantile(q, n, p)
                assert stats.binom.cdf(k, n, p) >= q
                assert k == 0 or stats.binom.cdf(k - 1, n, p) < q


def test_a_binomial_beyond_scipy_stats_still_has_a_quantile() -> None:
    n = 2**53  # scipy.stats answers nan; the sketch accepts counts up to this
    k = binomial_quantile(0.025, n, 0.5)
    assert abs(k - n / 2) < 10 * (n**0.5)
