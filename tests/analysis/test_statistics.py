"""The statistics match statsmodels, scipy and brute-force reference values, and say in words what
they cannot compute instead of raising or returning NaN."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from modelflags.analysis.intervals import Z_975, mean_interval, ratio_of_estimates, wilson_interval
from modelflags.analysis.ratio_stats import RatioStats
from modelflags.analysis.srm import SRM_MIN_UNITS, srm_test
from modelflags.analysis.statistics import (
    Z_80,
    Comparison,
    holm,
    mean_test,
    proportion_test,
    ratio_test,
    required_sample_size,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "statistics"
VECTORS: dict[str, Any] = json.loads((DATA / "vectors.json").read_text(encoding="utf-8"))
CASES: dict[str, list[dict[str, Any]]] = VECTORS["statistics"]
FIELDS = ("diff", "ci95", "relative_lift", "p_value")
REL, ABS = 1e-9, 1e-12


def _id(case: dict[str, Any]) -> str:
    return f"{case['name']} [{case['method']}]" if "method" in case else str(case["name"])


def _cases(name: str) -> Any:
    return pytest.mark.parametrize("case", CASES[name], ids=_id)


def _close(actual: Any, expected: Any) -> None:
    if expected is None:
        assert actual is None
    elif isinstance(expected, list):
        assert actual is not None
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            _close(a, e)
    else:
        assert actual == pytest.approx(expected, rel=REL, abs=ABS)


def _check_comparison(result: Comparison, expected: dict[str, Any]) -> None:
    for field in FIELDS:
        _close(getattr(result, field), expected[field])
    if any(expected[field] is None for field in FIELDS):
        assert result.reason
    else:
        assert result.reason is None


def _ratio(fields: dict[str, float]) -> RatioStats:
    return RatioStats(**fields)


# -- reference vectors --------------------------------------------------------------------------


@_cases("wilson_interval")
def test_wilson_interval_matches_statsmodels(case: dict[str, Any]) -> None:
    _close(wilson_interval(**case["inputs"]), case["expected"])


@_cases("mean_interval")
def test_mean_interval_matches_statsmodels(case: dict[str, Any]) -> None:
    _close(mean_interval(**case["inputs"]), case["expected"])


@_cases("proportion_test")
def test_proportion_test_matches_the_reference(case: dict[str, Any]) -> None:
    result = proportion_test(**case["inputs"], method=case["method"])
    _check_comparison(result, case["expected"])


@_cases("mean_test")
def test_mean_test_matches_the_reference(case: dict[str, Any]) -> None:
    _check_comparison(mean_test(**case["inputs"], method=case["method"]), case["expected"])


@_cases("ratio_stats")
def test_ratio_stats_match_the_per_unit_brute_force(case: dict[str, Any]) -> None:
    ratio = _ratio(case["inputs"])
    _close(ratio.ratio, case["expected"]["ratio"])
    _close(ratio.variance, case["expected"]["variance"])


@_cases("ratio_test")
def test_ratio_test_matches_the_per_unit_brute_force(case: dict[str, Any]) -> None:
    control, treatment = _ratio(case["inputs"]["control"]), _ratio(case["inputs"]["treatment"])
    _check_comparison(ratio_test(control, treatment, method=case["method"]), case["expected"])


@_cases("ratio_of_estimates")
def test_ratio_of_estimates_matches_the_reference(case: dict[str, Any]) -> None:
    _close(ratio_of_estimates(**case["inputs"], method=case["method"]), case["expected"])


@_cases("srm_test")
def test_srm_test_matches_scipy_chisquare(case: dict[str, Any]) -> None:
    srm = srm_test(**case["inputs"])
    expected = case["expected"]
    _close(srm.p_value, expected["p_value"])
    assert srm.mismatch is expected["mismatch"]
    assert (srm.skipped is not None) is expected["skipped"]
    if "expected" in expected:
        assert dict(srm.expected) == pytest.approx(expected["expected"], rel=REL)


@_cases("holm")
def test_holm_matches_statsmodels(case: dict[str, Any]) -> None:
    _close(holm(case["inputs"]["p_values"]), case["expected"])


@_cases("required_sample_size")
def test_required_sample_size_matches_the_closed_form_and_statsmodels_power(
    case: dict[str, Any],
) -> None:
    n = required_sample_size(**case["inputs"])
    assert n == case["expected"]
    if n is not None:
        assert abs(n - case["statsmodels_n"]) <= max(1.0, 1e-3 * n)


def test_every_function_has_reference_cases_including_degenerate_ones() -> None:
    for name, cases in CASES.items():
        assert len(cases) >= 10, name
        if name != "holm":
            assert any("not computable" in c["computed_by"] or "skipped" in c["computed_by"]
                       for c in cases), name  # fmt: skip


def test_vectors_file_is_what_its_script_writes() -> None:
    pytest.importorskip("statsmodels")
    spec = importlib.util.spec_from_file_location("_make_vectors", DATA / "make_vectors.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = json.loads(module.render())
    fresh.pop("versions")
    recorded = dict(VECTORS)
    recorded.pop("versions")
    assert _same(fresh, recorded)


def _same(a: Any, b: Any) -> bool:
    """Equal structures, floats to 1e-12 relative (another library version may move an ulp)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return bool(a == b)


