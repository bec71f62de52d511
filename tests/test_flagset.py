"""The direct path, ``load_flags(src).evaluate(key, context)``: the same semantics as the
provider (the evaluation order of docs/flag-files.md), and it never raises."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

from broken_context import BrokenContext
from modelflags import ErrorCode, FlagSet, ModelFlagsProvider, Reason, load_flags
from modelflags.testing import provider_from_yaml

# -- the repository's flags: direct path and provider agree ------------------------------


def contexts(n: int) -> Iterator[dict[str, Any]]:
    """Varied contexts touching every attribute the repo's flags read."""
    plans = ["free", "pro", "enterprise", None]
    accounts = ["acct_17", "acct_42", "acct_3", 7, None]
    for i in range(n):
        context: dict[str, Any] = {"targetingKey": f"user-{i}", "conversationId": f"conv-{i}"}
        if plans[i % 4] is not None:
            context["plan"] = plans[i % 4]
        if accounts[i % 5] is not None:
            context["accountId"] = accounts[i % 5]
        context["channel"] = "chat" if i % 3 else "email"
        if i % 7 == 0:
            context["email"] = f"dev{i}@example.com"
        if i % 11 == 0:
            del context["conversationId"]  # a unit id missing now and then
        yield context


RESOLVERS = {
    "boolean": "get_boolean_details",
    "string": "get_string_details",
    "object": "get_object_details",
}
DEFAULTS: dict[str, Any] = {"boolean": False, "string": "", "object": {}}


def resolver(flags: FlagSet, key: str) -> tuple[str, Any]:
    values = list(flags.flags[key].values.values())
    if all(type(v) is int for v in values):
        return "get_integer_details", -1
    if all(type(v) in (int, float) for v in values):
        return "get_float_details", -1.0
    kind = flags.flags[key].kind
    return RESOLVERS.get(kind, "get_object_details"), DEFAULTS.get(kind, {})


def test_direct_path_serves_what_the_provider_serves_for_every_repo_flag(
    repo_flags: Path,
) -> None:
    flags = load_flags(repo_flags)
    api.set_provider_and_wait(ModelFlagsProvider(repo_flags, poll_interval=0))
    client = api.get_client()
    assert len(flags) >= 5
    compared = 0
    for key in flags.flags:
        method, default = resolver(flags, key)
        for context in contexts(2000):
            attributes = {k: v for k, v in context.items() if k != "targetingKey"}
            through_client = getattr(client, method)(
                key, default, EvaluationContext(context["targetingKey"], attributes)
            )
            direct = flags.evaluate(key, context)
            assert (direct.variant if direct.error_code is None else None, direct.reason) == (
                through_client.variant,
                through_client.reason,
            ), (key, context)
            assert direct.error_code == (
                through_client.error_code.value if through_client.error_code else None
            )
            if direct.error_code is None:
                assert direct.value == through_client.value
                assert direct.metadata == through_client.flag_metadata
            compared += 1
    assert compared == 2000 * len(flags)


# -- schedules, with an injected clock ------------------------------------------------------

SCHEDULED = """\
version: 1
flags:
  launch:
    default: old
    variations: {old: 1, new: 2}
    schedule: {start: 2026-11-01T00:00:00Z, end: 2026-12-01T00:00:00Z}
    split: {new: 1}
"""
START = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
END = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "now",
    [START - 86400, START - 0.001, END, END + 86400],
    ids=["day-before", "just-before", "at-end", "day-after"],
)
def test_outside_the_schedule_serves_the_default_decided_by_schedule(
    tmp_path: Path, now: float
) -> None:
    flags = load_flags(write(tmp_path, SCHEDULED), clock=lambda: now)
    result = flags.evaluate("launch", {"targetingKey": "u1"})
    assert (result.variant, result.value, result.reason, result.rule) == (
        "old",
        1,
        Reason.DEFAULT,
        "schedule",
    )


