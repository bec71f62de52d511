"""The latency sketch: exact buckets, quantiles within 1% of the exact ones by the documented
rank rule, exact merging, and a quantile interval that covers 95% of the time."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.analysis.sketch import (
    GAMMA,
    RELATIVE_ACCURACY,
    ZERO,
    bucket_index,
    bucket_key,
    bucket_value,
    merge,
    quantile,
    quantile_interval,
    sketch_of,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "statistics"
CASES: dict[str, Any] = json.loads((DATA / "vectors.json").read_text(encoding="utf-8"))["sketch"]
SKETCHES: dict[str, dict[str, float]] = CASES["sketches"]
REL = 1e-9
ONE_PERCENT = RELATIVE_ACCURACY * (1 + 1e-9)  # the bound, plus float rounding at bucket edges

_LATENCY = st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e7))
_LATENCIES = st.lists(_LATENCY, min_size=1, max_size=200)


def _cases(name: str) -> Any:
    return pytest.mark.parametrize("case", CASES[name], ids=lambda c: c["name"])


def _within_one_percent(approx: float, exact: float) -> bool:
    return abs(approx - exact) <= ONE_PERCENT * abs(exact)


# -- reference vectors --------------------------------------------------------------------------


@_cases("bucket_index")
def test_bucket_index_matches_exact_rational_arithmetic(case: dict[str, Any]) -> None:
    assert bucket_index(case["inputs"]["value"]) == case["expected"]


@_cases("bucket_value")
def test_bucket_value_matches_exact_rational_arithmetic(case: dict[str, Any]) -> None:
    assert bucket_value(case["inputs"]["index"]) == pytest.approx(case["expected"], rel=REL)


@_cases("quantile")
def test_quantile_matches_the_reference_and_numpy_within_one_percent(case: dict[str, Any]) -> None:
    found = quantile(SKETCHES[case["inputs"]["sketch"]], case["inputs"]["q"])
    if case["expected"] is None:
        assert found is None
        return
    assert found == pytest.approx(case["expected"], rel=REL)
    assert _within_one_percent(found, case["exact"])


@_cases("quantile_interval")
def test_quantile_interval_matches_the_order_statistics_within_one_percent(
    case: dict[str, Any],
) -> None:
    found = quantile_interval(SKETCHES[case["inputs"]["sketch"]], case["inputs"]["q"])
    if case["expected"] is None:
        assert found is None
        return
    assert found is not None
    assert list(found) == pytest.approx(case["expected"], rel=REL)
    assert all(_within_one_percent(f, e) for f, e in zip(found, case["exact"], strict=True))


# -- properties ---------------------------------------------------------------------------------


@given(values=_LATENCIES, q=st.floats(min_value=0.0, max_value=1.0))
def test_quantile_is_within_one_percent_of_numpys_lower_quantile(
    values: list[float], q: float
) -> None:
    found = quantile(sketch_of(values), q)
    exact = float(np.quantile(values, q, method="lower"))
    assert found is not None
    assert _within_one_percent(found, exact)


@given(first=_LATENCIES, second=_LATENCIES)
def test_merging_the_sketches_of_two_halves_gives_the_sketch_of_the_whole(
    first: list[float], second: list[float]
) -> None:
    assert merge(sketch_of(first), sketch_of(second)) == sketch_of(first + second)


@given(value=st.floats(min_value=1e-300, max_value=1e300))
def test_a_bucket_representative_is_within_one_percent_of_its_values(value: float) -> None:
    index = bucket_index(value)
    assert index is not None
    assert _within_one_percent(bucket_value(index), value)


def test_buckets_are_the_documented_half_open_ranges() -> None:
    assert bucket_index(1.0) == 0
    assert bucket_index(1.0001) == 1
    assert bucket_index(GAMMA * 1.0001) == 2
    assert bucket_value(0) == pytest.approx(2 / (GAMMA + 1))


def test_non_positive_values_share_the_zero_bucket_and_non_finite_ones_none() -> None:
    assert bucket_index(0.0) is None
    assert bucket_index(-5.0) is None
    assert bucket_key(-5.0) == ZERO
    assert bucket_key(math.nan) is None
    assert bucket_index(math.inf) is None
    assert sketch_of([0.0, -1.0, math.nan, 2.0]) == {ZERO: 2.0, f"b{bucket_index(2.0)}": 1.0}


def test_quantile_rank_rule_picks_the_lower_order_statistic() -> None:
    sketch = sketch_of([10.0, 20.0, 30.0, 40.0])  # q·(N - 1) = 1.5 for the median
    median = quantile(sketch, 0.5)
    assert median is not None
    assert _within_one_percent(median, 20.0)


def test_an_index_beyond_any_float_is_a_malformed_sketch() -> None:
    assert quantile({"b99999": 1.0}, 0.5) is None
    assert quantile({"b-3": 1.0, "b12x": 1.0}, 0.5) is None


def test_fractional_counts_have_a_quantile_but_no_interval() -> None:
    sketch = {"b10": 2.5, "b20": 3.5}
    assert quantile(sketch, 0.5) == bucket_value(20)
    assert quantile_interval(sketch, 0.5) is None


def test_quantile_interval_covers_the_true_quantile_95_percent_of_the_time() -> None:
    # 400 samples of 300 exponential latencies: how often does the interval of the p50 and p90
    # contain the true quantile? The order-statistic interval promises at least 95%; read from
    # the sketch its ends move by at most 1%, so count a miss only beyond that.
    rng = np.random.default_rng(3)
    for q in (0.5, 0.9):
        true_quantile = -100.0 * math.log(1 - q)
        hits = 0
        for _ in range(400):
            sample = rng.exponential(100.0, 300)
            keys, counts = np.unique(np.ceil(np.log(sample) / math.log(GAMMA)), return_counts=True)
            sketch = {f"b{int(k)}": float(c) for k, c in zip(keys, counts, strict=True)}
            interval = quantile_interval(sketch, q)
            assert interval is not None
            low, high = interval
            hits += low / 1.01 <= true_quantile <= high * 1.01
        assert hits / 400 >= 0.93, q
