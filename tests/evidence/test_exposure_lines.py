"""Exposures written straight from their values (``exposure_lines``) give exactly the bytes
and the dict the usual way gives: the dict an exposure always had, encoded (and repaired)
by the codec. Random exposures cover text with any code point (lone surrogates included),
NaN and infinities, numbers that are equal but written differently, nested and odd values,
privacy hashing and the copied context attributes."""

from __future__ import annotations

import gc
import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from pydantic_core import to_json

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider
from modelflags.evidence.codec import Batch, encode, fallback_text
from modelflags.evidence.events import ROUTE_FIELDS, exposure_keys, in_experiment
from modelflags.evidence.exposure_lines import CACHE_SIZE, ExposureLines
from modelflags.evidence.privacy import Privacy

FLAG = "answer_route"
KEY = "k" * 32
TIMESTAMP = 1_795_000_000.125

# -- the dict an exposure always had (the format's reference, written out longhand) -------


def reference_event(
    details: Any, context: Any, arguments: dict[str, Any], route_fields: tuple[str, ...]
) -> dict[str, Any]:
    metadata = details.flag_metadata
    unit = metadata.get("unitId")
    if unit is None and context is not None:
        unit = context.get("targetingKey")
    unit = None if unit is None else str(unit)
    reason = None if details.reason is None else str(details.reason)
    fallback = arguments["fallback"]
    route = arguments["route"]
    prompt, completion, first_token = arguments["tokens"] or (None, None, None)
    event: dict[str, Any] = {
        "event": "exposure",
        "eventId": "<id>",
        "timestamp": "<time>",
        "flagKey": details.flag_key,
        "experimentKey": metadata.get("experimentKey"),
        "assignmentUnit": metadata.get("assignmentUnit"),
        "unitId": unit,
        "variation": details.variant if fallback is None else fallback,
        "assignedVariation": details.variant,
        "reason": reason,
        "rule": metadata.get("rule"),
        "inExperiment": reason == "SPLIT"
        and metadata.get("rule") == "split"
        and details.error_code is None,
        "configVersion": metadata.get("configVersion"),
        "fallbackUsed": fallback is not None,
        "fallbackReason": arguments["fallback_reason"],
    }
    for field in route_fields:
        event[field] = None if route is None else route.get(field)
    event |= {
        "latencyMs": arguments["latency"],
        "timeToFirstTokenMs": first_token,
        "estimatedCost": arguments["cost"],
        "promptTokens": prompt,
        "completionTokens": completion,
        "error": arguments["error"],
        "errorType": arguments["error_type"],
        "attributes": dict(arguments["attributes"]) if arguments["attributes"] else {},
    }
    privacy = arguments["privacy"]
    return privacy.apply(event) if privacy is not None else event


Written = tuple[bytes | dict[str, Any], dict[str, Any]]


def written(lines: ExposureLines, details: Any, context: Any, arguments: dict[str, Any]) -> Written:
    """What ``lines.line`` gives for an exposure (its line, or its dict when a value needs a
    repair), with the exposure's dict written out longhand (:func:`reference_event`) under
    the same event id and timestamp."""
    lines.privacy = arguments["privacy"]
    line = lines.line(lines.pending(
        details, context, TIMESTAMP, arguments["fallback"], arguments["fallback_reason"],
        arguments["route"], arguments["latency"], arguments["cost"], arguments["tokens"],
        arguments["error"], arguments["error_type"], arguments["attributes"],
    ), "0123456789ab-2a")  # fmt: skip
    head = line if isinstance(line, dict) else json.loads(line)
    event = reference_event(details, context, arguments, lines.route_fields)
    event["eventId"], event["timestamp"] = head["eventId"], head["timestamp"]
    return line, event


def line_of(lines: ExposureLines, details: Any, arguments: dict[str, Any]) -> bytes:
    line, _ = written(lines, details, None, arguments)
    assert isinstance(line, bytes)
    return line


