"""How outcomes are attributed: they carry the ``configVersion`` of the evaluation they were
attributed with; after an on-disk rollback the exposure keeps the arm and the outcome shows
the new evaluation (the report's consistency check); an outcome that names no flag, or one
no provider knows, is still recorded, counted and warned about once per event name."""

from __future__ import annotations

from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails
from readback import detail, warnings

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider

FLAG = "answer_route"
CANDIDATE_UNIT = "c0"  # bucketed into "candidate" by the flag's salt
OUTCOME = "support_conversation_outcome"


def context(unit: str) -> EvaluationContext:
    return EvaluationContext(attributes={"conversationId": unit})


def tracked(**attributes: object) -> TrackingEventDetails:
    return TrackingEventDetails(value=1, attributes=attributes)  # type: ignore[arg-type]


# -- configVersion -------------------------------------------------------------------------


def test_a_tracked_outcome_carries_the_config_version_of_its_evaluation(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context("conv-1"))
    client.track(OUTCOME, context("conv-1"), tracked(flagKey=FLAG))
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert event["configVersion"] == details.flag_metadata["configVersion"]
    assert isinstance(event["configVersion"], str)


def test_an_outcome_of_an_evaluation_result_carries_its_config_version(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context("conv-1"))
    evidence.outcome(OUTCOME, details, context("conv-1"), resolved=True)
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert event["configVersion"] == details.flag_metadata["configVersion"]


def test_record_outcome_takes_metrics_named_like_its_own_parameters(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context("conv-1"))
    metrics = {"name": 1, "value": 2.5, "context": True, "note": "kept as an attribute"}
    evidence.record_outcome(OUTCOME, details, context("conv-1"), value=3, metrics=metrics)
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert event["metrics"] == {"name": 1, "value": 2.5, "context": True}
    assert event["attributes"] == {"note": "kept as an attribute"}
    assert (event["value"], event["unitId"]) == (3, "conv-1")


def test_after_a_rollback_the_exposure_keeps_the_arm_and_the_outcome_shows_the_new_one(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    provider = ModelFlagsProvider(flag_file, evidence=evidence, poll_interval=0)
    api.set_provider_and_wait(provider)
    client = api.get_client()
    ctx = context(CANDIDATE_UNIT)
    details = client.get_object_details(FLAG, {}, ctx)
    evidence.exposure(details, ctx).record(latency_ms=10)

    rolled_back = flag_file.read_text().replace("state: on", "state: off")
    flag_file.write_text(rolled_back.replace("default: control", "default: fallback"))
    assert provider.reload().changed
    client.track(OUTCOME, ctx, tracked(flagKey=FLAG, resolved=True))
    assert evidence.flush()

    (exposure,) = memory.of("exposure")
    (outcome,) = memory.of(OUTCOME)
    assert exposure["unitId"] == outcome["unitId"] == CANDIDATE_UNIT
    assert (exposure["assignedVariation"], outcome["variation"]) == ("candidate", "fallback")
    assert exposure["configVersion"] != outcome["configVersion"]


# -- outcomes that join nothing ------------------------------------------------------------


def test_track_without_a_flag_key_is_recorded_without_a_flag(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    client.track(OUTCOME, EvaluationContext(targeting_key="user-1"), tracked(resolved=True))
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert (event["flagKey"], event["variation"], event["unitId"]) == (None, None, "user-1")
    assert event["metrics"] == {"resolved": True}


def test_track_without_a_flag_key_is_counted_as_unattributed(
    client: OpenFeatureClient, evidence: Evidence
) -> None:
    for _ in range(3):
        client.track(OUTCOME, context("conv-1"), tracked(resolved=True))
    assert evidence.counters["unattributed"] == 3


def test_track_without_a_flag_key_warns_once_per_event_name(
    client: OpenFeatureClient, evidence: Evidence, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        client.track(OUTCOME, context("conv-1"), tracked(resolved=True))
        client.track("refund_requested", context("conv-1"), tracked())
    warned = warnings(caplog)
    assert sorted(str(detail(entry, "outcome")) for entry in warned) == [
        "refund_requested",
        OUTCOME,
    ]
    assert all("flagKey" in str(entry.getMessage()) for entry in warned)  # says how to pass it


def test_track_of_an_unknown_flag_is_counted_and_recorded(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    client.track(OUTCOME, context("conv-1"), tracked(flagKey="answer_rout"))
    client.track(OUTCOME, context("conv-1"), tracked(flagKey="answer_rout"))
    assert evidence.flush()
    assert [event["flagKey"] for event in memory.of(OUTCOME)] == ["answer_rout"] * 2
    assert evidence.counters["unattributed"] == 2


def test_track_of_an_unknown_flag_warns_once_per_event_name(
    client: OpenFeatureClient, evidence: Evidence, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        client.track(OUTCOME, context("conv-1"), tracked(flagKey="answer_rout"))
        client.track("refund_requested", context("conv-1"), tracked(flagKey="answer_rout"))
    warned = warnings(caplog)
    assert sorted(str(detail(entry, "outcome")) for entry in warned) == [
        "refund_requested",
        OUTCOME,
    ]
    assert {detail(entry, "flag_key") for entry in warned} == {"answer_rout"}


def test_track_of_a_known_flag_is_not_unattributed_and_not_warned_about(
    client: OpenFeatureClient, evidence: Evidence, caplog: pytest.LogCaptureFixture
) -> None:
    client.track(OUTCOME, context("conv-1"), tracked(flagKey=FLAG))
    assert warnings(caplog) == []
    assert evidence.counters["unattributed"] == 0


def test_an_outcome_given_no_flag_is_counted_and_warned_about(
    evidence: Evidence, memory: MemoryTracker, caplog: pytest.LogCaptureFixture
) -> None:
    evidence.outcome(OUTCOME, None, EvaluationContext(targeting_key="user-2"), value=1)
    assert evidence.flush()
    (event,) = memory.of(OUTCOME)
    assert (event["flagKey"], event["unitId"]) == (None, "user-2")
    assert evidence.counters["unattributed"] == 1
    assert [detail(entry, "outcome") for entry in warnings(caplog)] == [OUTCOME]


def test_an_outcome_of_a_flag_not_found_evaluation_is_unattributed(
    client: OpenFeatureClient, evidence: Evidence
) -> None:
    details = client.get_object_details("no_such_flag", {}, context("conv-1"))
    assert details.error_code == "FLAG_NOT_FOUND"
    evidence.outcome(OUTCOME, details, context("conv-1"))
    assert evidence.counters["unattributed"] == 1
