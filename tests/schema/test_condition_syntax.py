"""Condition syntax errors: every issue, with its code, path and message (tests/data/conditions).

Valid conditions are covered by tests/engine/test_conditions.py, which checks that each of its
cases has no issues; this module covers what must be rejected, and the reference walkers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modelflags.schema.condition_operators import OPERATORS
from modelflags.schema.condition_syntax import condition_issues
from modelflags.schema.conditions import referenced_attributes, referenced_segments

DATA = Path(__file__).parents[1] / "data" / "conditions"
INVALID = yaml.safe_load((DATA / "invalid.yaml").read_text(encoding="utf-8"))


def test_invalid_case_names_are_unique() -> None:
    names = [case["name"] for case in INVALID]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", INVALID, ids=[case["name"] for case in INVALID])
def test_invalid_condition(case: dict[str, Any]) -> None:
    issues = condition_issues(case["condition"])
    expected = case["issues"]
    assert [(i.code, list(i.path)) for i in issues] == [(e["code"], e["path"]) for e in expected]
    for issue, wanted in zip(issues, expected, strict=True):
        assert wanted["message"] in issue.message
        assert wanted.get("hint", "") in issue.hint
        assert issue.severity == "error"


def test_operator_set_is_exactly_the_documented_one() -> None:
    documented = (
        "$eq $ne $lt $lte $gt $gte $in $nin $ini $nini $all $alli $elemMatch $size $exists "
        "$type $regex $regexi $notRegex $notRegexi $veq $vne $vgt $vgte $vlt $vlte "
        "$and $or $nor $not $segment $notSegment"
    )
    assert frozenset(documented.split()) == OPERATORS


def test_issues_read_like_compiler_errors() -> None:
    (issue,) = condition_issues({"plan": {"$inn": ["pro"]}})
    assert str(issue) == (
        "<flags>: [unknown-operator] unknown operator '$inn' on an attribute; did you mean '$in'?"
    )


def test_a_bad_regex_message_carries_pythons_error() -> None:
    (issue,) = condition_issues({"a": {"$regex": "a{2,1}"}})
    assert issue.code == "bad-regex"
    assert "min repeat greater than max repeat" in issue.message


def test_referenced_segments_in_document_order_with_paths() -> None:
    condition = {
        "$segment": "paid",
        "plan": "pro",
        "$or": [{"$notSegment": "staff"}, {"$and": [{"$segment": "beta"}]}],
        "$not": {"$segment": "incident"},
        "$nor": [{"$segment": "churned"}],
    }
    assert referenced_segments(condition) == [
        ("paid", ("$segment",)),
        ("staff", ("$or", 0, "$notSegment")),
        ("beta", ("$or", 1, "$and", 0, "$segment")),
        ("incident", ("$not", "$segment")),
        ("churned", ("$nor", 0, "$segment")),
    ]


def test_referenced_segments_ignores_malformed_parts() -> None:
    condition = {"$segment": ["x"], "$or": "nope", "$and": [1, {"$segment": "ok"}], "$not": []}
    assert referenced_segments(condition) == [("ok", ("$and", 1, "$segment"))]
    assert referenced_segments(["not", "a", "mapping"]) == []
    assert referenced_segments(None) == []


def test_referenced_attributes_are_the_top_level_names() -> None:
    condition = {
        "user.plan": "pro",
        "email": {"$regex": "x"},
        "$or": [{"country": "NL"}, {"$not": {"account.id": {"$in": [1]}}}],
        "$segment": "paid",
        "items": {"$elemMatch": {"sku": "a"}},
    }
    assert referenced_attributes(condition) == {"user", "email", "country", "account", "items"}


def test_referenced_attributes_ignores_malformed_parts() -> None:
    assert referenced_attributes({"$and": "x", 3: 1, "a": 1}) == {"a"}
    assert referenced_attributes("text") == set()
