"""The confidence sequence matches an independent transcription of the paper, is always wider
than the fixed-horizon interval, and its p-value is the exact inverse of its interval."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.analysis.intervals import Z_975
from modelflags.analysis.sequential import ALPHA, TUNING, halfwidth, mixing_rho, p_value

DATA = Path(__file__).resolve().parents[1] / "data" / "statistics"
CASES: dict[str, list[dict[str, Any]]] = json.loads(
    (DATA / "vectors.json").read_text(encoding="utf-8")
)["sequential"]
REL = 1e-9

_SE = st.floats(min_value=1e-6, max_value=1e3)
_N = st.floats(min_value=1.0, max_value=1e9)
_ESTIMATE = st.floats(min_value=-1e3, max_value=1e3)


def _cases(name: str) -> Any:
    return pytest.mark.parametrize("case", CASES[name], ids=lambda c: c["name"])


@_cases("mixing_rho")
def test_mixing_rho_matches_eq_161(case: dict[str, Any]) -> None:
    assert mixing_rho(**case["inputs"]) == pytest.approx(case["expected"], rel=REL)


@_cases("halfwidth")
def test_halfwidth_matches_eq_9(case: dict[str, Any]) -> None:
    assert halfwidth(**case["inputs"]) == pytest.approx(case["expected"], rel=REL, abs=1e-300)


@_cases("p_value")
def test_p_value_matches_the_root_found_smallest_excluding_alpha(case: dict[str, Any]) -> None:
    assert p_value(**case["inputs"]) == pytest.approx(case["expected"], rel=REL)


def test_the_default_tuning_is_growthbooks() -> None:
    assert TUNING == 5000.0
    assert ALPHA == 0.05


@given(se=_SE, n=_N)
def test_the_sequence_is_always_wider_than_the_fixed_horizon_interval(se: float, n: float) -> None:
    width = halfwidth(se, n)
    assert width is not None
    assert width > Z_975 * se


def test_the_sequence_is_tightest_around_the_tuning_sample_size() -> None:
    ratios = {n: halfwidth(1.0, n) for n in (500.0, 2500.0, 5000.0, 10000.0, 50000.0)}
    assert min(ratios, key=lambda n: ratios[n] or math.inf) == 5000.0
    assert ratios[5000.0] == pytest.approx(1.55 * Z_975, rel=0.01)


@given(se=_SE, n=_N)
def test_the_halfwidth_shrinks_with_a_laxer_alpha(se: float, n: float) -> None:
    strict, lax = halfwidth(se, n, alpha=0.01), halfwidth(se, n, alpha=0.1)
    assert strict is not None
    assert lax is not None
    assert strict > lax


@given(estimate=_ESTIMATE, se=_SE, n=_N)
def test_at_alpha_equal_to_the_p_value_the_interval_just_touches_zero(
    estimate: float, se: float, n: float
) -> None:
    p = p_value(estimate, se, n)
    assert p is not None
    if 1e-250 < p < 1.0:
        assert halfwidth(se, n, alpha=p) == pytest.approx(abs(estimate), rel=1e-7)


@given(estimate=_ESTIMATE, se=_SE, n=_N, alpha=st.floats(0.001, 0.5))
def test_the_p_value_is_below_alpha_exactly_when_the_sequence_excludes_zero(
    estimate: float, se: float, n: float, alpha: float
) -> None:
    p, width = p_value(estimate, se, n), halfwidth(se, n, alpha=alpha)
    assert p is not None
    assert width is not None
    if abs(p - alpha) > 1e-9 * alpha and abs(abs(estimate) - width) > 1e-9 * width:
        assert (p < alpha) is (abs(estimate) > width)


@given(a=_ESTIMATE, b=_ESTIMATE, se=_SE, n=_N)
def test_the_p_value_falls_as_the_estimate_moves_away_from_zero(
    a: float, b: float, se: float, n: float
) -> None:
    p_a, p_b = p_value(a, se, n), p_value(b, se, n)
    assert p_a is not None
    assert p_b is not None
    assert 0.0 <= p_a <= 1.0
    if abs(a) <= abs(b):
        assert p_a >= p_b


def test_no_effect_has_p_value_one() -> None:
    assert p_value(0.0, 0.01, 1000.0) == 1.0


@pytest.mark.parametrize(
    "args",
    [(0.0, 100.0), (-1.0, 100.0), (math.nan, 100.0), (1.0, 0.5), (1.0, math.inf)],
)
def test_invalid_input_gives_none_without_raising(args: tuple[float, float]) -> None:
    se, n = args
    assert p_value(0.1, se, n) is None
    if se != 0.0:
        assert halfwidth(se, n) is None


def test_invalid_alpha_or_tuning_gives_none() -> None:
    assert halfwidth(0.1, 100.0, alpha=1.5) is None
    assert halfwidth(0.1, 100.0, tuning=0.0) is None
    assert mixing_rho(0.0, 5000.0) is None
    assert mixing_rho(0.05, -1.0) is None


def test_extreme_values_give_finite_numbers_or_none() -> None:
    assert p_value(1e300, 1e-300, 1e300) == 0.0
    assert halfwidth(1e300, 1e300) is None
    assert halfwidth(1e-300, 1.0) is not None