@pytest.mark.parametrize(
    "now", [START, START + 86400, END - 0.001], ids=["at-start", "inside", "just-before-end"]
)
def test_inside_the_schedule_the_split_decides(tmp_path: Path, now: float) -> None:
    flags = load_flags(write(tmp_path, SCHEDULED), clock=lambda: now)
    result = flags.evaluate("launch", {"targetingKey": "u1"})
    assert (result.variant, result.value, result.reason, result.rule) == (
        "new",
        2,
        Reason.SPLIT,
        "split",
    )


def test_the_clock_is_read_at_each_evaluation(tmp_path: Path) -> None:
    now = [START - 1]
    flags = load_flags(write(tmp_path, SCHEDULED), clock=lambda: now[0])
    assert flags.evaluate("launch", {"targetingKey": "u1"}).rule == "schedule"
    now[0] = START + 1
    assert flags.evaluate("launch", {"targetingKey": "u1"}).rule == "split"


# -- the other steps of the evaluation order ------------------------------------------------

STEPS = """\
version: 1
segments:
  beta_users:
    plan: beta
flags:
  constant:
    default: a
    variations: {a: 1, b: 2}
  covered:
    default: out
    variations: {out: 0, in: 1}
    coverage: 30
    split: {in: 1}
  rule_split:
    default: a
    variations: {a: 1, b: 2, c: 3}
    rules:
      - name: staff_experiment
        when: {staff: true}
        split: {b: 1, c: 1}
    split: {a: 1}
  beta_rule:
    default: a
    variations: {a: 1, b: 2}
    rules:
      - name: beta_gets_b
        when: {$segment: beta_users}
        serve: b
  vip:
    default: a
    variations: {a: normal, b: vip}
    rules:
      - name: listed
        when: {targetingKey: {$in: [vip-1, vip-2]}}
        serve: b
"""


@pytest.fixture
def steps(tmp_path: Path) -> FlagSet:
    return load_flags(write(tmp_path, STEPS))


def test_flag_without_rules_or_split_is_static(steps: FlagSet) -> None:
    result = steps.evaluate("constant", {"targetingKey": "u1"})
    assert (result.variant, result.value, result.reason, result.error_code) == (
        "a",
        1,
        Reason.STATIC,
        None,
    )


def test_flag_without_rules_or_split_needs_no_unit(steps: FlagSet) -> None:
    result = steps.evaluate("constant", {})
    assert (result.variant, result.reason, result.error_code) == ("a", Reason.STATIC, None)


def test_units_held_out_by_coverage_get_the_default_decided_by_holdout(steps: FlagSet) -> None:
    results = [steps.evaluate("covered", {"targetingKey": f"u{i}"}) for i in range(200)]
    held_out = [r for r in results if r.variant == "out"]
    assert held_out
    assert {(r.reason, r.rule) for r in held_out} == {(Reason.DEFAULT, "holdout")}
    assert {(r.reason, r.rule) for r in results if r.variant == "in"} == {(Reason.SPLIT, "split")}


def test_coverage_share_matches_the_declared_percentage(steps: FlagSet) -> None:
    n = 20_000
    covered = sum(
        steps.evaluate("covered", {"targetingKey": f"unit-{i}"}).variant == "in" for i in range(n)
    )
    # 30% declared; sd = sqrt(.3 * .7 / 20000) = 0.0032: the bound is ~4.6 sd
    assert abs(covered / n - 0.30) < 0.015


def test_rule_with_its_own_split_reports_split_and_the_rules_name(steps: FlagSet) -> None:
    results = [
        steps.evaluate("rule_split", {"targetingKey": f"u{i}", "staff": True}) for i in range(200)
    ]
    assert {(r.reason, r.rule) for r in results} == {(Reason.SPLIT, "staff_experiment")}
    assert {r.variant for r in results} == {"b", "c"}