# -- degenerate input ---------------------------------------------------------------------------


def test_a_comparison_without_variance_keeps_the_difference_and_says_why() -> None:
    result = mean_test(20.0, 40.0, 10.0, 30.0, 90.0, 10.0, method="sequential")
    assert result.diff == pytest.approx(1.0)
    assert result.ci95 is None
    assert result.p_value is None
    assert result.reason is not None
    assert "no variance" in result.reason


def test_a_zero_control_rate_gives_no_relative_lift_and_a_reason() -> None:
    result = proportion_test(0, 100, 3, 100, method="fixed-horizon")
    assert result.relative_lift is None
    assert result.p_value is not None
    assert result.reason is not None
    assert "control estimate is 0" in result.reason


def test_an_arm_with_one_unit_gets_no_interval_and_a_reason() -> None:
    result = proportion_test(1, 1, 5, 10, method="sequential")
    assert (result.ci95, result.p_value) == (None, None)
    assert result.reason is not None
    assert "fewer than 2 units" in result.reason


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input_never_raises_and_gives_no_numbers(bad: float) -> None:
    assert wilson_interval(bad, 10) is None
    assert mean_interval(bad, 1.0, 10) is None
    assert ratio_of_estimates(1.0, bad, 1.0, 1.0, 10, method="sequential") is None
    assert required_sample_size(bad, 0.1) is None
    assert holm([bad, 0.01]) == [None, 0.01]
    for result in (
        proportion_test(bad, 10, 3, 10, method="sequential"),
        mean_test(1.0, bad, 10, 1.0, 1.0, 10, method="fixed-horizon"),
        ratio_test(
            RatioStats(10, bad, 1, 1, 1, 1), RatioStats(10, 1, 1, 1, 1, 1), method="sequential"
        ),
    ):
        assert (result.diff, result.ci95, result.p_value) == (None, None, None)
        assert result.reason


_COUNT = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(x_c=_COUNT, n_c=_COUNT, x_t=_COUNT, n_t=_COUNT, sequential=st.booleans())
def test_proportion_test_outputs_are_finite_or_none_with_a_reason(
    x_c: float, n_c: float, x_t: float, n_t: float, sequential: bool
) -> None:
    result = proportion_test(
        x_c, n_c, x_t, n_t, method="sequential" if sequential else "fixed-horizon"
    )
    _assert_clean(result)


@given(
    values_c=st.lists(st.floats(-1e4, 1e4), max_size=30),
    values_t=st.lists(st.floats(-1e4, 1e4), max_size=30),
    sequential=st.booleans(),
)
def test_mean_test_outputs_are_finite_or_none_with_a_reason(
    values_c: list[float], values_t: list[float], sequential: bool
) -> None:
    c, t = np.array(values_c), np.array(values_t)
    result = mean_test(
        c.sum(), (c * c).sum(), len(c), t.sum(), (t * t).sum(), len(t),
        method="sequential" if sequential else "fixed-horizon",
    )  # fmt: skip
    _assert_clean(result)


