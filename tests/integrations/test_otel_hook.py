"""``OtelHook``: the real OpenFeature client and provider, spans from the real OTel SDK kept by
its in-memory exporter; one ``feature_flag.evaluation`` span event per evaluation."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from modelflags.integrations.otel import OtelHook
from modelflags.testing import provider_from_yaml

FLAGS = """\
version: 1
flags:
  answer_route:
    default: control
    variations:
      control:   {modelRoute: model_a, promptVersion: v3}
      candidate: {modelRoute: model_b, promptVersion: v4}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    split: {control: 50, candidate: 50}
    experiment: {key: route-test, control: control}
  greeting:
    default: short
    variations: {short: "Hi", long: "Hello there"}
"""
"""``answer_route`` splits conversations; ``greeting`` needs no unit (no split)."""


@pytest.fixture
def spans() -> Iterator[tuple[trace.Tracer, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("tests"), exporter
    provider.shutdown()


def hooked_client(hook: OtelHook) -> OpenFeatureClient:
    client = api.get_client()
    client.add_hooks([hook])
    return client


@pytest.fixture
def client() -> OpenFeatureClient:
    api.set_provider_and_wait(provider_from_yaml(FLAGS))
    return hooked_client(OtelHook())


def conversation(unit: str) -> EvaluationContext:
    return EvaluationContext(attributes={"conversationId": unit})


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def test_an_evaluation_adds_one_feature_flag_evaluation_event_to_the_current_span(
    spans: tuple[trace.Tracer, InMemorySpanExporter], client: OpenFeatureClient
) -> None:
    tracer, exporter = spans
    with tracer.start_as_current_span("answer"):
        details = client.get_object_details("answer_route", {}, conversation("conv-7"))
    (event,) = only_span(exporter).events
    assert event.name == "feature_flag.evaluation"
    assert dict(event.attributes or {}) == {
        "feature_flag.key": "answer_route",
        "feature_flag.result.variant": details.variant,
        "feature_flag.result.reason": "split",
        "feature_flag.context.id": "conv-7",
        "feature_flag.set.id": "route-test",
        "feature_flag.version": details.flag_metadata["configVersion"],
        "feature_flag.provider.name": "modelflags",
    }


def test_each_evaluation_in_a_span_adds_its_own_event_even_with_the_same_result(
    spans: tuple[trace.Tracer, InMemorySpanExporter], client: OpenFeatureClient
) -> None:
    tracer, exporter = spans
    with tracer.start_as_current_span("answer"):
        for _ in range(3):
            client.get_object_details("answer_route", {}, conversation("conv-7"))
        client.get_object_details("answer_route", {}, conversation("conv-8"))
    units = [e.attributes["feature_flag.context.id"] for e in only_span(exporter).events]
    assert units == ["conv-7", "conv-7", "conv-7", "conv-8"]


def test_a_flag_without_a_unit_names_the_targeting_key_as_the_context_id(
    spans: tuple[trace.Tracer, InMemorySpanExporter], client: OpenFeatureClient
) -> None:
    tracer, exporter = spans
    with tracer.start_as_current_span("greet"):
        client.get_string_details("greeting", "Hey", EvaluationContext(targeting_key="user-9"))
    (event,) = only_span(exporter).events
    assert event.attributes is not None
    assert event.attributes["feature_flag.context.id"] == "user-9"
    assert event.attributes["feature_flag.result.variant"] == "short"


@pytest.mark.parametrize(
    ("flag", "context", "error_type"),
    [
        ("no_such_flag", conversation("conv-1"), "flag_not_found"),
        ("answer_route", EvaluationContext(), "targeting_key_missing"),
    ],
)
def test_a_failed_evaluation_adds_its_error_type_and_message(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
    client: OpenFeatureClient,
    flag: str,
    context: EvaluationContext,
    error_type: str,
) -> None:
    tracer, exporter = spans
    with tracer.start_as_current_span("answer"):
        details = client.get_object_details(flag, {"modelRoute": "safe"}, context)
    (event,) = only_span(exporter).events
    attributes = dict(event.attributes or {})
    assert attributes["error.type"] == error_type
    assert attributes["feature_flag.error.message"] == details.error_message
    assert attributes["feature_flag.result.reason"] == "error"
    assert "feature_flag.result.variant" not in attributes


def test_a_type_mismatch_is_reported_once_as_an_error(
    spans: tuple[trace.Tracer, InMemorySpanExporter], client: OpenFeatureClient
) -> None:
    tracer, exporter = spans
    with tracer.start_as_current_span("answer"):
        client.get_boolean_details("answer_route", False, conversation("conv-1"))
    (event,) = only_span(exporter).events
    assert event.attributes is not None
    assert event.attributes["error.type"] == "type_mismatch"


def test_the_value_is_left_out_unless_asked_for_then_written_as_json(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    api.set_provider_and_wait(provider_from_yaml(FLAGS))
    tracer, exporter = spans
    with tracer.start_as_current_span("answer"):
        hooked_client(OtelHook()).get_object_details("answer_route", {}, conversation("conv-7"))
        details = hooked_client(OtelHook(include_value=True)).get_object_details(
            "answer_route", {}, conversation("conv-7")
        )
    without, with_value = only_span(exporter).events
    assert without.attributes is not None and with_value.attributes is not None
    assert "feature_flag.result.value" not in without.attributes
    assert json.loads(str(with_value.attributes["feature_flag.result.value"])) == details.value


def test_the_provider_name_is_the_evaluating_providers_own(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    flags = {"greeting": InMemoryFlag("short", {"short": "Hi", "long": "Hello"})}
    api.set_provider_and_wait(InMemoryProvider(flags))
    tracer, exporter = spans
    with tracer.start_as_current_span("greet"):
        hooked_client(OtelHook()).get_string_details("greeting", "Hey")
    (event,) = only_span(exporter).events
    assert event.attributes is not None
    assert (
        event.attributes["feature_flag.provider.name"]
        == InMemoryProvider(flags).get_metadata().name
    )
    assert event.attributes["feature_flag.provider.name"] != "modelflags"


class WatchedSpan(trace.NonRecordingSpan):
    """A span that is not recording, and remembers whether anything was added to it."""

    def __init__(self) -> None:
        super().__init__(trace.INVALID_SPAN_CONTEXT)
        self.added: list[str] = []

    def add_event(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.added.append(name)


def test_a_span_that_is_not_recording_gets_no_event(client: OpenFeatureClient) -> None:
    span = WatchedSpan()
    with trace.use_span(span):
        details = client.get_object_details("answer_route", {}, conversation("conv-7"))
    assert details.variant in {"control", "candidate"}
    assert span.added == []


def test_a_span_sampled_out_gets_no_event_and_the_evaluation_is_untouched(
    client: OpenFeatureClient,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("tests").start_as_current_span("answer") as span:
        assert not span.is_recording()
        details = client.get_object_details("answer_route", {}, conversation("conv-7"))
    assert details.error_code is None and details.reason == "SPLIT"
    assert exporter.get_finished_spans() == ()


class BrokenSpan(trace.NonRecordingSpan):
    """A recording span whose ``add_event`` raises (a broken exporter, an SDK bug)."""

    def __init__(self) -> None:
        super().__init__(trace.INVALID_SPAN_CONTEXT)

    def is_recording(self) -> bool:
        return True

    def add_event(self, name: str, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the span is broken")


def test_a_failing_span_never_breaks_the_evaluation_and_is_logged_once(
    client: OpenFeatureClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="modelflags.integrations.otel")
    with trace.use_span(BrokenSpan()):
        results = [
            client.get_object_details("answer_route", {}, conversation(f"conv-{n}"))
            for n in range(3)
        ]
    assert all(r.error_code is None and r.reason == "SPLIT" for r in results)
    warnings = [r for r in caplog.records if r.name == "modelflags.integrations.otel"]
    assert len(warnings) == 1
    assert "the span is broken" in warnings[0].getMessage()
