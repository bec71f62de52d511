"""``Evidence(route_fields=...)``: which fields of the value that ran each exposure records, as
top-level keys; the default keeps the documented three; a clash with an event key is refused
when the evidence is made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider
from modelflags.evidence import ROUTE_FIELDS

FLAGS = """\
version: 1
flags:
  answer_route:
    default: small
    variations:
      small:    {provider: acme, model: acme-small, temperature: 0.2}
      large:    {provider: acme, model: acme-large, temperature: 0.7}
      fallback: {provider: local, model: tiny}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    split: {small: 50, large: 50}
"""
CUSTOM = ("provider", "model", "temperature")


@pytest.fixture
def custom(tmp_path: Path, memory: MemoryTracker) -> Iterator[Evidence]:
    """An evidence recording the custom route fields, bound to a provider of FLAGS."""
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    evidence = Evidence(memory, flush_interval=0.01, route_fields=CUSTOM)
    api.set_provider_and_wait(ModelFlagsProvider(path, evidence=evidence, poll_interval=0))
    yield evidence
    evidence.close()


def exposure_for(evidence: Evidence, memory: MemoryTracker, fallback: str | None = None) -> Any:
    ctx = EvaluationContext(attributes={"conversationId": "c1"})
    details = api.get_client().get_object_details("answer_route", {}, ctx)
    with evidence.exposure(details, ctx) as exposure:
        if fallback:
            exposure.fallback(fallback, reason="timeout")
    assert evidence.flush()
    (event,) = memory.of("exposure")
    return event, details


def test_the_default_route_fields_are_the_documented_three() -> None:
    evidence = Evidence("memory:")
    evidence.close()
    assert ROUTE_FIELDS == ("modelRoute", "promptVersion", "retrievalProfile")
    assert evidence.route_fields == ROUTE_FIELDS


def test_custom_route_fields_record_what_ran(custom: Evidence, memory: MemoryTracker) -> None:
    event, details = exposure_for(custom, memory)
    assert {field: event[field] for field in CUSTOM} == {
        field: details.value[field] for field in CUSTOM
    }
    assert event["model"] in {"acme-small", "acme-large"}


def test_custom_route_fields_of_a_fallback_come_from_its_variation(
    custom: Evidence, memory: MemoryTracker
) -> None:
    event, _ = exposure_for(custom, memory, fallback="fallback")
    assert (event["provider"], event["model"], event["temperature"]) == ("local", "tiny", None)


def test_custom_route_fields_replace_the_default_keys(
    custom: Evidence, memory: MemoryTracker
) -> None:
    event, _ = exposure_for(custom, memory)
    assert not {"modelRoute", "promptVersion", "retrievalProfile"} & set(event)


def test_a_value_that_is_not_an_object_leaves_every_route_field_null(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    class StringResult:
        flag_key, variant, value, reason = "label", "short", "a short label", "STATIC"
        flag_metadata: ClassVar[dict[str, Any]] = {}

    evidence.exposure(StringResult()).record()
    assert evidence.flush()
    (event,) = memory.of("exposure")
    assert {field: event[field] for field in ROUTE_FIELDS} == dict.fromkeys(ROUTE_FIELDS)


@pytest.mark.parametrize("clash", ["eventId", "variation", "attributes", "inExperiment", "rule"])
def test_a_route_field_named_like_an_event_key_is_refused(clash: str) -> None:
    with pytest.raises(ValueError, match=clash):
        Evidence("memory:", route_fields=("model", clash))


def test_route_fields_given_as_one_string_are_refused() -> None:
    with pytest.raises(ValueError, match="list of names"):
        Evidence("memory:", route_fields="model")


def test_a_route_field_that_is_not_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        Evidence("memory:", route_fields=("model", ""))
