"""``evidence.exposure(...)``: latency, errors, when the event is sent, and odd attribute
values that must never lose the event."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from modelflags import Evidence, JsonlTracker, MemoryTracker, Resolution, load_flags

FLAG = "answer_route"


@pytest.fixture
def resolution(flag_file: Path) -> Resolution:
    return load_flags(flag_file).evaluate(FLAG, {"conversationId": "c1"})


def exposures(evidence: Evidence, memory: MemoryTracker) -> list[dict[str, Any]]:
    assert evidence.flush()
    return memory.of("exposure")


# -- latency -------------------------------------------------------------------------------


def test_latency_is_measured_across_the_block_in_milliseconds(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution):
        time.sleep(0.002)
    (event,) = exposures(evidence, memory)
    assert event["latencyMs"] > 1.0  # 2 ms slept: milliseconds, not seconds


def test_latency_given_in_the_block_is_kept(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution) as exposure:
        exposure.record(latency_ms=123.5)
        time.sleep(0.001)
    (event,) = exposures(evidence, memory)
    assert event["latencyMs"] == 123.5


def test_latency_given_without_a_block_is_kept(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(latency_ms=7)
    (event,) = exposures(evidence, memory)
    assert event["latencyMs"] == 7


def test_estimated_cost_is_recorded(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(estimated_cost=0.0042)
    (event,) = exposures(evidence, memory)
    assert event["estimatedCost"] == 0.0042


def test_a_cost_that_is_not_a_number_is_left_empty_but_the_event_is_sent(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(estimated_cost="cheap")  # type: ignore[arg-type]
    (event,) = exposures(evidence, memory)
    assert event["estimatedCost"] is None


# -- errors --------------------------------------------------------------------------------


def test_an_exception_escaping_the_block_is_re_raised(
    evidence: Evidence, resolution: Resolution
) -> None:
    with pytest.raises(TimeoutError, match="model took too long"), evidence.exposure(resolution):
        raise TimeoutError("model took too long")


def test_an_exception_escaping_the_block_is_recorded_as_an_error(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with pytest.raises(ConnectionResetError), evidence.exposure(resolution):
        raise ConnectionResetError
    (event,) = exposures(evidence, memory)
    assert (event["error"], event["errorType"]) == (True, "ConnectionResetError")
    assert event["latencyMs"] is not None


def test_a_block_without_exception_records_no_error(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution):
        pass
    (event,) = exposures(evidence, memory)
    assert (event["error"], event["errorType"]) == (False, None)


def test_recording_an_error_type_marks_the_exposure_as_an_error(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(error_type="RateLimited")
    (event,) = exposures(evidence, memory)
    assert (event["error"], event["errorType"]) == (True, "RateLimited")


# -- when the event is sent ----------------------------------------------------------------


def test_record_without_a_block_sends_at_once(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    evidence.exposure(resolution).record(latency_ms=3)
    assert len(exposures(evidence, memory)) == 1


def test_record_inside_a_block_sends_when_the_block_ends(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution) as exposure:
        exposure.record(latency_ms=3)
        assert exposures(evidence, memory) == []
    assert len(exposures(evidence, memory)) == 1


def test_an_exposure_recorded_twice_is_sent_once(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    exposure = evidence.exposure(resolution)
    exposure.record(latency_ms=3)
    exposure.record(latency_ms=4)
    (event,) = exposures(evidence, memory)
    assert event["latencyMs"] == 3  # the event is what was sent: later calls change nothing


def test_record_after_the_block_does_not_send_again(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution) as exposure:
        pass
    exposure.record(estimated_cost=1.0)
    exposure.fallback("fallback", reason="late")
    (event,) = exposures(evidence, memory)
    assert (event["estimatedCost"], event["fallbackUsed"]) == (None, False)


def test_extra_keywords_become_attributes(
    evidence: Evidence, memory: MemoryTracker, resolution: Resolution
) -> None:
    with evidence.exposure(resolution) as exposure:
        exposure.record(tokens=812, region="eu")
        exposure.record(cached=False)
    (event,) = exposures(evidence, memory)
    assert event["attributes"] == {"tokens": 812, "region": "eu", "cached": False}


# -- odd attribute values never lose the event ---------------------------------------------


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


SOME_OBJECT = object()
ODD_VALUES = [
    pytest.param(SOME_OBJECT, str(SOME_OBJECT), id="object"),
    pytest.param({"only"}, ["only"], id="set"),
    pytest.param(b"raw", "raw", id="bytes"),
    pytest.param(b"\xff\xfe", "\\xff\\xfe", id="bytes-not-utf8"),
    pytest.param(float("nan"), None, id="nan"),
    pytest.param(float("inf"), None, id="infinity"),
    pytest.param(Unprintable(), "<unprintable Unprintable>", id="str-raises"),
]


@pytest.mark.parametrize(("value", "written"), ODD_VALUES)
def test_an_odd_attribute_value_keeps_its_event_and_its_neighbours(
    tmp_path: Path, resolution: Resolution, value: object, written: object
) -> None:
    path = tmp_path / "events.jsonl"
    evidence = Evidence(JsonlTracker(path), batch_size=10_000, flush_interval=3600)
    evidence.exposure(resolution).record(seq=0)
    evidence.exposure(resolution).record(seq=1, odd=value)  # one batch with its neighbours
    evidence.exposure(resolution).record(seq=2)
    evidence.close()

    def strict(constant: str) -> float:
        raise AssertionError(f"not JSON: {constant}")

    lines = path.read_bytes().splitlines()
    events = [json.loads(line, parse_constant=strict) for line in lines]
    assert [event["attributes"]["seq"] for event in events] == [0, 1, 2]
    assert events[1]["attributes"]["odd"] == written
    assert evidence.counters["failed"] == 0


def test_nan_latency_is_written_as_null(tmp_path: Path, resolution: Resolution) -> None:
    path = tmp_path / "events.jsonl"
    evidence = Evidence(JsonlTracker(path))
    evidence.exposure(resolution).record(latency_ms=math.nan)
    evidence.close()
    (event,) = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert event["latencyMs"] is None