def test_welch_degrees_of_freedom_do_not_underflow_for_tiny_variances() -> None:
    """The t statistic does not change when every value is scaled: samples of values near
    1e-150 (variances near 1e-300, whose squares underflow to 0) give the p-value of the
    same samples scaled up, not 0 / 0."""
    control = [0.0, 1.0, 3.0, 2.0, 5.0]
    treatment = [2.0, 4.0, 3.0, 7.0, 6.0, 5.0]

    def welch(scale: float) -> Comparison:
        c = [x * scale for x in control]
        t = [x * scale for x in treatment]
        return mean_test(
            sum(c), sum(x * x for x in c), len(c), sum(t), sum(x * x for x in t), len(t),
            method="fixed-horizon",
        )  # fmt: skip

    tiny, plain = welch(1e-150), welch(1.0)
    assert tiny.p_value is not None and plain.p_value is not None
    assert tiny.p_value == pytest.approx(plain.p_value, rel=1e-6)


def _assert_clean(result: Comparison) -> None:
    for field in FIELDS:
        value = getattr(result, field)
        if value is None:
            assert result.reason
        else:
            assert all(math.isfinite(v) for v in (value if isinstance(value, tuple) else [value]))
    if result.p_value is not None:
        assert 0.0 <= result.p_value <= 1.0


def test_a_constant_sample_has_a_zero_width_mean_interval_despite_rounding() -> None:
    values = [0.1] * 1000  # Σx² - (Σx)²/n is a rounding residue here, not a variance
    interval = mean_interval(sum(values), sum(v * v for v in values), len(values))
    assert interval is not None
    assert interval[0] == interval[1] == pytest.approx(0.1)


# -- properties of the methods ------------------------------------------------------------------


def test_one_exposure_per_unit_makes_the_delta_method_the_variance_of_a_mean() -> None:
    rng = np.random.default_rng(7)
    s = (rng.random(300) < 0.2).astype(float)
    ratio = RatioStats(300, s.sum(), (s * s).sum(), 300, 300, s.sum())
    assert ratio.variance == pytest.approx(np.var(s, ddof=1) / 300, rel=REL)


def _simulated_error_arms() -> tuple[np.ndarray, np.ndarray]:
    """2000 arms of 400 units, 1 + Poisson(3) requests each; every unit has its own error rate
    (Beta(0.5, 4.5), mean 10%), so one unit's requests are correlated."""
    rng = np.random.default_rng(11)
    requests = 1 + rng.poisson(3.0, size=(2000, 400))
    errors = rng.binomial(requests, rng.beta(0.5, 4.5, size=(2000, 400))).astype(float)
    return errors, requests.astype(float)


def test_delta_method_variance_matches_the_spread_of_simulated_error_rates() -> None:
    errors, requests = _simulated_error_arms()
    observed = np.var(errors.sum(axis=1) / requests.sum(axis=1))
    predicted = []
    for s, c in zip(errors[:200], requests[:200], strict=True):
        variance = RatioStats(
            400, s.sum(), (s * s).sum(), c.sum(), (c * c).sum(), (s * c).sum()
        ).variance
        assert variance is not None
        predicted.append(variance)
    assert np.mean(predicted) == pytest.approx(observed, rel=0.1)


def test_treating_requests_as_independent_would_understate_that_spread() -> None:
    # The reason for the delta method: the binomial variance over requests is far too small.
    errors, requests = _simulated_error_arms()
    rates = errors.sum(axis=1) / requests.sum(axis=1)
    naive = np.mean(rates * (1 - rates) / requests.sum(axis=1))
    assert naive < 0.8 * np.var(rates)


def test_required_sample_size_is_the_smallest_n_with_80_percent_power() -> None:
    def power(n: float, variance: float, mde: float) -> float:
        return float(stats.norm.cdf(mde / math.sqrt(2 * variance / n) - Z_975))

    for variance, mde in [(0.09, 0.01), (0.25, 0.05), (25.0, 1.0), (0.0196, 0.005)]:
        n = required_sample_size(variance, mde)
        assert n is not None
        assert power(n, variance, mde) >= stats.norm.cdf(Z_80) - 1e-12
        assert power(n - 1, variance, mde) < 0.8


