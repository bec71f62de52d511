"""Exposures say whether the unit was randomised: ``rule`` names the step or rule that
decided, and ``inExperiment`` is true only when the flag's own split did, through the real
OpenFeature client and provider over a flag file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider, load_flags

FLAGS = """\
version: 1
segments:
  blocked_accounts:
    accountId: {$in: [acct_blocked]}
flags:
  route:
    state: on
    default: control
    variations:
      control:   {modelRoute: model_a}
      candidate: {modelRoute: model_b}
      fallback:  {modelRoute: model_safe}
    assignment: {unit: conversation, key: conversationId, salt: route}
    exclusions: {segments: [blocked_accounts], serve: fallback}
    rules:
      - name: internal_traffic
        when: {email: {$regex: "@example\\\\.com$"}}
        serve: candidate
      - name: beta_testers
        when: {plan: beta}
        split: {control: 1, candidate: 1}
    eligible: {plan: {$in: [pro, enterprise]}}
    split: {control: 50, candidate: 50}
  route_off:
    state: off
    default: control
    variations: {control: {modelRoute: model_a}, candidate: {modelRoute: model_b}}
    assignment: {unit: conversation, key: conversationId}
    split: {control: 50, candidate: 50}
  route_held_out:
    default: control
    variations: {control: {modelRoute: model_a}, candidate: {modelRoute: model_b}}
    assignment: {unit: conversation, key: conversationId}
    coverage: 0
    split: {control: 50, candidate: 50}
  label:
    default: short
    variations: {short: "a short label", long: "a long label"}
"""


@pytest.fixture
def of_client(tmp_path: Path, evidence: Evidence) -> OpenFeatureClient:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    api.set_provider_and_wait(ModelFlagsProvider(path, evidence=evidence, poll_interval=0))
    return api.get_client()


def exposure_of(
    client: OpenFeatureClient,
    evidence: Evidence,
    memory: MemoryTracker,
    attributes: dict[str, Any],
    flag: str = "route",
) -> dict[str, Any]:
    """The exposure event of one evaluation of ``flag`` for a context with ``attributes``."""
    ctx = EvaluationContext(attributes=attributes)
    details = client.get_object_details(flag, {}, ctx)
    evidence.exposure(details, ctx).record(latency_ms=1)
    assert evidence.flush()
    (event,) = memory.of("exposure")
    return event


def membership(event: dict[str, Any]) -> tuple[Any, Any, Any]:
    return event["reason"], event["rule"], event["inExperiment"]


def test_the_flags_own_split_puts_the_unit_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"conversationId": "c1", "plan": "pro"})
    assert membership(event) == ("SPLIT", "split", True)


def test_a_rule_serving_a_variation_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    attributes = {"conversationId": "c1", "plan": "pro", "email": "dev@example.com"}
    event = exposure_of(of_client, evidence, memory, attributes)
    assert membership(event) == ("TARGETING_MATCH", "internal_traffic", False)


def test_a_rule_with_its_own_split_is_targeted_traffic_not_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"conversationId": "c1", "plan": "beta"})
    assert membership(event) == ("SPLIT", "beta_testers", False)


def test_an_excluded_unit_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    attributes = {"conversationId": "c1", "plan": "pro", "accountId": "acct_blocked"}
    event = exposure_of(of_client, evidence, memory, attributes)
    assert membership(event) == ("TARGETING_MATCH", "exclusions", False)
    assert event["variation"] == "fallback"


def test_a_unit_that_is_not_eligible_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"conversationId": "c1", "plan": "free"})
    assert membership(event) == ("DEFAULT", "not-eligible", False)


def test_a_held_out_unit_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"conversationId": "c1"}, "route_held_out")
    assert membership(event) == ("DEFAULT", "holdout", False)


def test_a_flag_that_is_off_is_not_an_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"conversationId": "c1"}, "route_off")
    assert membership(event) == ("DISABLED", "off", False)


def test_a_flag_without_a_split_records_its_default_rule(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    ctx = EvaluationContext(attributes={"conversationId": "c1"})
    details = of_client.get_string_details("label", "x", ctx)
    evidence.exposure(details, ctx).record()
    assert evidence.flush()
    (event,) = memory.of("exposure")
    assert membership(event) == ("STATIC", "default", False)


def test_an_evaluation_without_its_unit_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"plan": "pro"})
    assert membership(event) == ("ERROR", "no-unit", False)


def test_an_evaluation_of_the_wrong_type_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    ctx = EvaluationContext(attributes={"conversationId": "c1", "plan": "pro"})
    details = of_client.get_string_details("route", "x", ctx)
    assert details.error_code == "TYPE_MISMATCH"
    evidence.exposure(details, ctx).record()
    assert evidence.flush()
    (event,) = memory.of("exposure")
    assert event["inExperiment"] is False
    assert event["reason"] == "ERROR"


def test_an_unknown_flag_is_not_in_the_experiment(
    of_client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    event = exposure_of(of_client, evidence, memory, {"conversationId": "c1"}, "no_such_flag")
    assert (event["flagKey"], event["reason"], event["inExperiment"]) == (
        "no_such_flag", "ERROR", False,
    )  # fmt: skip


def test_an_error_code_keeps_a_split_evaluation_out_of_the_experiment(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    class FailedSplit:  # a result that says SPLIT and split, but failed
        flag_key = "route"
        variant = "control"
        value = None
        reason = "SPLIT"
        error_code = "GENERAL"
        flag_metadata: ClassVar[dict[str, str]] = {"rule": "split", "unitId": "c1"}

    evidence.exposure(FailedSplit()).record()
    assert evidence.flush()
    (event,) = memory.of("exposure")
    assert (event["reason"], event["rule"], event["inExperiment"]) == ("SPLIT", "split", False)


def test_the_direct_path_records_the_same_membership(
    tmp_path: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    flags = load_flags(path)
    for attributes in ({"conversationId": "c1", "plan": "pro"},
                       {"conversationId": "c1", "plan": "beta"}):  # fmt: skip
        evidence.exposure(flags.evaluate("route", attributes), attributes).record()
    assert evidence.flush()
    assert [membership(e) for e in memory.of("exposure")] == [
        ("SPLIT", "split", True), ("SPLIT", "beta_testers", False),
    ]  # fmt: skip
