"""Condition semantics, case by case, from tests/data/conditions/*.yaml.

Each case names a condition, the context attributes and whether they match. The cases follow
GrowthBook's documented semantics and its cross-SDK test cases; where GrowthBook's SDKs leave
a choice open, the case documents the choice modelflags made.
growthbook_case_insensitive.yaml holds GrowthBook's own cases (with their source), some marked
``invalid``: modelflags refuses their condition when the file loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modelflags.engine.conditions import Predicate, compile_condition
from modelflags.schema.condition_syntax import condition_issues

DATA = Path(__file__).parents[1] / "data" / "conditions"
CASE_FILES = sorted(p for p in DATA.glob("*.yaml") if p.name != "invalid.yaml")


def _load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in CASE_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append({**case, "file": path.name})
    return cases


ALL_CASES = _load_cases()
CASES = [case for case in ALL_CASES if "invalid" not in case]
REFUSED = [case for case in ALL_CASES if "invalid" in case]


def _segments(definitions: dict[str, Any]) -> dict[str, Predicate]:
    """Compile segments in file order; a case lists a segment after the ones it uses."""
    compiled: dict[str, Predicate] = {}
    for name, condition in definitions.items():
        compiled[name] = compile_condition(condition, compiled)
    return compiled


def test_every_case_has_a_unique_name_and_the_expected_keys() -> None:
    names = [case["name"] for case in ALL_CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    optional = {"segments", "file", "derived_from", "invalid"}
    for case in ALL_CASES:
        assert set(case) - optional == {"name", "condition", "attributes", "expected"}
        assert isinstance(case["expected"], bool), case["name"]


def test_growthbook_cases_cover_every_case_insensitive_and_negated_regex_operator() -> None:
    growthbook = [case for case in ALL_CASES if case["file"] == "growthbook_case_insensitive.yaml"]
    used = {op for case in growthbook for test in case["condition"].values() for op in test}
    assert {"$ini", "$nini", "$regexi", "$alli", "$notRegex", "$notRegexi"} <= used


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_condition_case(case: dict[str, Any]) -> None:
    assert condition_issues(case["condition"]) == []
    segments = _segments(case.get("segments", {}))
    predicate = compile_condition(case["condition"], segments)
    assert predicate(case["attributes"]) is case["expected"]


@pytest.mark.parametrize("case", REFUSED, ids=[case["name"] for case in REFUSED])
def test_condition_refused_at_load_with_the_recorded_issue(case: dict[str, Any]) -> None:
    codes = [issue.code for issue in condition_issues(case["condition"])]
    assert codes == [case["invalid"]["code"]]


def test_a_compiled_condition_can_be_reused_across_contexts() -> None:
    predicate = compile_condition({"plan": {"$in": ["pro"]}, "n": {"$gt": 1}}, {})
    assert [predicate({"plan": "pro", "n": n}) for n in (0, 2, 1, 5)] == [False, True, False, True]


def test_tuples_behave_as_arrays() -> None:
    predicate = compile_condition({"tags": {"$all": ["a"], "$size": 2}}, {})
    assert predicate({"tags": ("b", "a")}) is True


def test_any_mapping_works_as_attributes_and_as_nested_objects() -> None:
    from types import MappingProxyType

    predicate = compile_condition({"user.plan": "pro", "$or": [{"a": 1}, {"b": 2}]}, {})
    attributes = MappingProxyType({"user": MappingProxyType({"plan": "pro"}), "b": 2})
    assert predicate(attributes) is True


def test_the_condition_is_not_read_again_after_compiling() -> None:
    condition: dict[str, Any] = {"plan": {"$in": ["pro"]}, "tags": {"$all": ["x"]}}
    predicate = compile_condition(condition, {})
    condition["plan"]["$in"].append("free")
    condition["tags"]["$all"].clear()
    assert predicate({"plan": "free", "tags": []}) is False


class _Hostile(dict):  # type: ignore[type-arg]
    def get(self, key: object, default: object = None) -> object:
        raise RuntimeError("boom")


class _Unhashable(str):
    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "condition",
    [
        {"a": "x"},
        {"a": {"$in": ["x"]}},
        {"a": {"$gt": 1}},
        {"a.b": {"$exists": True}},
        {"$or": [{"a": 1}]},
    ],
    ids=["equals", "in", "gt", "path", "or"],
)
@pytest.mark.parametrize(
    "attributes",
    [None, 42, "text", _Hostile(a=1), {"a": _Hostile(b=1)}, {"a": _Unhashable("x")}],
    ids=["none", "int", "str", "hostile-mapping", "hostile-nested", "unhashable-str"],
)
def test_predicates_never_raise(condition: dict[str, Any], attributes: Any) -> None:
    assert compile_condition(condition, {})(attributes) in (True, False)


def test_huge_and_deep_values_do_not_raise() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    predicate = compile_condition({"a": {"$eq": ["x"]}, "b": {"$regex": "y$"}}, {})
    assert predicate({"a": deep, "b": "x" * 1_000_000 + "y"}) is False
    assert compile_condition({"a": {"$all": ["x"]}}, {})({"a": deep}) is False