@pytest.mark.parametrize("method", ["fixed-horizon", "sequential"])
def test_the_interval_is_centred_on_the_difference(method: str) -> None:
    result = proportion_test(200, 1000, 260, 1000, method=method)  # type: ignore[arg-type]
    assert result.ci95 is not None
    assert result.diff is not None
    assert sum(result.ci95) / 2 == pytest.approx(result.diff)


def test_sequential_intervals_are_wider_than_fixed_horizon_on_the_same_data() -> None:
    pairs = [
        lambda m: proportion_test(480, 5000, 540, 5000, method=m),
        lambda m: mean_test(500.0, 3000.0, 100.0, 560.0, 3500.0, 100.0, method=m),
        lambda m: ratio_test(
            RatioStats(300, 40, 60, 700, 1900, 100), RatioStats(320, 60, 90, 760, 2000, 150),
            method=m,
        ),
    ]  # fmt: skip
    for compare in pairs:
        fixed, seq = compare("fixed-horizon"), compare("sequential")
        assert fixed.ci95 is not None
        assert seq.ci95 is not None
        assert seq.ci95[1] - seq.ci95[0] > fixed.ci95[1] - fixed.ci95[0]
        assert fixed.p_value is not None
        assert seq.p_value is not None
        assert seq.p_value > fixed.p_value


@given(st.integers(0, 2000), st.integers(2, 2000), st.integers(0, 2000), st.integers(2, 2000))
def test_a_sequential_p_value_below_5_percent_means_the_interval_excludes_zero(
    x_c: int, n_c: int, x_t: int, n_t: int
) -> None:
    result = proportion_test(min(x_c, n_c), n_c, min(x_t, n_t), n_t, method="sequential")
    if result.p_value is None or result.ci95 is None:
        return
    low, high = result.ci95
    if abs(result.p_value - 0.05) > 1e-9:
        assert (result.p_value < 0.05) is (low > 0 or high < 0)


# -- SRM and Holm -------------------------------------------------------------------------------


def test_srm_flags_a_mismatch_below_one_in_a_thousand() -> None:
    srm = srm_test({"control": 1000, "candidate": 1200}, {"control": 50, "candidate": 50})
    assert srm.p_value is not None
    assert srm.p_value < 0.001
    assert srm.mismatch
    assert srm.skipped is None
    assert dict(srm.expected) == {"control": 1100.0, "candidate": 1100.0}


def test_srm_skip_names_the_arm_with_too_few_units() -> None:
    srm = srm_test({"control": 40, "candidate": 7}, {"control": 50, "candidate": 50})
    assert srm.p_value is None
    assert not srm.mismatch
    assert srm.skipped is not None
    assert "candidate" in srm.skipped
    assert str(SRM_MIN_UNITS) in srm.skipped


def test_srm_counts_a_missing_arm_as_zero_units() -> None:
    srm = srm_test({"control": 40}, {"control": 50, "candidate": 50})
    assert srm.observed == {"control": 40.0, "candidate": 0.0}
    assert srm.skipped is not None


@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=12))
def test_holm_never_lowers_a_p_value_and_keeps_their_order(p_values: list[float | None]) -> None:
    adjusted = holm(p_values)
    assert [a is None for a in adjusted] == [p is None for p in p_values]
    pairs = [
        (p, a) for p, a in zip(p_values, adjusted, strict=True) if p is not None and a is not None
    ]
    for p, a in pairs:
        assert p <= a <= 1.0
    for p1, a1 in pairs:
        for p2, a2 in pairs:
            if p1 < p2:
                assert a1 <= a2


def test_wilson_bounds_are_exactly_zero_and_one_at_the_extremes() -> None:
    assert wilson_interval(0, 37)[0] == 0.0  # type: ignore[index]
    assert wilson_interval(37, 37)[1] == 1.0  # type: ignore[index]