def same_encoding(line: bytes | dict[str, Any], event: dict[str, Any]) -> None:
    """The line written, and its batch, are those of the exposure's dict encoded the usual
    way."""
    if isinstance(line, bytes):
        assert line == to_json(event, inf_nan_mode="null", fallback=fallback_text)
    own, own_repaired, own_dropped = Batch.encode([line])
    usual, usual_repaired, usual_dropped = Batch.encode([event])
    assert own.data == usual.data
    assert (own_repaired, own_dropped) == (usual_repaired, usual_dropped)
    assert own.events() == usual.events()
    if not own_repaired and not own_dropped:
        assert own.data == encode(event) + b"\n"  # type: ignore[operator]


# -- random exposures ---------------------------------------------------------------------


class Odd:
    """A value JSON cannot hold: written as its str()."""

    def __str__(self) -> str:
        return 'odd, "quoted" \\ value'


text = st.text(st.characters(codec=None, categories=None), max_size=12)  # lone surrogates too
plain = st.text(max_size=8)
numbers = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 0.0, -0.0, 1.0, True, False, 2**63, 1e-7, 1e20])
)
atoms = st.none() | st.booleans() | numbers | text
values = st.recursive(
    atoms | st.builds(Odd) | st.binary(max_size=4) | st.builds(Path, plain),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(plain, inner, max_size=3)
        | st.tuples(inner, inner)
        | st.frozensets(st.integers(0, 3), max_size=2)
    ),
    max_leaves=6,
)
maybe_text = st.none() | text
metadata_values = st.none() | st.booleans() | numbers | text | st.sampled_from(["split", "SPLIT"])


@st.composite
def exposures(draw: st.DrawFn) -> tuple[Any, Any, dict[str, Any]]:
    metadata = {
        name: draw(metadata_values)
        for name in ("experimentKey", "assignmentUnit", "rule", "configVersion")
        if draw(st.booleans())
    }
    if draw(st.booleans()):
        metadata["unitId"] = draw(text | st.integers())
    details = SimpleNamespace(
        flag_key=draw(st.sampled_from(["route", "caf\u00e9 \u2603", 'a"b\\c\n']) | text),
        variant=draw(st.none() | st.sampled_from(["control", "candidate"]) | text),
        reason=draw(st.none() | st.sampled_from(["SPLIT", "RULE", "DEFAULT"]) | text),
        error_code=draw(st.none() | st.just("FLAG_NOT_FOUND")),
        flag_metadata=metadata,
    )
    context = draw(st.none() | st.fixed_dictionaries({"targetingKey": text}))
    route = draw(
        st.none() | st.dictionaries(st.sampled_from((*ROUTE_FIELDS, "other")), values, max_size=4)
    )
    tokens = draw(
        st.none()
        | st.tuples(st.none() | st.integers(0, 10**6), st.none() | st.integers(0, 10**6),
                    st.none() | numbers)
    )  # fmt: skip
    privacy = draw(st.sampled_from(["none", "keep", "hash-ids", "drop", "hash"]))
    arguments = {
        "fallback": draw(st.none() | st.sampled_from(["fallback"]) | text),
        "fallback_reason": draw(maybe_text),
        "route": route,
        "latency": draw(st.none() | numbers),
        "cost": draw(st.none() | numbers),
        "tokens": tokens,
        "error": draw(st.booleans()),
        "error_type": draw(maybe_text),
        # the record() keywords merged over the copied context attributes
        "attributes": draw(st.none() | st.dictionaries(text, values, max_size=4)),
        "privacy": {
            "none": None,
            "keep": None,
            "hash-ids": Privacy(hash_unit_ids=True, _key=KEY.encode()),
            "drop": Privacy(attributes="drop"),
            "hash": Privacy(hash_unit_ids=True, attributes="hash", _key=KEY.encode()),
        }[privacy],
    }
    return details, context, arguments


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(exposures(), st.sampled_from([ROUTE_FIELDS, (), ("modelRoute", "other")]))
def test_an_exposure_is_written_as_its_dict_would_be_the_usual_way(
    exposure: tuple[Any, Any, dict[str, Any]], route_fields: tuple[str, ...]
) -> None:
    details, context, arguments = exposure
    lines = ExposureLines(route_fields)
    line, event = written(lines, details, context, arguments)
    assert list(event) == list(exposure_keys(route_fields))
    if isinstance(line, dict):  # a value to repair: the dict itself, for the codec
        assert line == event  # (the same NaN objects: identity makes them equal)
        assert list(line) == list(event)
    same_encoding(line, event)  # a line: byte for byte the dict's
    same_encoding(*written(lines, details, context, arguments))  # now from the cached form


