"""Encoding events: one serializer call per batch when it can, one event repaired (never its
batch) when it cannot; what comes out is always valid JSON lines, one per event."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from modelflags import Evidence, JsonlTracker, MemoryTracker, read_events
from modelflags.evidence.codec import Batch, encode, encode_lines


def events(count: int) -> list[dict[str, Any]]:
    return [{"event": "o", "eventId": f"id-{i}", "seq": i, "attributes": {}} for i in range(count)]


def self_referencing() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


BAD_VALUES = {
    "lone surrogate": "caf\udce9",
    "lone surrogate key": {"\ud800": 1},
    "self-referencing dict": self_referencing(),
    "bytes that are not UTF-8": b"\xff\xfe",
    "str() that raises": Unprintable(),
    "nesting 5000 deep": nested(5000),
    "tuple key": {(1, "a"): 2},
}


def parsed(batch: Batch) -> list[dict[str, Any]]:
    lines = batch.data.split(b"\n")
    assert lines[-1] == b""
    return [json.loads(line) for line in lines[:-1]]


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_one_bad_value_in_a_batch_of_512_is_repaired_alone(kind: str) -> None:
    batch = events(512)
    batch[300]["attributes"]["bad"] = BAD_VALUES[kind]
    encoded, repaired, dropped = Batch.encode(batch)
    assert (len(encoded), dropped) == (512, 0)
    assert repaired <= 1
    assert [event["seq"] for event in parsed(encoded)] == list(range(512))


def test_a_lone_surrogate_is_written_backslash_escaped() -> None:
    line = encode({"event": "o", "text": "caf\udce9"})
    assert line is not None
    assert json.loads(line)["text"] == "caf\\udce9"


def test_a_value_containing_itself_is_written_as_text() -> None:
    line = encode({"event": "o", "value": self_referencing()})
    assert line is not None
    assert json.loads(line)["value"] == {"name": "loop", "self": "<dict that contains itself>"}


def test_nan_and_infinity_are_null_without_a_repair() -> None:
    encoded, repaired, _ = Batch.encode([{"event": "o", "a": math.nan, "b": -math.inf}])
    assert parsed(encoded) == [{"event": "o", "a": None, "b": None}]
    assert repaired == 0


def test_objects_json_cannot_hold_are_their_text_without_a_repair() -> None:
    encoded, repaired, _ = Batch.encode([{"event": "o", "path": Path("/a/b"), "set": {1}}])
    assert parsed(encoded) == [{"event": "o", "path": "/a/b", "set": [1]}]
    assert repaired == 0


def test_a_nested_list_of_event_like_objects_does_not_cut_a_line() -> None:
    tricky = {"event": "o", "items": [{"event": 1}, {"event": 2}], "text": '},{"event":'}
    encoded, _, _ = Batch.encode([tricky, *events(3)])
    assert parsed(encoded)[0] == tricky
    assert len(parsed(encoded)) == 4


def test_events_not_starting_with_their_name_are_encoded_one_by_one() -> None:
    odd = [{"seq": 1, "event": "o", "items": [{"event": 1}, {"event": 2}]}, {"event": "o"}]
    encoded, _, _ = Batch.encode(odd)
    assert parsed(encoded) == odd


def test_repaired_events_are_what_trackers_see() -> None:
    batch = events(2)
    batch[1]["attributes"]["text"] = "\udce9"
    encoded, repaired, _ = Batch.encode(batch)
    assert repaired == 1
    assert list(encoded)[1]["attributes"]["text"] == "\\udce9"


def test_halves_and_rest_keep_lines_and_events_together() -> None:
    encoded, _, _ = Batch.encode(events(5))
    first, second = encoded.halves()
    assert ([e["seq"] for e in first], [e["seq"] for e in second]) == ([0, 1], [2, 3, 4])
    assert first.data + second.data == encoded.data
    assert [e["seq"] for e in encoded.rest(3)] == [3, 4]
    assert Batch.of_lines(encoded.lines()[1:]).events() == events(5)[1:]


def test_encode_lines_of_plain_events_and_of_a_batch_agree() -> None:
    encoded, _, _ = Batch.encode(events(3))
    assert encode_lines(events(3)) == encode_lines(encoded) == encoded.data


# -- through Evidence ----------------------------------------------------------------------


def test_one_unencodable_attribute_loses_nothing_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    evidence = Evidence(JsonlTracker(path), batch_size=512, flush_interval=3600)
    for i in range(512):
        extra = {"bad": self_referencing(), "text": "\udce9"} if i == 100 else {}
        evidence.outcome("o", "f", None, seq=i, attributes=extra)
    assert evidence.flush(timeout=10)
    evidence.close()
    written = list(read_events([path]))
    assert sorted(event["metrics"]["seq"] for event in written) == list(range(512))
    assert written[100]["attributes"]["text"] == "\\udce9"
    assert (evidence.counters["repaired"], evidence.counters["failed"]) == (1, 0)


def test_a_repair_is_logged_once_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    evidence = Evidence(MemoryTracker(), flush_interval=0.01)
    for i in range(20):
        evidence.outcome("o", "f", None, seq=i, attributes={"text": "\udce9"})
        evidence.flush(timeout=5)
    evidence.close()
    repairs = [entry for entry in caplog.records if "repaired" in entry.getMessage()]
    assert [(entry.name, entry.levelname) for entry in repairs] == [
        ("modelflags.evidence", "WARNING")
    ]
    assert evidence.counters["repaired"] == 20
