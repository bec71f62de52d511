"""Step names are reserved for steps: no rule may take one, whichever it is."""

from __future__ import annotations

import pytest

from modelflags.schema.models import Assignment, FlagFile
from modelflags.schema.semantics import semantic_issues
from modelflags.schema.steps import StepName


def _flag_with_rule(name: str) -> FlagFile:
    return FlagFile.model_validate({
        "version": 1,
        "flags": {"f": {"default": "a", "variations": {"a": 1, "b": 2},
                        "rules": [{"name": name, "when": {"x": 1}, "serve": "b"}]}},
    })  # fmt: skip


@pytest.mark.parametrize("name", sorted(StepName.RESERVED))
def test_a_rule_named_like_a_step_is_a_reserved_name(name: str) -> None:
    issues = semantic_issues(_flag_with_rule(name))
    assert [(issue.code, issue.path) for issue in issues] == [
        ("reserved-name", ("flags", "f", "rules", 0, "name"))
    ]


def test_a_rule_named_like_a_steps_row_in_explain_is_allowed() -> None:
    assert semantic_issues(_flag_with_rule("eligible")) == []


@pytest.mark.parametrize(
    ("assignment", "unit_name"),
    [
        ({"unit": "conversation", "key": "conversationId"}, "conversation"),
        ({"key": "conversationId"}, "conversationId"),
        ({"salt": "s"}, "targetingKey"),
    ],
)
def test_the_unit_name_falls_back_to_the_key_then_the_targeting_key(
    assignment: dict[str, str], unit_name: str
) -> None:
    assert Assignment.model_validate(assignment).unit_name == unit_name
