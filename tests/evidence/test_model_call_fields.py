"""The model call's own exposure fields: ``promptTokens``, ``completionTokens`` and
``timeToFirstTokenMs``, null unless recorded, whole counts only, kept through a JSONL file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from readback import only_exposure

from modelflags import Evidence, JsonlTracker, MemoryTracker, Resolution, load_flags
from modelflags.evidence import read_events

FLAG = "answer_route"


@pytest.fixture
def resolution(flag_file: Path) -> Resolution:
    return load_flags(flag_file).evaluate(FLAG, {"conversationId": "c1"})


def test_tokens_given_to_record_are_top_level_fields(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(prompt_tokens=412, completion_tokens=96)
    event = only_exposure(evidence, memory)
    assert (event["promptTokens"], event["completionTokens"]) == (412, 96)
    assert event["attributes"] == {}


def test_the_model_call_fields_are_null_unless_recorded(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(latency_ms=5, tokens=412)  # an extra, not a field
    event = only_exposure(evidence, memory)
    assert (event["promptTokens"], event["completionTokens"], event["timeToFirstTokenMs"]) == (
        None, None, None,
    )  # fmt: skip
    assert event["attributes"] == {"tokens": 412}


def test_time_to_first_token_is_written_in_milliseconds(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(latency_ms=900.0, time_to_first_token_ms=120.5)
    event = only_exposure(evidence, memory)
    assert (event["timeToFirstTokenMs"], event["latencyMs"]) == (120.5, 900.0)


def test_zero_tokens_are_recorded_as_zero_not_null(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(prompt_tokens=0, completion_tokens=0)
    event = only_exposure(evidence, memory)
    assert (event["promptTokens"], event["completionTokens"]) == (0, 0)


@pytest.mark.parametrize("bad", [-1, 1.5, "12", True, float("nan")])
def test_a_token_count_that_is_not_a_whole_number_of_zero_or_more_is_left_null(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution, bad: Any
) -> None:
    evidence.exposure(resolution).record(prompt_tokens=bad, completion_tokens=7)
    event = only_exposure(evidence, memory)
    assert (event["promptTokens"], event["completionTokens"]) == (None, 7)


def test_fields_recorded_in_two_steps_inside_a_block_are_merged(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution) as exposure:
        exposure.record(time_to_first_token_ms=40.0)
        exposure.record(prompt_tokens=10, completion_tokens=20)
    event = only_exposure(evidence, memory)
    assert (event["timeToFirstTokenMs"], event["promptTokens"], event["completionTokens"]) == (
        40.0, 10, 20,
    )  # fmt: skip


@pytest.mark.parametrize("field", ["promptTokens", "completionTokens", "timeToFirstTokenMs"])
def test_a_route_field_cannot_take_a_model_call_fields_name(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Evidence(MemoryTracker(), route_fields=("modelRoute", field))


def test_the_model_call_fields_survive_a_jsonl_file(tmp_path: Path, resolution: Resolution) -> None:
    path = tmp_path / "events.jsonl"
    evidence = Evidence(JsonlTracker(path), flush_interval=0.01)
    evidence.exposure(resolution).record(
        prompt_tokens=3, completion_tokens=4, time_to_first_token_ms=2.5
    )
    evidence.close()
    (event,) = read_events([path])
    assert (event["promptTokens"], event["completionTokens"], event["timeToFirstTokenMs"]) == (
        3, 4, 2.5,
    )  # fmt: skip