# -- the cache of forms -------------------------------------------------------------------


def details_with(config_version: Any) -> SimpleNamespace:
    return SimpleNamespace(
        flag_key="route", variant="control", reason="SPLIT", error_code=None,
        flag_metadata={"rule": "split", "configVersion": config_version, "unitId": "u1"},
    )  # fmt: skip


ARGUMENTS: dict[str, Any] = {
    "fallback": None, "fallback_reason": None, "route": {"modelRoute": "m"}, "latency": 1.5,
    "cost": None, "tokens": None, "error": False, "error_type": None, "attributes": None,
    "privacy": None,
}  # fmt: skip


def test_equal_values_written_differently_never_share_a_form() -> None:
    lines = ExposureLines(ROUTE_FIELDS)
    found = [
        line_of(lines, details_with(version), ARGUMENTS) for version in (1, True, 1.0, "1", 1, True)
    ]
    written_as = [b"1", b"true", b"1.0", b'"1"', b"1", b"true"]
    for line, value in zip(found, written_as, strict=True):
        assert b'"configVersion":' + value + b"," in line


def test_the_forms_kept_never_exceed_the_cache_size() -> None:
    lines = ExposureLines(ROUTE_FIELDS)
    for version in range(CACHE_SIZE + 10):
        line = line_of(lines, details_with(f"v{version}"), ARGUMENTS)
        assert f'"configVersion":"v{version}"'.encode() in line
    assert 0 < len(lines._forms) <= CACHE_SIZE


def test_a_value_that_cannot_be_a_key_is_written_without_a_cached_form() -> None:
    lines = ExposureLines(ROUTE_FIELDS)
    arguments = ARGUMENTS | {"route": {"modelRoute": ["a", "b"]}}
    assert b'"modelRoute":["a","b"]' in line_of(lines, details_with("v1"), arguments)
    assert not lines._forms


# -- depth: the serializer's nesting limit counts from the top of the event ----------------


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [240, 250, 251, 252, 253, 300])
@pytest.mark.parametrize("where", ["attributes", "route", "metadata"])
def test_a_deeply_nested_value_is_written_as_the_whole_event_would_be(
    depth: int, where: str
) -> None:
    details = details_with(nested(depth) if where == "metadata" else "v1")
    arguments = dict(ARGUMENTS)
    if where == "attributes":
        arguments["attributes"] = {"deep": nested(depth)}
    elif where == "route":
        arguments["route"] = {"modelRoute": nested(depth)}
    same_encoding(*written(ExposureLines(ROUTE_FIELDS), details, None, arguments))


# -- batches of lines ---------------------------------------------------------------------


def test_a_batch_of_lines_decodes_its_events_when_asked_and_keeps_them_in_halves() -> None:
    lines = ExposureLines(ROUTE_FIELDS)
    pairs = [
        written(lines, details_with("v1"), {"targetingKey": f"u{i}"}, ARGUMENTS) for i in range(5)
    ]
    batch, _, _ = Batch.encode([line for line, _ in pairs])
    first, second = batch.halves()
    assert [event["eventId"] for event in first] + [event["eventId"] for event in second] == [
        event["eventId"] for _, event in pairs
    ]
    assert batch.rest(3).events() == [event for _, event in pairs[3:]]


def test_an_exposure_with_a_lone_surrogate_is_repaired_alone_in_its_batch() -> None:
    lines = ExposureLines(ROUTE_FIELDS)
    good, good_event = written(lines, details_with("v1"), None, ARGUMENTS)
    bad, _ = written(lines, details_with("v1"), None, ARGUMENTS | {"error_type": "caf\udce9"})
    assert isinstance(good, bytes)
    assert isinstance(bad, dict)  # the serializer refused it: its dict, to be repaired
    batch, repaired, dropped = Batch.encode([good, bad, good])
    assert (repaired, dropped, len(batch)) == (1, 0, 3)
    assert batch.events()[1]["errorType"] == "caf\\udce9"
    assert batch.events()[0] == good_event


