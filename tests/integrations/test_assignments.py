"""``AssignmentLogger``: the real OpenFeature client and provider; an ``assignment`` event per
(unit, flag, variation), de-duplicated within a bounded LRU, read back from a real tracker."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType
from openfeature.hook import Hook, HookContext, HookHints

from modelflags import Evidence, JsonlTracker, MemoryTracker, ModelFlagsProvider, read_events
from modelflags.cli import main
from modelflags.evidence import Assignments
from modelflags.integrations.assignments import AssignmentLogger
from modelflags.testing import flags_from_yaml, force, provider_from_yaml

ROOT = Path(__file__).resolve().parents[2]

FLAGS = """\
version: 1
flags:
  answer_route:
    default: control
    variations:
      control:   {modelRoute: model_a}
      candidate: {modelRoute: model_b}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    rules:
      - name: internal_traffic
        when: {email: {$regex: "@example\\\\.com$"}}
        serve: candidate
    split: {control: 50, candidate: 50}
    experiment: {key: route-test, control: control}
  greeting:
    default: short
    variations: {short: "Hi", long: "Hello there"}
"""


@pytest.fixture
def memory() -> MemoryTracker:
    return MemoryTracker()


@pytest.fixture
def evidence(memory: MemoryTracker) -> Iterator[Evidence]:
    evidence = Evidence(memory, flush_interval=0.01, context_attributes=["plan"])
    yield evidence
    evidence.close()


@pytest.fixture
def logger(evidence: Evidence) -> AssignmentLogger:
    return AssignmentLogger(evidence)


@pytest.fixture
def provider() -> ModelFlagsProvider:
    provider = provider_from_yaml(FLAGS)
    api.set_provider_and_wait(provider)
    return provider


@pytest.fixture
def client(provider: ModelFlagsProvider, logger: AssignmentLogger) -> OpenFeatureClient:
    client = api.get_client()
    client.add_hooks([logger])
    return client


def conversation(unit: str, **attributes: Any) -> EvaluationContext:
    return EvaluationContext(attributes={"conversationId": unit, **attributes})


def assignments(evidence: Evidence, memory: MemoryTracker) -> list[dict[str, Any]]:
    assert evidence.flush()
    return memory.of("assignment")


def test_a_unit_is_recorded_once_per_flag_and_variation(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker, logger: AssignmentLogger
) -> None:
    for unit in ("conv-1", "conv-2", "conv-1", "conv-1", "conv-2"):
        client.get_object_details("answer_route", {}, conversation(unit))
    events = assignments(evidence, memory)
    assert [e["unitId"] for e in events] == ["conv-1", "conv-2"]
    assert logger.counters["recorded"] == 2 and logger.counters["duplicates"] == 3


def test_a_unit_served_another_variation_is_recorded_again(
    provider: ModelFlagsProvider,
    client: OpenFeatureClient,
    evidence: Evidence,
    memory: MemoryTracker,
) -> None:
    first = client.get_object_details("answer_route", {}, conversation("conv-1"))
    other = "candidate" if first.variant == "control" else "control"
    with force(provider, "answer_route", other):
        client.get_object_details("answer_route", {}, conversation("conv-1"))
        client.get_object_details("answer_route", {}, conversation("conv-1"))
    events = assignments(evidence, memory)
    assert [e["variation"] for e in events] == [first.variant, other]
    assert [e["reason"] for e in events] == ["SPLIT", "STATIC"]


def test_the_least_recently_seen_key_is_forgotten_first_and_counted(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    api.set_provider_and_wait(provider_from_yaml(FLAGS))
    logger = AssignmentLogger(evidence, dedupe_size=2)
    client = api.get_client()
    client.add_hooks([logger])
    for unit in ("a", "b", "a", "c", "a", "b"):  # c evicts b (a was seen again); b evicts a
        client.get_object_details("answer_route", {}, conversation(unit))
    events = assignments(evidence, memory)
    assert [e["unitId"] for e in events] == ["a", "b", "c", "b"]
    assert logger.counters == {
        "recorded": 4, "duplicates": 2, "evicted": 2, "without_unit": 0,
        "failed_evaluations": 0, "remembered": 2,
    }  # fmt: skip


class RaisingHook(Hook):
    """Another hook that fails after evaluation: the application gets the default value."""

    def after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        raise RuntimeError("a broken hook")


def test_failed_evaluations_record_nothing(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker, logger: AssignmentLogger
) -> None:
    failed = [
        client.get_object_details("no_such_flag", {}, conversation("conv-1")),
        client.get_object_details("answer_route", {}, EvaluationContext()),  # no unit key
        client.get_boolean_details("answer_route", False, conversation("conv-1")),
    ]
    broken = api.get_client("broken")
    broken.add_hooks([RaisingHook(), logger])
    failed.append(broken.get_object_details("answer_route", {}, conversation("conv-2")))
    assert all(details.error_code is not None for details in failed)
    assert assignments(evidence, memory) == []
    assert logger.counters["failed_evaluations"] == 4 and logger.counters["recorded"] == 0


def test_an_evaluation_without_a_unit_records_nothing(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker, logger: AssignmentLogger
) -> None:
    details = client.get_string_details("greeting", "Hey", EvaluationContext())
    assert details.error_code is None and details.value == "Hi"
    client.get_string_details("greeting", "Hey", EvaluationContext(targeting_key="user-9"))
    events = assignments(evidence, memory)
    assert [(e["flagKey"], e["unitId"]) for e in events] == [("greeting", "user-9")]
    assert logger.counters["without_unit"] == 1


def test_the_assignment_carries_the_join_keys_of_the_exposure_of_the_same_evaluation(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    ctx = conversation("conv-7", plan="pro", channel="chat")
    details = client.get_object_details("answer_route", {}, ctx)
    evidence.exposure(details, ctx).record(latency_ms=120.0)
    (assignment,) = assignments(evidence, memory)
    (exposure,) = memory.of("exposure")
    assert set(assignment) == {
        "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
        "variation", "reason", "rule", "inExperiment", "configVersion", "attributes",
    }  # fmt: skip
    for key in ("flagKey", "experimentKey", "assignmentUnit", "unitId", "reason", "rule",
                "inExperiment", "configVersion", "attributes"):  # fmt: skip
        assert assignment[key] == exposure[key], key
    assert assignment["variation"] == exposure["assignedVariation"] == details.variant
    assert assignment["attributes"] == {"plan": "pro"}  # the evidence's allowed attributes
    assert assignment["eventId"] != exposure["eventId"]
    assert assignment["timestamp"].endswith("Z")


def test_a_rule_match_is_recorded_out_of_the_experiment(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    client.get_object_details("answer_route", {}, conversation("conv-1", email="qa@example.com"))
    (event,) = assignments(evidence, memory)
    assert (event["variation"], event["rule"], event["reason"]) == (
        "candidate", "internal_traffic", "TARGETING_MATCH",
    )  # fmt: skip
    assert event["inExperiment"] is False


def test_unit_ids_are_hashed_when_the_evidence_hashes_them(
    monkeypatch: pytest.MonkeyPatch, memory: MemoryTracker
) -> None:
    monkeypatch.setenv("MODELFLAGS_UNIT_KEY", "a test key of enough bytes")
    evidence = Evidence(memory, flush_interval=0.01, hash_unit_ids=True)
    api.set_provider_and_wait(provider_from_yaml(FLAGS))
    client = api.get_client()
    client.add_hooks([AssignmentLogger(evidence)])
    details = client.get_object_details("answer_route", {}, conversation("conv-1"))
    evidence.exposure(details).record(latency_ms=1.0)
    (event,) = assignments(evidence, memory)
    (exposure,) = memory.of("exposure")
    evidence.close()
    assert event["unitId"] != "conv-1" and len(event["unitId"]) == 32
    assert event["unitId"] == exposure["unitId"]


def test_concurrent_evaluations_record_each_key_exactly_once(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker, logger: AssignmentLogger
) -> None:
    units = [f"conv-{n}" for n in range(200)]
    start = threading.Barrier(4)

    def evaluate(seed: int) -> None:
        order = units * 3
        random.Random(seed).shuffle(order)
        start.wait()
        for unit in order:
            client.get_object_details("answer_route", {}, conversation(unit))

    threads = [threading.Thread(target=evaluate, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = assignments(evidence, memory)
    assert sorted(e["unitId"] for e in events) == sorted(units)
    assert logger.counters["duplicates"] == 4 * 3 * 200 - 200


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "100"])
def test_the_dedupe_size_must_be_a_whole_number_of_one_or_more(
    evidence: Evidence, size: Any
) -> None:
    with pytest.raises(ValueError, match="dedupe_size"):
        AssignmentLogger(evidence, dedupe_size=size)


def test_the_direct_path_records_assignments_without_openfeature(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    flags = flags_from_yaml(FLAGS)
    recorder = Assignments(evidence)
    for unit in ("conv-1", "conv-1", "conv-2"):
        recorder.record(flags.evaluate("answer_route", {"conversationId": unit}))
    events = assignments(evidence, memory)
    assert [e["unitId"] for e in events] == ["conv-1", "conv-2"]
    assert all(e["inExperiment"] for e in events)


# -- the report reads files that hold assignment events ---------------------------------------


def write_events(path: Path, *, units: int, outcomes: bool) -> None:
    """Exposures, assignments and (optionally) outcomes of ``units`` conversations, recorded
    through the real provider with the repository's flags."""
    evidence = Evidence(JsonlTracker(path), flush_interval=0.01)
    api.set_provider_and_wait(
        ModelFlagsProvider(ROOT / "flags", evidence=evidence, poll_interval=0)
    )
    client = api.get_client()
    client.add_hooks([AssignmentLogger(evidence)])
    rng = random.Random(11)
    for n in range(units):
        ctx = conversation(f"conv-{n}", accountId="acct_3", plan="pro", channel="chat")
        route = client.get_object_details("support_answer_model_route", {}, ctx)
        evidence.exposure(route, ctx).record(latency_ms=rng.uniform(200, 900), estimated_cost=0.003)
        if outcomes:
            evidence.outcome("support_conversation_outcome", route, ctx,
                             resolvedWithoutEscalation=rng.random() < 0.7)  # fmt: skip
    api.shutdown()


