"""The wire format of exposure and outcome events: exactly the documented camelCase fields,
unique ids, RFC 3339 timestamps, the route that ran, and the join keys of the flag
evaluation, whether it came through OpenFeature or the direct path."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

from modelflags import Evidence, JsonlTracker, MemoryTracker, ModelFlagsProvider, load_flags
from modelflags.evidence import read_events
from modelflags.evidence.events import rfc3339

FLAG = "answer_route"
CANDIDATE_UNIT = "c0"  # bucketed into "candidate" by the salt above

EXPOSURE_FIELDS = {
    "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
    "variation", "assignedVariation", "reason", "rule", "inExperiment", "configVersion",
    "fallbackUsed",
    "fallbackReason", "modelRoute", "promptVersion", "retrievalProfile", "latencyMs",
    "timeToFirstTokenMs", "estimatedCost", "promptTokens", "completionTokens", "error",
    "errorType", "attributes",
}  # fmt: skip
OUTCOME_FIELDS = {
    "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
    "variation", "configVersion", "value", "metrics", "attributes",
}  # fmt: skip
JOIN_KEYS = ("unitId", "assignmentUnit", "experimentKey", "configVersion")


def context(unit: str) -> EvaluationContext:
    return EvaluationContext(attributes={"conversationId": unit})


def delivered(evidence: Evidence, memory: MemoryTracker) -> list[dict[str, Any]]:
    assert evidence.flush()
    return memory.events


# -- fields --------------------------------------------------------------------------------


def test_exposure_has_exactly_the_documented_fields(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context("c1"))
    with evidence.exposure(details, context("c1")):
        pass
    (event,) = delivered(evidence, memory)
    assert set(event) == EXPOSURE_FIELDS
    assert event["event"] == "exposure"


def test_outcome_has_exactly_the_documented_fields(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context("c1"))
    evidence.outcome("resolved", details, context("c1"), value=1, resolved=True)
    (event,) = delivered(evidence, memory)
    assert set(event) == OUTCOME_FIELDS
    assert event["event"] == "resolved"


# -- event ids -----------------------------------------------------------------------------


def test_event_ids_are_unique_across_100k_events(flag_file: Path) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": "c1"})
    memory = MemoryTracker()
    evidence = Evidence(memory, queue_size=200_000, batch_size=4096)
    for _ in range(50_000):
        evidence.exposure(resolution).record(latency_ms=1.0)
        evidence.outcome("resolved", resolution, value=1)
    evidence.close()
    ids = [event["eventId"] for event in memory.events]
    assert len(ids) == 100_000
    assert len(set(ids)) == 100_000


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork() of a threaded process
def test_event_ids_of_a_forked_child_differ_from_its_parents(
    tmp_path: Path, flag_file: Path
) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": "c1"})
    parent_memory = MemoryTracker()
    parent = Evidence(parent_memory, flush_interval=0.01)
    for _ in range(100):
        parent.exposure(resolution).record()
    assert parent.flush()
    child_file = tmp_path / "child.jsonl"

    pid = os.fork()
    if pid == 0:  # the child: record to a file, then leave without running pytest's exit
        code = 1
        try:
            child = Evidence(JsonlTracker(child_file), flush_interval=0.01)
            for _ in range(1000):
                child.exposure(resolution).record()
            child.close()
            code = 0
        finally:
            os._exit(code)

    for _ in range(1000):
        parent.exposure(resolution).record()
    parent.close()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child_ids = {event["eventId"] for event in read_events([child_file])}
    parent_ids = {event["eventId"] for event in parent_memory.events}
    assert (len(child_ids), len(parent_ids)) == (1000, 1100)
    assert child_ids.isdisjoint(parent_ids)


# -- timestamps ----------------------------------------------------------------------------


def test_timestamps_are_rfc3339_utc_with_milliseconds(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    before = time.time()
    details = client.get_object_details(FLAG, {}, context("c1"))
    evidence.exposure(details, context("c1")).record()
    evidence.outcome("resolved", details, context("c1"))
    events = delivered(evidence, memory)
    after = time.time()

    assert len(events) == 2
    for event in events:
        text = event["timestamp"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        assert parsed.utcoffset() == timedelta(0)
        assert before - 0.001 <= parsed.timestamp() <= after  # the time it was recorded


# -- route fields: the variation that ran --------------------------------------------------


def test_route_fields_come_from_the_assigned_variation_when_it_ran(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context(CANDIDATE_UNIT))
    assert details.variant == "candidate"
    with evidence.exposure(details, context(CANDIDATE_UNIT)):
        pass
    (event,) = delivered(evidence, memory)
    assert (event["modelRoute"], event["promptVersion"], event["retrievalProfile"]) == (
        "model_b", "v4", "wide",
    )  # fmt: skip
    assert (event["variation"], event["assignedVariation"]) == ("candidate", "candidate")
    assert (event["fallbackUsed"], event["fallbackReason"]) == (False, None)


def test_fallback_route_comes_from_the_bound_providers_variation(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context(CANDIDATE_UNIT))
    with evidence.exposure(details, context(CANDIDATE_UNIT)) as exposure:
        exposure.fallback("fallback", reason="timeout")
    (event,) = delivered(evidence, memory)
    assert (event["modelRoute"], event["promptVersion"], event["retrievalProfile"]) == (
        "model_small", "v3", "safe",
    )  # fmt: skip
    assert (event["variation"], event["assignedVariation"]) == ("fallback", "candidate")
    assert (event["fallbackUsed"], event["fallbackReason"]) == (True, "timeout")


def test_fallback_route_comes_from_the_value_given(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": CANDIDATE_UNIT})
    route = {"modelRoute": "local_llm", "promptVersion": "v1", "retrievalProfile": "none"}
    with evidence.exposure(resolution) as exposure:
        exposure.fallback("offline", reason="outage", value=route)
    (event,) = delivered(evidence, memory)
    assert (event["modelRoute"], event["promptVersion"], event["retrievalProfile"]) == (
        "local_llm", "v1", "none",
    )  # fmt: skip
    assert (event["variation"], event["assignedVariation"]) == ("offline", "candidate")


def test_fallback_without_value_or_provider_does_not_claim_the_assigned_route(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": CANDIDATE_UNIT})
    with evidence.exposure(resolution) as exposure:
        exposure.fallback("fallback", reason="timeout")
    (event,) = delivered(evidence, memory)
    assert (event["modelRoute"], event["promptVersion"], event["retrievalProfile"]) == (
        None, None, None,
    )  # fmt: skip


def test_route_fields_are_those_when_the_exposure_was_sent(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    details = client.get_object_details(FLAG, {}, context(CANDIDATE_UNIT))
    evidence.exposure(details, context(CANDIDATE_UNIT)).record()
    details.value["modelRoute"] = "changed_after_sending"  # type: ignore[index]
    (event,) = delivered(evidence, memory)
    assert event["modelRoute"] == "model_b"


# -- join keys: the resolution's flag metadata ---------------------------------------------


@pytest.fixture(params=["openfeature", "direct"])
def evaluation(
    request: pytest.FixtureRequest, flag_file: Path, evidence: Evidence
) -> tuple[Any, Any, dict[str, Any]]:
    """(details, context, flag metadata) from the OpenFeature client or ``load_flags``."""
    attributes = {"conversationId": "conv-7"}
    if request.param == "openfeature":
        provider = ModelFlagsProvider(flag_file, evidence=evidence, poll_interval=0)
        api.set_provider_and_wait(provider)
        ctx = EvaluationContext(attributes=attributes)
        details = api.get_client().get_object_details(FLAG, {}, ctx)
        return details, ctx, dict(details.flag_metadata)
    resolution = load_flags(flag_file).evaluate(FLAG, attributes)
    return resolution, attributes, dict(resolution.metadata)


def test_exposure_join_keys_are_the_flag_metadata(
    evaluation: tuple[Any, Any, dict[str, Any]], evidence: Evidence, memory: MemoryTracker
) -> None:
    details, ctx, metadata = evaluation
    evidence.exposure(details, ctx).record()
    (event,) = delivered(evidence, memory)
    assert metadata["unitId"] == "conv-7"
    assert {key: event[key] for key in JOIN_KEYS} == {key: metadata[key] for key in JOIN_KEYS}
    assert (event["flagKey"], event["variation"]) == (FLAG, details.variant)
    assert (event["reason"], event["rule"], event["inExperiment"]) == ("SPLIT", "split", True)


def test_outcome_join_keys_are_the_flag_metadata(
    evaluation: tuple[Any, Any, dict[str, Any]], evidence: Evidence, memory: MemoryTracker
) -> None:
    details, ctx, metadata = evaluation
    evidence.outcome("resolved", details, ctx, value=1)
    (event,) = delivered(evidence, memory)
    assert {key: event[key] for key in JOIN_KEYS} == {key: metadata[key] for key in JOIN_KEYS}
    assert (event["flagKey"], event["variation"]) == (FLAG, details.variant)


def test_rfc3339_is_the_time_truncated_to_the_millisecond_whatever_came_before() -> None:
    """The last millisecond and second formatted are reused: consecutive, repeated, earlier
    and later times, across second boundaries, must each still give their own text."""
    draw = random.Random(20261130)
    base = 1_795_000_000.0
    times = [base + draw.uniform(0.0, 3.0) for _ in range(2000)]
    times += [base + 0.9995, base + 0.9995, base + 1.0, base + 0.001, base - 86_400.5]
    times += sorted(times[:500])  # runs within one millisecond, as a busy thread sees them
    for moment in times:
        expected = datetime.fromtimestamp(int(moment * 1000) / 1000, tz=timezone.utc)
        assert rfc3339(moment) == expected.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_rfc3339_from_two_threads_never_mixes_their_times() -> None:
    base = 1_795_000_000.0
    seen: list[tuple[float, str]] = []

    def format_many(offset: float) -> None:
        moments = [base + offset + i * 0.0004 for i in range(20_000)]
        seen.extend([(moment, rfc3339(moment)) for moment in moments])

    threads = [threading.Thread(target=format_many, args=(offset,)) for offset in (0.0, 7.3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 40_000
    for moment, text in seen:
        expected = datetime.fromtimestamp(int(moment * 1000) / 1000, tz=timezone.utc)
        assert text == expected.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