def test_a_tracker_iterating_a_batch_gets_every_event_written_even_one_python_cannot_read(
    flag_file: Path,
) -> None:
    """A batch decodes its lines for trackers that iterate it: an integer longer than
    ``int()`` reads (the serializer writes it) arrives as its text, and its event is not
    lost from the batch."""
    memory = MemoryTracker()
    evidence = Evidence(memory)
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0), domain="big")
    client = api.get_client(domain="big")
    context = EvaluationContext(attributes={"conversationId": "c1"})
    details = client.get_object_details(FLAG, {}, context)
    huge = 10**5000
    try:
        for value in (1, huge, 2):
            with evidence.exposure(details, context) as exposure:
                exposure.record(n=value)
        assert evidence.flush(timeout=10)
    finally:
        evidence.close()
        api.shutdown()
    assert evidence.counters["delivered"] == 3
    assert [event["attributes"]["n"] for event in memory.events] == [1, "1" + "0" * 5000, 2]


def test_nan_and_infinity_are_written_as_null() -> None:
    arguments = ARGUMENTS | {"latency": math.nan, "cost": math.inf}
    line = line_of(ExposureLines(ROUTE_FIELDS), details_with("v1"), arguments)
    assert b'"latencyMs":null,' in line
    assert b'"estimatedCost":null,' in line


# -- inExperiment has one owner -----------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "rule", "error_code", "expected"),
    [
        ("SPLIT", "split", None, True),
        ("SPLIT", "split", "GENERAL", False),
        ("SPLIT", "rule-1", None, False),
        ("TARGETING_MATCH", "split", None, False),
        (None, None, None, False),
    ],
)
def test_in_experiment_only_when_the_flags_own_split_chose_without_error(
    reason: Any, rule: Any, error_code: Any, expected: bool
) -> None:
    assert in_experiment(reason, rule, error_code) is expected


# -- the queue and the garbage collector --------------------------------------------------


@pytest.mark.parametrize("with_attributes", [False, True])
def test_queued_exposures_are_left_alone_by_the_garbage_collector(
    flag_file: Path, with_attributes: bool
) -> None:
    """A deep queue (an application recording faster than the tracker takes events) holds
    flat tuples of plain values only, tokens and attributes included: the first collection
    that sees them stops tracking them, so full collections do not walk the queue (they did:
    20-38% of the time at 100,000 queued; with tokens or attributes in tuples of their own,
    a quarter of the queue stayed tracked)."""
    memory = MemoryTracker()
    evidence = Evidence(
        memory, queue_size=50_000, batch_size=10**9, flush_interval=3600.0,
        context_attributes=["plan"],
    )  # fmt: skip
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0), domain="gc")
    client = api.get_client(domain="gc")
    contexts = [
        EvaluationContext(attributes={"conversationId": f"c{i}", "plan": "pro"}) for i in range(10)
    ]
    results = [(client.get_object_details(FLAG, {}, ctx), ctx) for ctx in contexts]
    extra = {"tenant": "acme"} if with_attributes else {}
    try:
        gc.collect()
        before = len(gc.get_objects())
        for i in range(20_000):
            details, ctx = results[i % 10]
            with evidence.exposure(details, ctx) as exposure:
                exposure.record(estimated_cost=0.002, prompt_tokens=10, **extra)
        gc.collect()  # one collection: a flat tuple of plain values is let go at once
        assert evidence.counters["queued"] == 20_000
        assert len(gc.get_objects()) - before < 500  # not one tracked object per exposure
    finally:
        evidence.close()
        api.shutdown()
    assert evidence.counters["delivered"] == 20_000
    event = memory.events[-1]
    assert event["attributes"] == {"plan": "pro", **extra}
    assert (event["estimatedCost"], event["promptTokens"]) == (0.002, 10)
