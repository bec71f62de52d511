"""decide: the steps in their declared order, shared decisions, what it raises, and failure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from broken_context import BrokenContext
from modelflags.engine import CompiledFlag, Decision, ErrorCode, Reason, StepName, decide, failure
from modelflags.engine.bucketing import in_coverage
from modelflags.engine.compiled import CompiledRule
from modelflags.testing import flags_from_yaml

START = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
END = datetime(2026, 4, 1, tzinfo=timezone.utc).timestamp()
INSIDE, BEFORE = START + 3600, START - 3600

# A flag in which every step can decide: each case below passes the steps before its own.
EVERY_STEP = """\
version: 1
segments:
  blocked: {blocked: true}
flags:
  f:
    default: a
    variations: {a: 1, b: 2, c: 3}
    assignment: {key: uid}
    exclusions: {segments: [blocked], serve: c}
    rules:
      - {name: vip, when: {vip: true}, serve: b}
    eligible: {plan: pro}
    schedule: {start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z'}
    coverage: 50
    split: {b: 1, c: 1}
"""


@pytest.fixture(scope="module")
def flag() -> CompiledFlag:
    return flags_from_yaml(EVERY_STEP).flags["f"]


def _unit(flag: CompiledFlag, *, covered: bool) -> str:
    return next(
        f"u{i}" for i in range(1000) if in_coverage(flag.salt, f"u{i}", flag.coverage) is covered
    )


def _knockouts(flag: CompiledFlag) -> Iterator[tuple[str, CompiledFlag, dict[str, Any], float]]:
    """For each step in evaluation order (and the rule): the step, and a flag, context and
    time that pass every earlier step and are decided by this one."""
    inside, held_out = _unit(flag, covered=True), _unit(flag, covered=False)
    eligible = {"uid": inside, "plan": "pro"}
    yield StepName.OFF, dataclasses.replace(flag, enabled=False), eligible, INSIDE
    yield StepName.NO_UNIT, flag, {"plan": "pro"}, INSIDE
    yield StepName.EXCLUSIONS, flag, {**eligible, "blocked": True, "vip": True}, INSIDE
    yield "vip", flag, {**eligible, "vip": True, "plan": "free"}, INSIDE
    yield StepName.NOT_ELIGIBLE, flag, {"uid": inside, "plan": "free"}, BEFORE
    yield StepName.SCHEDULE, flag, {"uid": held_out, "plan": "pro"}, BEFORE
    yield StepName.HOLDOUT, flag, {"uid": held_out, "plan": "pro"}, INSIDE
    yield StepName.SPLIT, flag, eligible, INSIDE
    whole = dataclasses.replace(flag, split=None, coverage=100.0)
    yield StepName.DEFAULT, whole, eligible, INSIDE


def test_decide_tries_the_steps_in_the_declared_order(flag: CompiledFlag) -> None:
    cases = list(_knockouts(flag))
    assert [step for step, *_ in cases] == [*StepName.BEFORE_RULES, "vip", *StepName.AFTER_RULES]
    for step, step_flag, context, now in cases:
        assert decide(step_flag, context, None, now)[0].rule == step


def test_the_declared_order_is_every_step_once() -> None:
    assert (*StepName.BEFORE_RULES, *StepName.AFTER_RULES) == StepName.ORDER
    assert len(set(StepName.ORDER)) == len(StepName.ORDER) == 8
    assert {*StepName.ORDER, StepName.ERROR, StepName.UNKNOWN} == StepName.RESERVED


def test_decide_returns_the_decisions_built_when_the_flag_compiled(flag: CompiledFlag) -> None:
    context = {"uid": _unit(flag, covered=False), "plan": "pro"}
    first, _ = decide(flag, context, None, INSIDE)
    again, _ = decide(flag, {**context}, None, INSIDE)
    assert first is again is flag.decisions.holdout


def test_decide_names_the_unit_of_the_context(flag: CompiledFlag) -> None:
    assert decide(flag, {"uid": 42, "plan": "free"}, None, INSIDE)[1] == "42"
    assert decide(flag, {"uid": True, "plan": "pro"}, None, INSIDE) == (
        flag.decisions.invalid_unit,
        None,
    )


def test_decide_reports_a_unit_id_error_as_a_decision_with_its_message(flag: CompiledFlag) -> None:
    decision, unit = decide(flag, {"plan": "pro"}, "ignored-targeting-key", INSIDE)
    assert (decision.reason, decision.error, unit) == (
        Reason.ERROR,
        ErrorCode.TARGETING_KEY_MISSING,
        None,
    )
    assert decision.message == (
        "flag 'f' splits on the attribute 'uid', which the context does not set"
    )


def test_decide_raises_what_reading_the_unit_attribute_raises(flag: CompiledFlag) -> None:
    with pytest.raises(RuntimeError, match="broken context"):
        decide(flag, BrokenContext(), None, INSIDE)


def test_decide_raises_unicode_encode_error_for_a_lone_surrogate_unit_id(
    flag: CompiledFlag,
) -> None:
    with pytest.raises(UnicodeEncodeError):
        decide(flag, {"uid": "\ud800", "plan": "pro"}, None, INSIDE)


def test_failure_of_a_lone_surrogate_is_an_invalid_context(flag: CompiledFlag) -> None:
    error = UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
    decision = failure(flag, error)
    assert (decision.variant, decision.reason, decision.rule, decision.error) == (
        "a",
        Reason.ERROR,
        StepName.ERROR,
        ErrorCode.INVALID_CONTEXT,
    )
    assert decision.message is not None and "lone surrogate" in decision.message


def test_failure_of_any_other_error_is_general_and_quotes_it(flag: CompiledFlag) -> None:
    decision = failure(flag, RuntimeError("broken context"))
    assert (decision.error, decision.message) == (
        ErrorCode.GENERAL,
        "evaluation failed: RuntimeError('broken context')",
    )


def test_a_rule_needs_exactly_one_of_serve_and_split() -> None:
    with pytest.raises(ValueError, match="exactly one of serve and split"):
        CompiledRule("r", lambda attributes: True, None, None)


def test_a_rules_decisions_name_the_rule(flag: CompiledFlag) -> None:
    (rule,) = flag.rules
    assert rule.served == Decision("b", Reason.TARGETING_MATCH, "vip")
    assert rule.arms == {}


def test_the_schedule_window_includes_its_start_and_excludes_its_end(flag: CompiledFlag) -> None:
    assert [flag.outside_schedule(t) for t in (START - 1, START, END - 1, END)] == [
        True,
        False,
        False,
        True,
    ]


def test_a_flag_without_a_schedule_is_never_outside_it(flag: CompiledFlag) -> None:
    unscheduled = dataclasses.replace(flag, start=None, end=None)
    assert not unscheduled.outside_schedule(0.0)
    assert not unscheduled.has_schedule