def test_units_the_rule_does_not_match_fall_through_to_the_flags_split(steps: FlagSet) -> None:
    result = steps.evaluate("rule_split", {"targetingKey": "u1", "staff": False})
    assert (result.variant, result.reason, result.rule) == ("a", Reason.SPLIT, "split")


def test_segment_reference_in_a_rule_matches_segment_members(steps: FlagSet) -> None:
    member = steps.evaluate("beta_rule", {"targetingKey": "u1", "plan": "beta"})
    other = steps.evaluate("beta_rule", {"targetingKey": "u1", "plan": "free"})
    assert (member.variant, member.reason, member.rule) == (
        "b",
        Reason.TARGETING_MATCH,
        "beta_gets_b",
    )
    assert (other.variant, other.reason) == ("a", Reason.DEFAULT)


def test_targeting_key_in_a_condition_matches_on_the_direct_path(steps: FlagSet) -> None:
    assert steps.evaluate("vip", {"targetingKey": "vip-2"}).variant == "b"
    assert steps.evaluate("vip", {"targetingKey": "user-2"}).variant == "a"


@pytest.fixture
def steps_client() -> OpenFeatureClient:
    api.set_provider_and_wait(provider_from_yaml(STEPS))
    return api.get_client()


def test_targeting_key_in_a_condition_matches_through_the_provider(
    steps_client: OpenFeatureClient,
) -> None:
    listed = steps_client.get_string_details("vip", "x", EvaluationContext("vip-1"))
    other = steps_client.get_string_details("vip", "x", EvaluationContext("user-1"))
    assert (listed.value, listed.reason) == ("vip", Reason.TARGETING_MATCH)
    assert listed.flag_metadata["rule"] == "listed"
    assert (other.value, other.reason) == ("normal", Reason.DEFAULT)


def test_targeting_key_condition_without_a_targeting_key_does_not_match_through_the_provider(
    steps_client: OpenFeatureClient,
) -> None:
    details = steps_client.get_string_details(
        "vip", "x", EvaluationContext(attributes={"plan": "x"})
    )
    assert (details.value, details.reason, details.error_code) == ("normal", Reason.DEFAULT, None)


# -- never raises ----------------------------------------------------------------------------


def test_unknown_flag_is_flag_not_found(steps: FlagSet) -> None:
    result = steps.evaluate("no_such_flag", {"targetingKey": "u1"})
    assert (result.error_code, result.reason, result.value) == (
        ErrorCode.FLAG_NOT_FOUND,
        Reason.ERROR,
        None,
    )
    assert "no_such_flag" in (result.error_message or "")


@pytest.mark.parametrize("key", ["covered", "rule_split", "beta_rule", "vip"])
def test_a_broken_mapping_context_is_an_error_result_not_an_exception(
    steps: FlagSet, key: str
) -> None:
    result = steps.evaluate(key, BrokenContext())
    assert result.error_code == ErrorCode.GENERAL
    assert result.reason == Reason.ERROR
    assert result.variant == steps.flags[key].default
    assert "broken context" in (result.error_message or "")


ERRORS = """\
version: 1
flags:
  keyed:
    default: a
    variations: {a: 1, b: 2}
    assignment: {key: uid}
    metadata: {team: support}
    split: {a: 1, b: 1}
  keyless:
    default: a
    variations: {a: 1, b: 2}
    split: {a: 1, b: 1}
"""
ERROR_CONTEXTS: list[tuple[str, str, Any]] = [
    ("unknown flag", "nope", {"uid": "u1"}),
    ("missing unit attribute", "keyed", {"targetingKey": "t1"}),
    ("missing targeting key", "keyless", {"uid": "u1"}),
    ("unit of an unusable type", "keyed", {"uid": True}),
    ("unit over the length bound", "keyed", {"uid": "x" * 2000}),
    ("unit attribute with a lone surrogate", "keyed", {"uid": "\ud800"}),
    ("targeting key with a lone surrogate", "keyless", {"targetingKey": "\ud800"}),
    ("broken mapping", "keyed", BrokenContext()),
]


