"""``explain``: the trace runs the engine's own evaluation, and says why at every step."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

from modelflags import ModelFlagsProvider
from modelflags.engine import Split, unit_interval
from modelflags.errors import ModelFlagsError
from modelflags.loader import LoadedConfig, load
from modelflags.review.explain.clauses import Clause
from modelflags.review.explain.explanation import Explanation, explain

FLAGS = r"""
version: 1
segments:
  blocked: {accountId: {$in: [acct_bad]}}
  paid: {plan: {$in: [pro, enterprise]}}
  chat_paid: {$segment: paid, channel: chat}
flags:
  route:
    owner: team
    default: a
    variations: {a: A, b: B, c: C, safe: S}
    assignment: {unit: conversation, key: conversationId}
    exclusions: {segments: [blocked], serve: safe}
    rules:
      - name: staff
        when: {email: {$regex: "@example\\.com$"}}
        serve: b
      - name: beta
        when: {$or: [{tier: beta}, {user.cohort: beta}]}
        split: {b: 1, c: 1}
    eligible: chat_paid
    schedule: {start: 2026-01-01T00:00:00Z, end: 2027-01-01T00:00:00Z}
    coverage: 60
    split: {a: 5, b: 3, c: 2}
  switched_off:
    state: off
    default: x
    variations: {x: 1, y: 2}
    split: {x: 1, y: 1}
