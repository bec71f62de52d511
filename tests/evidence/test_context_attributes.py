"""``Evidence(context_attributes=[...])``: an allow-list of evaluation-context attributes copied
into each exposure's ``attributes`` for segment readouts; nothing by default; the values are
those when the exposure was sent; keywords given to ``record()`` win."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from readback import only_exposure

from modelflags import Evidence, MemoryTracker, load_flags

FLAG = "answer_route"


def paid_chat(**extra: Any) -> EvaluationContext:
    attributes = {"conversationId": "c1", "plan": "pro", "channel": "chat",
                  "email": "ann@corp.test", **extra}  # fmt: skip
    return EvaluationContext(attributes=attributes)


@pytest.fixture
def segmented(memory: MemoryTracker) -> Iterator[Evidence]:
    evidence = Evidence(memory, flush_interval=0.01, context_attributes=["plan", "channel"])
    yield evidence
    evidence.close()


def test_no_context_attribute_is_copied_by_default(
    client: OpenFeatureClient, evidence: Evidence, memory: MemoryTracker
) -> None:
    ctx = paid_chat()
    evidence.exposure(client.get_object_details(FLAG, {}, ctx), ctx).record()
    assert evidence.context_attributes == ()
    assert only_exposure(evidence, memory)["attributes"] == {}


def test_only_the_allowed_attributes_are_copied(
    client: OpenFeatureClient, segmented: Evidence, memory: MemoryTracker
) -> None:
    ctx = paid_chat()
    segmented.exposure(client.get_object_details(FLAG, {}, ctx), ctx).record()
    assert only_exposure(segmented, memory)["attributes"] == {"plan": "pro", "channel": "chat"}


def test_an_allowed_attribute_the_context_lacks_is_left_out(
    client: OpenFeatureClient, segmented: Evidence, memory: MemoryTracker
) -> None:
    ctx = EvaluationContext(attributes={"conversationId": "c1", "plan": "pro"})
    segmented.exposure(client.get_object_details(FLAG, {}, ctx), ctx).record()
    assert only_exposure(segmented, memory)["attributes"] == {"plan": "pro"}


def test_the_values_are_those_when_the_exposure_was_sent(
    client: OpenFeatureClient, segmented: Evidence, memory: MemoryTracker
) -> None:
    ctx = paid_chat(channel=["chat", "web"])
    with segmented.exposure(client.get_object_details(FLAG, {}, ctx), ctx):
        pass
    ctx.attributes["plan"] = "free"  # type: ignore[index]
    ctx.attributes["channel"].append("email")  # type: ignore[union-attr]
    event = only_exposure(segmented, memory)
    assert event["attributes"] == {"plan": "pro", "channel": ["chat", "web"]}


def test_keywords_given_to_record_win_over_the_context(
    client: OpenFeatureClient, segmented: Evidence, memory: MemoryTracker
) -> None:
    ctx = paid_chat()
    segmented.exposure(client.get_object_details(FLAG, {}, ctx), ctx).record(
        plan="pro-trial", tokens=12
    )
    event = only_exposure(segmented, memory)
    assert event["attributes"] == {"plan": "pro-trial", "channel": "chat", "tokens": 12}


def test_a_plain_mapping_context_is_read_too(
    flag_file: Path, segmented: Evidence, memory: MemoryTracker
) -> None:
    attributes = {"conversationId": "c1", "plan": "enterprise", "channel": "voice"}
    segmented.exposure(load_flags(flag_file).evaluate(FLAG, attributes), attributes).record()
    event = only_exposure(segmented, memory)
    assert event["attributes"] == {"plan": "enterprise", "channel": "voice"}


def test_an_exposure_without_a_context_has_no_context_attributes(
    flag_file: Path, segmented: Evidence, memory: MemoryTracker
) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": "c1", "plan": "pro"})
    segmented.exposure(resolution).record()
    assert only_exposure(segmented, memory)["attributes"] == {}


def test_context_attributes_given_as_one_string_are_refused() -> None:
    with pytest.raises(ValueError, match="list of names"):
        Evidence("memory:", context_attributes="plan")
