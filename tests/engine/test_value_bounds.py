"""Request values cannot make a condition slow: numbers and versions are read linearly from at
most 256 characters, regexes see at most their input limit, and element-wise tests look at
arrays of at most MAX_ARRAY_ITEMS elements. Each bound has its documented result."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from modelflags.engine.conditions import compile_condition
from modelflags.engine.operators import MAX_ARRAY_ITEMS
from modelflags.engine.values import MAX_NUMBER_TEXT, js_to_number
from modelflags.engine.versions import MAX_VERSION_TEXT, _strip, padded_version
from modelflags.schema.regex_cost import MAX_REGEX_INPUT, regex_cost

# The expressions the engine used before, whose backtracking made them quadratic: kept here
# as the reference the linear versions must agree with.
GROWTHBOOK_STRIP = re.compile(r"^v|\+[^\n\r\u2028\u2029]*\Z")
AMBIGUOUS_DECIMAL = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Infinity"
)
VERSION_TEXT = st.text(alphabet="v+.-\n\r\u2028\u2029 a1x9", max_size=30)
NUMBER_TEXT = st.text(alphabet="+-.eE0123456789 Infity\t", max_size=25)


def matches(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    return compile_condition(condition, {})(attributes)


@given(VERSION_TEXT)
def test_version_strip_is_growthbooks_regex(text: str) -> None:
    assert _strip(text) == GROWTHBOOK_STRIP.sub("", text)


def old_js_to_number(text: str) -> float | None:
    """js_to_number as it was, with the ambiguous decimal pattern (hex and friends left out)."""
    text = text.strip()
    if not text:
        return 0.0
    if AMBIGUOUS_DECIMAL.fullmatch(text):
        number = float(text.replace("Infinity", "inf"))
        return None if math.isnan(number) else number
    return None


@given(NUMBER_TEXT)
def test_numbers_read_as_before_the_linear_pattern(text: str) -> None:
    assert js_to_number(text) == old_js_to_number(text)


def test_number_text_up_to_the_bound_is_read() -> None:
    text = "0" * (MAX_NUMBER_TEXT - 1) + "8"
    assert js_to_number(text) == 8.0
    assert matches({"n": {"$gt": 5}}, {"n": text})


def test_number_text_over_the_bound_is_not_a_number() -> None:
    text = "0" * MAX_NUMBER_TEXT + "8"
    assert js_to_number(text) is None
    assert not matches({"n": {"$gt": 5}}, {"n": text})
    assert not matches({"n": {"$lt": 5}}, {"n": text})


def test_a_long_digit_run_that_is_not_a_number_is_refused() -> None:
    assert js_to_number("1" * 200 + "x") is None


def test_version_text_up_to_the_bound_is_padded_as_usual() -> None:
    text = "1." + "0" * (MAX_VERSION_TEXT - 4) + ".1"
    assert padded_version(text) > padded_version("1.0.0")


def test_version_text_over_the_bound_reads_as_zero() -> None:
    text = "9" * (MAX_VERSION_TEXT + 1)
    assert padded_version(text) == padded_version("0")
    assert matches({"v": {"$vlt": "1.0.0"}}, {"v": text})
    assert not matches({"v": {"$vgte": "1.0.0"}}, {"v": text})


def test_plus_signs_before_a_line_end_are_read_in_one_pass() -> None:
    text = "+" * (MAX_VERSION_TEXT - 2) + "\n1"
    assert padded_version(text) == padded_version(GROWTHBOOK_STRIP.sub("", text))


def test_a_regex_sees_values_up_to_its_input_limit() -> None:
    value = "x" * (MAX_REGEX_INPUT - len("@example.com")) + "@example.com"
    assert matches({"email": {"$regex": "@example\\.com$"}}, {"email": value})


def test_a_value_over_the_input_limit_never_matches_and_its_negation_does() -> None:
    value = "x" * MAX_REGEX_INPUT + "@example.com"
    assert not matches({"email": {"$regex": "@example\\.com$"}}, {"email": value})
    assert matches({"email": {"$not": {"$regex": "@example\\.com$"}}}, {"email": value})


def test_a_backtracking_pattern_sees_only_its_lower_limit() -> None:
    pattern = "a.*b.*c"
    limit = regex_cost(pattern).input_limit
    assert 0 < limit < MAX_REGEX_INPUT
    assert matches({"s": {"$regex": pattern}}, {"s": "a" + "x" * (limit - 3) + "bc"})
    assert not matches({"s": {"$regex": pattern}}, {"s": "a" + "x" * (limit - 2) + "bc"})


def test_a_refused_pattern_never_runs_in_the_engine() -> None:
    assert regex_cost("^(a+)+$").refused
    assert not matches({"s": {"$regex": "^(a+)+$"}}, {"s": "aaaa"})


def test_arrays_up_to_the_bound_are_searched_element_by_element() -> None:
    tags = ["x"] * (MAX_ARRAY_ITEMS - 1) + ["beta"]
    assert matches({"tags": "beta"}, {"tags": tags})
    assert matches({"tags": {"$in": ["beta"]}}, {"tags": tags})
    assert matches({"tags": {"$all": ["beta", "x"]}}, {"tags": tags})
    assert matches({"tags": {"$elemMatch": {"$eq": "beta"}}}, {"tags": tags})


def test_a_longer_array_has_no_element_that_matches() -> None:
    tags = ["x"] * MAX_ARRAY_ITEMS + ["beta"]
    assert not matches({"tags": "beta"}, {"tags": tags})
    assert not matches({"tags": {"$in": ["beta"]}}, {"tags": tags})
    assert matches({"tags": {"$nin": ["beta"]}}, {"tags": tags})
    assert not matches({"tags": {"$all": ["beta"]}}, {"tags": tags})
    assert not matches({"tags": {"$elemMatch": {"$eq": "beta"}}}, {"tags": tags})


def test_size_and_exact_equality_still_see_a_long_array() -> None:
    tags = ["x"] * (MAX_ARRAY_ITEMS + 1)
    assert matches({"tags": {"$size": MAX_ARRAY_ITEMS + 1}}, {"tags": tags})
    assert not matches({"tags": {"$eq": ["x"]}}, {"tags": tags})
