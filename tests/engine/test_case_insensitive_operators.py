"""What $ini, $nini, $alli, $regexi, $notRegex and $notRegexi do beyond GrowthBook's cases
(tests/data/conditions/growthbook_case_insensitive.yaml): modelflags' typed choices and bounds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

import pytest

from modelflags.engine.conditions import compile_condition
from modelflags.schema.condition_syntax import condition_issues
from modelflags.schema.regex_cost import regex_cost


def matches(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    assert condition_issues(condition) == []
    return compile_condition(condition, {})(attributes)


class _NoticesLowering(str):
    """Text that records whether it was lowered."""

    lowered: ClassVar[list[bool]] = []

    def lower(self) -> str:
        self.lowered.append(True)
        return super().lower()


def test_ini_folds_text_only_so_numbers_keep_typed_equality() -> None:
    condition = {"a": {"$ini": ["1", 2, True]}}
    assert [matches(condition, {"a": value}) for value in (1, "1", 2, 2.0, True, 1.0)] == [
        False, True, True, True, True, False,
    ]  # fmt: skip


def test_ini_compares_a_date_as_its_iso_text_ignoring_case() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert matches({"at": {"$ini": ["2026-01-02t03:04:05z"]}}, {"at": when})


def test_ini_does_not_lower_text_longer_than_every_member() -> None:
    _NoticesLowering.lowered.clear()
    long = _NoticesLowering("US" * 500_000)
    assert not matches({"country": {"$ini": ["us", "uk"]}}, {"country": long})
    assert _NoticesLowering.lowered == []


def test_nini_holds_for_a_missing_attribute_and_fails_for_a_listed_null() -> None:
    assert matches({"country": {"$nini": ["us"]}}, {})
    assert not matches({"country": {"$nini": ["us", None]}}, {})


def test_ini_looks_at_no_element_of_an_array_over_the_bound() -> None:
    assert not matches({"tags": {"$ini": ["beta"]}}, {"tags": ["x"] * 1000 + ["BETA"]})
    assert matches({"tags": {"$ini": ["beta"]}}, {"tags": ["x"] * 999 + ["BETA"]})


def test_alli_folds_text_operands_and_leaves_operator_operands_as_all_does() -> None:
    condition = {"tags": {"$alli": ["beta", {"$regex": "^B"}]}}
    assert matches(condition, {"tags": ["beta", "Bx"]})
    assert not matches(condition, {"tags": ["beta", "bx"]})


def test_alli_does_not_lower_an_element_longer_than_the_operand() -> None:
    _NoticesLowering.lowered.clear()
    assert not matches({"tags": {"$alli": ["beta"]}}, {"tags": [_NoticesLowering("B" * 10_000)]})
    assert _NoticesLowering.lowered == []


def test_regexi_ignores_case_beyond_ascii() -> None:
    assert matches({"city": {"$regexi": "^ÉCOLE"}}, {"city": "école de musique"})
    assert not matches({"city": {"$regex": "^ÉCOLE"}}, {"city": "école de musique"})


@pytest.mark.parametrize("value", [5, None, ["no match"], {"a": 1}], ids=repr)
def test_not_regex_holds_for_a_value_that_is_not_text(value: Any) -> None:
    assert matches({"a": {"$notRegex": "x"}}, {"a": value})
    assert not matches({"a": {"$regex": ".*"}}, {"a": value})


def test_not_regex_holds_for_text_longer_than_the_patterns_input_limit() -> None:
    pattern = "a.*b.*c"  # three nested scans: a short input limit
    limit = regex_cost(pattern).input_limit
    too_long = "a" + "x" * limit + "bc"
    assert matches({"s": {"$notRegex": pattern}}, {"s": too_long})
    assert not matches({"s": {"$notRegex": pattern}}, {"s": "abc"})


def test_a_case_insensitive_regex_gets_the_input_limit_of_its_case_insensitive_form() -> None:
    assert regex_cost("(?i)[a-z]+x").input_limit == regex_cost("[a-zA-Z]+x").input_limit
