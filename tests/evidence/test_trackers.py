"""The small trackers (structlog, stdout, memory), choosing a tracker from a URL, and the
OpenTelemetry naming of an exposure."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from modelflags import (
    Evidence,
    JsonlTracker,
    MemoryTracker,
    ModelFlagsError,
    Resolution,
    StdoutTracker,
    StructlogTracker,
    otel_attributes,
    tracker_from_url,
)
from modelflags.evidence.http_tracker import HttpTracker
from modelflags.evidence.tracker import TrackerUnavailable

ROUTE = {"modelRoute": "model_b", "promptVersion": "v4", "retrievalProfile": "wide"}
METADATA: dict[str, Any] = {
    "experimentKey": "route-test",
    "assignmentUnit": "conversation",
    "configVersion": "8e7ca6075789",
}


def resolution(unit: str = "conv-1") -> Resolution:
    return Resolution("answer_route", dict(ROUTE), "candidate", "SPLIT", "split", unit, METADATA)


def an_exposure(**fallback: Any) -> dict[str, Any]:
    """One exposure event as Evidence builds it (with a fallback when one is given)."""
    memory = MemoryTracker()
    evidence = Evidence(memory)
    with evidence.exposure(resolution()) as exposure:
        if fallback:
            exposure.fallback(**fallback)
    evidence.close()
    (event,) = memory.events
    return event


# -- StructlogTracker ----------------------------------------------------------------------


def test_structlog_tracker_logs_each_event_with_its_fields() -> None:
    evidence = Evidence(StructlogTracker())
    with capture_logs() as logs:
        evidence.exposure(resolution()).record(latency_ms=12.0)
        evidence.outcome("resolved", resolution(), resolved=True)
        evidence.close()
    exposure, outcome = logs
    assert exposure["event"] == "modelflags.exposure"
    assert exposure["log_level"] == "info"
    assert (exposure["eventName"], exposure["flagKey"], exposure["unitId"]) == (
        "exposure", "answer_route", "conv-1",
    )  # fmt: skip
    assert (exposure["variation"], exposure["modelRoute"], exposure["latencyMs"]) == (
        "candidate", "model_b", 12.0,
    )  # fmt: skip
    assert (outcome["event"], outcome["metrics"]) == ("modelflags.resolved", {"resolved": True})


# -- StdoutTracker -------------------------------------------------------------------------


def test_stdout_tracker_writes_json_lines_to_its_stream() -> None:
    stream = io.BytesIO()
    tracker = StdoutTracker(stream)
    tracker.emit([{"event": "exposure", "eventId": "a"}, {"event": "o", "eventId": "b"}])
    tracker.close()
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["eventId"] for line in lines] == ["a", "b"]


def test_stdout_tracker_writes_to_standard_output_by_default(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    tracker = StdoutTracker()
    tracker.emit([{"event": "exposure", "eventId": "a"}])
    tracker.flush()
    assert json.loads(capsysbinary.readouterr().out) == {"event": "exposure", "eventId": "a"}


def test_stdout_tracker_on_a_closed_stream_is_unavailable() -> None:
    stream = io.BytesIO()
    stream.close()
    with pytest.raises(TrackerUnavailable):
        StdoutTracker(stream).emit([{"event": "exposure", "eventId": "a"}])


# -- MemoryTracker -------------------------------------------------------------------------


def test_memory_tracker_of_selects_events_by_kind() -> None:
    tracker = MemoryTracker()
    tracker.emit([
        {"event": "exposure", "eventId": "a"},
        {"event": "resolved", "eventId": "b"},
        {"event": "exposure", "eventId": "c"},
    ])  # fmt: skip
    assert [event["eventId"] for event in tracker.of("exposure")] == ["a", "c"]
    assert [event["eventId"] for event in tracker.of("resolved")] == ["b"]
    assert tracker.of("escalated") == []


def test_memory_tracker_records_that_it_was_closed() -> None:
    tracker = MemoryTracker()
    tracker.close()
    assert tracker.closed


# -- tracker_from_url ----------------------------------------------------------------------


def test_jsonl_url_with_an_absolute_path(tmp_path: Path) -> None:
    tracker = tracker_from_url(f"jsonl://{tmp_path}/events/e.jsonl")
    assert isinstance(tracker, JsonlTracker)
    assert tracker.path == tmp_path / "events" / "e.jsonl"


def test_jsonl_url_with_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    tracker = tracker_from_url("jsonl:events/e.jsonl")
    assert isinstance(tracker, JsonlTracker)
    assert tracker.path == Path("events/e.jsonl")
    tracker.emit([{"event": "o", "eventId": "a"}])
    tracker.close()
    assert (tmp_path / "events" / "e.jsonl").is_file()


def test_jsonl_url_path_is_percent_decoded(tmp_path: Path) -> None:
    tracker = tracker_from_url(f"jsonl://{tmp_path}/my%20events.jsonl")
    assert isinstance(tracker, JsonlTracker)
    assert tracker.path == tmp_path / "my events.jsonl"


def test_jsonl_url_without_a_path_is_an_error() -> None:
    with pytest.raises(ModelFlagsError, match="needs a path"):
        tracker_from_url("jsonl:")


@pytest.mark.parametrize(
    ("url", "kind"),
    [("stdout:", StdoutTracker), ("structlog:", StructlogTracker), ("memory:", MemoryTracker)],
)
def test_scheme_only_urls_name_their_tracker(url: str, kind: type) -> None:
    assert isinstance(tracker_from_url(url), kind)


def test_url_scheme_is_case_and_space_insensitive() -> None:
    assert isinstance(tracker_from_url("  MEMORY: "), MemoryTracker)


def test_https_url_gives_an_http_tracker() -> None:
    tracker = tracker_from_url("https://collector.invalid/v1/events")
    try:
        assert isinstance(tracker, HttpTracker)
    finally:
        tracker.close()


def test_an_invalid_collector_url_is_an_error_without_its_credentials() -> None:
    with pytest.raises(ModelFlagsError, match="invalid collector URL") as caught:
        tracker_from_url("https://user:s3cret@collector.test:notaport/events")
    assert "s3cret" not in str(caught.value)


def test_unknown_scheme_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ModelFlagsError, match=r"unknown tracker URL.*jsonl:///path.*memory:"):
        tracker_from_url("kafka://broker/topic")


def test_evidence_accepts_a_tracker_url() -> None:
    evidence = Evidence("memory:")
    assert isinstance(evidence.tracker, MemoryTracker)
    evidence.close()


# -- OpenTelemetry -------------------------------------------------------------------------


def test_otel_attributes_name_the_flag_unit_experiment_and_version() -> None:
    attributes = otel_attributes(an_exposure())
    assert attributes == {
        "feature_flag.provider.name": "modelflags",
        "feature_flag.key": "answer_route",
        "feature_flag.result.variant": "candidate",
        "feature_flag.context.id": "conv-1",
        "feature_flag.set.id": "route-test",
        "feature_flag.version": "8e7ca6075789",
        "feature_flag.result.reason": "split",
    }


def test_otel_variant_is_the_variation_that_ran() -> None:
    event = an_exposure(variation="fallback", reason="timeout", value={"modelRoute": "small"})
    assert otel_attributes(event)["feature_flag.result.variant"] == "fallback"


def test_otel_attributes_leave_out_absent_fields() -> None:
    attributes = otel_attributes({"event": "exposure", "flagKey": "f", "variation": None})
    assert attributes == {"feature_flag.provider.name": "modelflags", "feature_flag.key": "f"}
