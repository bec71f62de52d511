"""``client.track(...)`` through the real OpenFeature client becomes an outcome event joined
to the exposure; ``MODELFLAGS_EVIDENCE`` configures the evidence; shutdown flushes it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider, read_events
from modelflags.evidence import ENV_VAR

FLAG = "answer_route"
OUTCOME = "support_conversation_outcome"


def context(unit: str) -> EvaluationContext:
    return EvaluationContext(attributes={"conversationId": unit, "plan": "pro"})


def tracked(value: float | None = 1, **attributes: object) -> TrackingEventDetails:
    return TrackingEventDetails(value=value, attributes={"flagKey": FLAG, **attributes})  # type: ignore[dict-item]


@pytest.fixture(autouse=True)
def _no_evidence_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_track_records_an_outcome_joined_to_the_exposure(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    units = [f"conv-{i}" for i in range(20)]
    for unit in units:
        details = client.get_object_details(FLAG, {}, context(unit))
        evidence.exposure(details, context(unit)).record(latency_ms=5)
        client.track(OUTCOME, context(unit), tracked(resolvedWithoutEscalation=True))
    assert evidence.flush()

    exposures = {(e["unitId"], e["variation"]) for e in memory.of("exposure")}
    outcomes = {(e["unitId"], e["variation"]) for e in memory.of(OUTCOME)}
    assert len(exposures) == len(units)
    assert outcomes == exposures
    assert {v for _, v in outcomes} == {"control", "candidate"}  # both arms joined


def test_track_outcome_carries_the_experiment_keys(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    client.track(OUTCOME, context("conv-1"), tracked())
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert (event["flagKey"], event["experimentKey"], event["assignmentUnit"]) == (
        FLAG, "route-test", "conversation",
    )  # fmt: skip


def test_track_value_is_the_outcome_value(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    client.track(OUTCOME, context("conv-1"), tracked(value=4.5))
    assert evidence.flush()
    assert memory.of(OUTCOME)[0]["value"] == 4.5


def test_track_numeric_attributes_become_metrics_and_the_rest_attributes(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    client.track(OUTCOME, context("conv-1"), tracked(resolved=True, turns=3, channel="chat"))
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert event["metrics"] == {"resolved": True, "turns": 3}
    assert event["attributes"] == {"channel": "chat"}  # flagKey names the flag, not a field


@pytest.mark.parametrize("name", ["value", "name", "context", "attributes", "flag_key"])
def test_track_keeps_a_metric_named_like_a_parameter(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker, name: str
) -> None:
    details = TrackingEventDetails(value=1, attributes={"flagKey": FLAG, name: 2})
    client.track(OUTCOME, context("conv-1"), details)
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert event["metrics"] == {name: 2}


def test_track_of_an_unknown_flag_keeps_the_key_and_the_targeting_key(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = TrackingEventDetails(value=1, attributes={"flagKey": "no_such_flag"})
    client.track(OUTCOME, EvaluationContext(targeting_key="user-9"), details)
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert (event["flagKey"], event["unitId"], event["variation"]) == (
        "no_such_flag", "user-9", None,
    )  # fmt: skip


def test_track_never_raises_into_the_application(
    client: OpenFeatureClient,
    evidence: Evidence,
    memory: MemoryTracker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = TrackingEventDetails(value=1)
    broken.attributes = 5  # type: ignore[assignment]
    with caplog.at_level(logging.ERROR, logger="modelflags.provider"):
        client.track(OUTCOME, context("conv-1"), broken)
    (record,) = caplog.records
    assert record.name == "modelflags.provider" and "failed" in record.getMessage()
    assert evidence.flush()
    assert memory.events == []


def test_track_without_evidence_does_nothing(flag_file: Path) -> None:
    provider = ModelFlagsProvider(flag_file, poll_interval=0)
    api.set_provider_and_wait(provider)
    api.get_client().track(OUTCOME, context("conv-1"), tracked())
    assert provider.evidence is None


def test_the_environment_variable_makes_the_provider_write_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flag_file: Path
) -> None:
    path = tmp_path / "events" / "e.jsonl"
    monkeypatch.setenv(ENV_VAR, f"jsonl://{path}")
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0))
    api.get_client().track(OUTCOME, context("conv-1"), tracked())
    api.shutdown()
    (event,) = read_events([path])
    assert (event["event"], event["flagKey"], event["unitId"]) == (OUTCOME, FLAG, "conv-1")


def test_an_unwritable_evidence_path_does_not_stop_the_provider(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flag_file: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(ENV_VAR, f"jsonl://{blocker}/e.jsonl")
    provider = ModelFlagsProvider(flag_file, poll_interval=0)
    api.set_provider_and_wait(provider)
    client = api.get_client()
    client.track(OUTCOME, context("conv-1"), tracked())
    assert client.get_object_details(FLAG, {}, context("conv-1")).variant is not None
    assert provider.evidence is not None
    assert provider.evidence.flush(timeout=0.3) is False
    assert provider.evidence.counters["queued"] == 1
    provider.evidence.close(timeout=0.5)


def test_shutdown_flushes_and_closes_the_evidence(flag_file: Path) -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, batch_size=10_000, flush_interval=3600)  # no timely delivery
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, evidence=evidence, poll_interval=0))
    api.get_client().track(OUTCOME, context("conv-1"), tracked())
    api.shutdown()
    assert len(memory.of(OUTCOME)) == 1
    assert memory.closed