"""
NOW = datetime(2026, 11, 22, tzinfo=timezone.utc).timestamp()
PAID_CHAT = {"plan": "pro", "channel": "chat"}


@pytest.fixture(scope="module")
def flags_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("explain") / "flags.yaml"
    path.write_text(FLAGS)
    return path


@pytest.fixture(scope="module")
def loaded(flags_file: Path) -> LoadedConfig:
    return load(flags_file)


def trace(loaded: LoadedConfig, context: dict[str, Any], *, now: float = NOW) -> Explanation:
    return explain(loaded, "route", context, now=now)


def decided(explanation: Explanation) -> tuple[str, str]:
    (step,) = [step for step in explanation.steps if step.decided]
    return step.step, step.name


contexts = st.fixed_dictionaries(
    {},
    optional={
        "conversationId": st.one_of(st.text(max_size=8), st.integers(), st.none(), st.floats()),
        "plan": st.sampled_from(["pro", "free", "enterprise"]),
        "channel": st.sampled_from(["chat", "email"]),
        "email": st.sampled_from(["a@example.com", "a@corp.io"]),
        "tier": st.sampled_from(["beta", "ga"]),
        "user": st.fixed_dictionaries({}, optional={"cohort": st.sampled_from(["beta", "x"])}),
        "accountId": st.sampled_from(["acct_bad", "acct_ok"]),
    },
)


@pytest.fixture
def client(flags_file: Path) -> OpenFeatureClient:
    """The real OpenFeature client over the same file (stateless: shared by the examples)."""
    api.set_provider_and_wait(ModelFlagsProvider(flags_file, clock=lambda: NOW))
    return api.get_client()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(context=contexts)
def test_the_result_is_the_providers_result(
    loaded: LoadedConfig, client: OpenFeatureClient, context: dict[str, Any]
) -> None:
    explanation = trace(loaded, context)
    details = client.get_string_details("route", "caller", EvaluationContext(None, context))
    result = explanation.resolution
    assert result.reason == details.reason
    assert result.error_code == (details.error_code.value if details.error_code else None)
    if result.error_code is None:  # on errors OpenFeature answers with the caller's default
        assert (result.variant, result.value) == (details.variant, details.value)
        assert result.metadata == details.flag_metadata


@given(context=contexts)
def test_exactly_one_step_decides_and_nothing_after_it_runs(
    loaded: LoadedConfig, context: dict[str, Any]
) -> None:
    steps = trace(loaded, context).steps
    assert [step.step for step in steps[:2]] == ["state", "unit"]
    index = next(i for i, step in enumerate(steps) if step.decided)
    assert sum(step.decided for step in steps) == 1
    assert all(step.outcome == "not reached" for step in steps[index + 1 :])
    assert all(step.outcome != "not reached" for step in steps[: index + 1])


@pytest.mark.parametrize(
    ("context", "step", "rule"),
    [
        ({"accountId": "acct_bad", "conversationId": "c"}, ("exclusions", "blocked"), "exclusions"),
        ({"email": "a@example.com", "conversationId": "c"}, ("rule", "staff"), "staff"),
        ({"tier": "beta", "conversationId": "c"}, ("rule", "beta"), "beta"),
        ({"plan": "free", "channel": "chat", "conversationId": "c"}, ("eligible", "chat_paid"),
         "not-eligible"),
        ({"plan": "pro", "channel": "chat"}, ("unit", "conversationId"), "no-unit"),
    ],
)  # fmt: skip
def test_the_deciding_step_is_the_resolutions_rule(
    loaded: LoadedConfig, context: dict[str, Any], step: tuple[str, str], rule: str
) -> None:
    explanation = trace(loaded, context)
    assert explanation.resolution.rule == rule
    assert decided(explanation) == step


def test_a_rule_miss_names_the_attribute_and_its_value(loaded: LoadedConfig) -> None:
    steps = trace(loaded, {"conversationId": "c", "email": "a@corp.io", **PAID_CHAT}).steps
    staff = next(step for step in steps if step.name == "staff")
    assert staff.outcome == "no match"
    assert staff.clauses == (
        Clause(
            'email {$regex: "@example\\\\.com$"}', False, "email", "a@corp.io", kind="attribute"
        ),
    )
    assert 'email = "a@corp.io"' in staff.detail


def test_nested_segments_and_or_operands_are_broken_down(loaded: LoadedConfig) -> None:
    context = {"conversationId": "c", "plan": "free", "channel": "chat", "user": {"cohort": "x"}}
    steps = trace(loaded, context).steps
    beta = next(step for step in steps if step.name == "beta")
    (or_clause,) = beta.clauses
    assert (or_clause.test, or_clause.matched) == ("$or", False)
    leaves = [leaf for operand in or_clause.clauses for leaf in operand.clauses]
    assert [(leaf.attribute, leaf.value, leaf.matched) for leaf in leaves] == [
        ("tier", leaves[0].value, False),
        ("user.cohort", "x", False),
    ]
    assert not leaves[0].present
    eligible = next(step for step in steps if step.step == "eligible")
    (segment,) = eligible.clauses
    assert segment.test == "$segment chat_paid"
    paid = segment.clauses[0]  # chat_paid is {$segment: paid, channel: chat}
    assert paid.test == "$segment paid" and not paid.matched
    assert paid.clauses[0].value == "free"
    assert "plan" in eligible.detail and '"free"' in eligible.detail


def test_coverage_shows_the_draw_that_decided(loaded: LoadedConfig) -> None:
    held = placed = 0
    for i in range(200):
        explanation = trace(loaded, {"conversationId": f"c{i}", **PAID_CHAT})
        coverage = next(step for step in explanation.steps if step.step == "coverage")
        u = unit_interval("route", "coverage", f"c{i}")
        assert f"u(coverage) = {u:.6f}" in coverage.detail
        if explanation.resolution.rule == "holdout":
            held += 1
            assert coverage.decided and u >= 0.6
        else:
            placed += 1
            assert coverage.outcome == "passed" and u < 0.6
    assert held and placed


def test_split_scores_are_the_arms_draws_and_the_lowest_wins(loaded: LoadedConfig) -> None:
    split = Split("route", {"a": 5, "b": 3, "c": 2})
    checked = 0
    for i in range(300):
        explanation = trace(loaded, {"conversationId": f"c{i}", **PAID_CHAT})
        if explanation.resolution.rule != "split":
            continue
        step = explanation.steps[-1]
        assert step.step == "split" and step.decided and step.name == "a: 5, b: 3, c: 2"
        assert list(step.scores) == split.scores(f"c{i}")
        winner = min(step.scores, key=lambda arm: arm.score).variation
        assert winner == explanation.resolution.variant == split.choose(f"c{i}")
        checked += 1
    assert checked > 100


def test_a_rule_split_records_its_own_draw(loaded: LoadedConfig) -> None:
    explanation = trace(loaded, {"conversationId": "c7", "tier": "beta"})
    beta = next(step for step in explanation.steps if step.name == "beta")
    assert beta.decided and beta.scores == tuple(Split("route", {"b": 1, "c": 1}).scores("c7"))
    assert explanation.resolution.reason == "SPLIT"


def test_outside_the_schedule_the_schedule_decides(loaded: LoadedConfig) -> None:
    later = datetime(2027, 3, 1, tzinfo=timezone.utc).timestamp()
    explanation = trace(loaded, {"conversationId": "c", **PAID_CHAT}, now=later)
    assert decided(explanation) == ("schedule", "schedule")
    step = next(step for step in explanation.steps if step.decided)
    assert "2027-01-01T00:00:00Z" in step.detail and "2027-03-01T00:00:00Z" in step.detail
    assert explanation.resolution.variant == "a"


def test_a_flag_switched_off_stops_at_its_state(loaded: LoadedConfig) -> None:
    explanation = explain(loaded, "switched_off", {"targetingKey": "u"}, now=NOW)
    assert [step.step for step in explanation.steps] == ["state", "unit", "split"]
    assert [step.outcome for step in explanation.steps[1:]] == ["not reached"] * 2
    assert explanation.steps[0].decided and "kill switch" in explanation.steps[0].detail
    assert explanation.resolution.reason == "DISABLED"


def test_an_unknown_flag_suggests_the_closest_key(loaded: LoadedConfig) -> None:
    with pytest.raises(ModelFlagsError, match="did you mean 'route'"):
        explain(loaded, "rout", {}, now=NOW)


def test_the_location_names_the_flag_definition(loaded: LoadedConfig, flags_file: Path) -> None:
    explanation = trace(loaded, {})
    assert explanation.location == f"{flags_file}:8:3"


def test_a_zero_weight_arm_scores_infinity() -> None:
    scores = Split("s", {"a": 0, "b": 1}).scores("u")
    assert scores[0].score == math.inf and math.isfinite(scores[1].score)


def test_an_evaluation_error_stops_the_trace_at_the_unit(loaded: LoadedConfig) -> None:
    explanation = trace(loaded, {"conversationId": "\ud800", **PAID_CHAT})
    assert explanation.resolution.error_code == "INVALID_CONTEXT"
    assert decided(explanation) == ("unit", "conversationId")
    assert all(step.outcome == "not reached" for step in explanation.steps[2:])


def test_a_failing_or_and_not_say_which_operands(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(
        "version: 1\nflags:\n  f:\n    default: a\n    variations: {a: 1, b: 2}\n"
        "    rules:\n"
        "      - {name: either, when: {$or: [{plan: pro}, {seats: {$gt: 10}}]}, serve: b}\n"
        "      - {name: nobody, when: {$not: {plan: free}}, serve: b}\n"
    )
    steps = explain(load(path), "f", {"plan": "free", "seats": 3}, now=NOW).steps
    either, nobody = (step for step in steps if step.step == "rule")
    assert either.detail == (
        'failed: none of: plan "pro" (plan = "free") | seats {$gt: 10} (seats = 3)'
    )
    assert nobody.detail == 'failed: $not: {plan: "free"} matched'