def report(paths: list[Path], out: Path) -> dict[str, Any]:
    argv = ["report", *map(str, paths), "--flag", "support_answer_model_route", "--flags",
            str(ROOT / "flags"), "--format", "json", "--output", str(out),
            "--now", "2100-01-01T00:00:00Z"]  # fmt: skip
    assert main(argv) == 0
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def without_assignments(source: Path, target: Path) -> Path:
    kept = [e for e in read_events([source]) if e["event"] != "assignment"]
    target.write_text("".join(json.dumps(e) + "\n" for e in kept))
    return target


def test_the_report_compares_the_same_arms_with_or_without_assignment_events(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, units=300, outcomes=True)
    assert sum(e["event"] == "assignment" for e in read_events([events])) == 300
    both = report([events], tmp_path / "both.json")
    plain = report([without_assignments(events, tmp_path / "plain.jsonl")], tmp_path / "plain.json")
    assert both["decision"] == plain["decision"]
    assert both["population"] == plain["population"]
    assert _close(both["arms"], plain["arms"])
    assert _close(both["comparisons"], plain["comparisons"])


def _close(a: Any, b: Any) -> bool:
    """Equal, numbers up to summation order."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    return bool(a == b)


def test_the_report_does_not_count_assignments_as_outcomes(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, units=60, outcomes=False)
    both = report([events], tmp_path / "both.json")
    plain = report([without_assignments(events, tmp_path / "plain.jsonl")], tmp_path / "plain.json")
    assert both["health"] == plain["health"]
    assert both["input"]["assignments"] == 60
    assert plain["input"]["assignments"] == 0


def test_recorded_events_does_not_read_an_assignment_as_an_outcome(
    modelflags_provider: Any, recorded_events: Any
) -> None:
    modelflags_provider(FLAGS)
    client = api.get_client()
    client.add_hooks([AssignmentLogger(recorded_events.evidence)])
    details = client.get_object_details("answer_route", {}, conversation("conv-1"))
    recorded_events.evidence.outcome("resolved", details, conversation("conv-1"))
    assert [e["event"] for e in recorded_events.events] == ["assignment", "resolved"]
    assert [e["event"] for e in recorded_events.outcomes()] == ["resolved"]