@pytest.fixture
def errors_provider() -> Iterator[ModelFlagsProvider]:
    provider = provider_from_yaml(ERRORS)
    provider.initialize(EvaluationContext())
    yield provider
    provider.shutdown()


@pytest.mark.parametrize(
    ("key", "context"),
    [(key, context) for _, key, context in ERROR_CONTEXTS],
    ids=[name for name, _, _ in ERROR_CONTEXTS],
)
def test_both_paths_report_an_error_with_the_same_code_message_and_metadata(
    errors_provider: ModelFlagsProvider, key: str, context: Any
) -> None:
    provider = errors_provider
    flags = provider.flags
    assert flags is not None
    direct = flags.evaluate(key, context)
    if isinstance(context, BrokenContext):
        of_context = EvaluationContext(None, context)
    else:
        attributes = {k: v for k, v in context.items() if k != "targetingKey"}
        of_context = EvaluationContext(context.get("targetingKey"), attributes)
    details = provider.resolve_integer_details(key, -1, of_context)
    assert direct.error_code is not None
    assert (details.error_code, details.error_message, details.flag_metadata) == (
        direct.error_code,
        direct.error_message,
        direct.metadata,
    )
    assert (details.value, details.reason) == (-1, Reason.ERROR)


def test_lone_surrogate_unit_id_is_an_error_result_not_an_exception(steps: FlagSet) -> None:
    result = steps.evaluate("covered", {"targetingKey": "\ud800"})
    assert result.error_code == ErrorCode.INVALID_CONTEXT
    assert (result.reason, result.variant, result.value) == (Reason.ERROR, "out", 0)


def test_lone_surrogate_unit_id_is_an_error_result_through_the_provider(
    steps_client: OpenFeatureClient,
) -> None:
    details = steps_client.get_integer_details("covered", -1, EvaluationContext("\ud800"))
    assert details.error_code == ErrorCode.INVALID_CONTEXT
    assert details.value == -1


def test_a_flag_that_is_off_still_names_its_unit_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "off.yaml"
    path.write_text(
        "version: 1\nflags:\n  route:\n    state: off\n    default: a\n"
        "    variations: {a: 1, b: 2}\n    assignment: {key: conversationId}\n"
        "    split: {a: 1, b: 1}\n"
    )
    direct = load_flags(str(path)).evaluate("route", {"conversationId": "conv-9"})
    assert (direct.reason, direct.metadata["unitId"]) == (Reason.DISABLED, "conv-9")
    api.set_provider_and_wait(ModelFlagsProvider(str(path), poll_interval=0))
    try:
        details = api.get_client().get_integer_details(
            "route", 0, EvaluationContext(attributes={"conversationId": "conv-9"})
        )
    finally:
        api.shutdown()
    assert (details.reason, details.flag_metadata["unitId"]) == ("DISABLED", "conv-9")


def test_a_unit_id_longer_than_the_bound_is_an_invalid_context_on_both_paths(
    tmp_path: Path,
) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(
        "version: 1\nflags:\n  route:\n    default: a\n    variations: {a: 1, b: 2}\n"
        "    assignment: {key: conversationId}\n    split: {a: 1, b: 1}\n"
    )
    flags = load_flags(str(path))
    assert flags.evaluate("route", {"conversationId": "c" * 1024}).error_code is None
    long = {"conversationId": "c" * 1025}
    assert flags.evaluate("route", long).error_code == ErrorCode.INVALID_CONTEXT
    api.set_provider_and_wait(ModelFlagsProvider(str(path), poll_interval=0))
    try:
        details = api.get_client().get_integer_details(
            "route", 0, EvaluationContext(attributes=long)
        )
    finally:
        api.shutdown()
    assert (details.error_code, details.value) == ("INVALID_CONTEXT", 0)
