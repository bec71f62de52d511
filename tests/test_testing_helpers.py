"""modelflags.testing: flags from inline YAML or a dict, and forced arms, used the way an
application's own tests use them (through the real OpenFeature client)."""

from __future__ import annotations

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

from modelflags import FlagFileError, FlagSet, ModelFlagsError, ModelFlagsProvider
from modelflags.testing import flags_from_yaml, force, provider_from_yaml

FLAGS_YAML = """\
version: 1
flags:
  answer_model_route:
    default: control
    variations:
      control: {modelRoute: model_a}
      candidate: {modelRoute: model_b}
    assignment: {unit: conversation, key: conversationId}
    rules:
      - name: internal
        when: {email: {$regex: "@example\\\\.com$"}}
        serve: control
    split: {control: 50, candidate: 50}
  streaming:
    default: off
    variations: {on: true, off: false}
"""
# The same flags twice: as YAML text and as the dict an application might build.
SIMPLE_YAML = """\
version: 1
flags:
  answer_model_route:
    default: control
    variations:
      control: {modelRoute: model_a}
      candidate: {modelRoute: model_b}
    assignment: {unit: conversation, key: conversationId}
    split: {control: 50, candidate: 50}
  streaming:
    default: off
    variations: {on: true, off: false}
"""
FLAGS_DICT = {
    "version": 1,
    "flags": {
        "answer_model_route": {
            "default": "control",
            "variations": {
                "control": {"modelRoute": "model_a"},
                "candidate": {"modelRoute": "model_b"},
            },
            "assignment": {"unit": "conversation", "key": "conversationId"},
            "split": {"control": 50, "candidate": 50},
        },
        "streaming": {"default": "off", "variations": {"on": True, "off": False}},
    },
}
ROUTE = "answer_model_route"
DEFAULT = {"modelRoute": "caller_default"}
CONTEXTS = [
    EvaluationContext(attributes={"conversationId": f"conv-{i}", "email": f"u{i}@example.com"})
    if i % 10 == 0
    else EvaluationContext(attributes={"conversationId": f"conv-{i}"})
    for i in range(200)
]


def serve(provider: ModelFlagsProvider) -> OpenFeatureClient:
    api.set_provider_and_wait(provider)
    return api.get_client()


def variants(client: OpenFeatureClient) -> list[str | None]:
    return [client.get_object_details(ROUTE, DEFAULT, ctx).variant for ctx in CONTEXTS]


def test_provider_from_yaml_text_serves_through_the_client() -> None:
    client = serve(provider_from_yaml(FLAGS_YAML))
    assert client.get_provider_status() == ProviderStatus.READY
    details = client.get_object_details(ROUTE, DEFAULT, CONTEXTS[1])
    assert details.error_code is None
    assert details.reason == Reason.SPLIT
    assert details.value in ({"modelRoute": "model_a"}, {"modelRoute": "model_b"})
    assert client.get_boolean_value("streaming", True, EvaluationContext("u1")) is False


def test_provider_from_a_dict_serves_what_the_equivalent_yaml_serves() -> None:
    from_text = variants(serve(provider_from_yaml(SIMPLE_YAML)))
    api.shutdown()
    client = serve(provider_from_yaml(FLAGS_DICT))
    assert variants(client) == from_text
    assert set(from_text) == {"control", "candidate"}
    streaming = client.get_boolean_details("streaming", True, EvaluationContext("u1"))
    assert (streaming.value, streaming.variant) == (False, "off")


def test_force_serves_the_variation_to_everyone_inside_the_block() -> None:
    provider = provider_from_yaml(FLAGS_YAML)
    client = serve(provider)
    with force(provider, ROUTE, "candidate"):
        inside = [client.get_object_details(ROUTE, DEFAULT, ctx) for ctx in CONTEXTS]
    assert {d.variant for d in inside} == {"candidate"}
    assert {d.reason for d in inside} == {Reason.STATIC}
    assert all(d.value == {"modelRoute": "model_b"} for d in inside)
    assert all(d.error_code is None for d in inside)


def test_force_overrides_a_matching_rule_and_keeps_the_flag_metadata() -> None:
    provider = provider_from_yaml(FLAGS_YAML)
    client = serve(provider)
    internal = EvaluationContext(attributes={"conversationId": "c1", "email": "a@example.com"})
    before = client.get_object_details(ROUTE, DEFAULT, internal)
    with force(provider, ROUTE, "candidate"):
        inside = client.get_object_details(ROUTE, DEFAULT, internal)
    assert (before.variant, before.flag_metadata["rule"]) == ("control", "internal")
    assert (inside.variant, inside.flag_metadata["rule"]) == ("candidate", "default")
    assert {**inside.flag_metadata, "rule": "internal"} == before.flag_metadata


def test_force_restores_the_served_flags_after_the_block() -> None:
    provider = provider_from_yaml(FLAGS_YAML)
    client = serve(provider)
    before = variants(client)
    with force(provider, ROUTE, "candidate"):
        pass
    assert variants(client) == before
    assert set(before) == {"control", "candidate"}


def test_force_restores_the_served_flags_when_the_block_raises() -> None:
    provider = provider_from_yaml(FLAGS_YAML)
    client = serve(provider)
    before = variants(client)
    with pytest.raises(RuntimeError), force(provider, ROUTE, "candidate"):
        raise RuntimeError("the code under test failed")
    assert variants(client) == before


def test_force_leaves_other_flags_alone() -> None:
    provider = provider_from_yaml(FLAGS_YAML)
    client = serve(provider)
    with force(provider, "streaming", "on"):
        assert client.get_boolean_value("streaming", False, EvaluationContext("u1")) is True
        forced_route = variants(client)
    api.shutdown()
    assert forced_route == variants(serve(provider_from_yaml(FLAGS_YAML)))


def test_force_on_a_flagset_yields_a_forced_copy() -> None:
    flags = flags_from_yaml(FLAGS_YAML)
    with force(flags, ROUTE, "candidate") as forced:
        assert isinstance(forced, FlagSet)
        assert forced is not flags
        results = [forced.evaluate(ROUTE, dict(ctx.attributes)) for ctx in CONTEXTS]
    assert {(r.variant, r.reason) for r in results} == {("candidate", Reason.STATIC)}


def test_force_on_a_flagset_leaves_the_original_alone() -> None:
    flags = flags_from_yaml(FLAGS_YAML)
    before = [flags.evaluate(ROUTE, dict(ctx.attributes)).variant for ctx in CONTEXTS]
    with force(flags, ROUTE, "candidate"):
        during = [flags.evaluate(ROUTE, dict(ctx.attributes)).variant for ctx in CONTEXTS]
    assert during == before
    assert set(before) == {"control", "candidate"}


def test_force_of_an_unknown_flag_suggests_the_closest_name() -> None:
    provider = provider_from_yaml(FLAGS_YAML)
    serve(provider)
    with (
        pytest.raises(
            ModelFlagsError, match=r"'answer_model_rout'.*did you mean 'answer_model_route'"
        ),
        force(provider, "answer_model_rout", "candidate"),
    ):
        pass


def test_force_of_an_unknown_variation_suggests_the_closest_name() -> None:
    flags = flags_from_yaml(FLAGS_YAML)
    with (
        pytest.raises(ModelFlagsError, match=r"'candidat'.*did you mean 'candidate'"),
        force(flags, ROUTE, "candidat"),
    ):
        pass


def test_force_before_initialization_is_an_error() -> None:
    with (
        pytest.raises(ModelFlagsError, match="initialize"),
        force(provider_from_yaml(FLAGS_YAML), ROUTE, "candidate"),
    ):
        pass


def test_flags_from_yaml_evaluates_directly() -> None:
    flags = flags_from_yaml(FLAGS_YAML)
    result = flags.evaluate(ROUTE, {"conversationId": "conv-1", "email": "a@example.com"})
    assert (result.variant, result.reason, result.rule) == (
        "control",
        Reason.TARGETING_MATCH,
        "internal",
    )
    assert result.value == {"modelRoute": "model_a"}
    assert result.error_code is None


def test_flags_from_a_dict_evaluates_directly() -> None:
    result = flags_from_yaml(FLAGS_DICT).evaluate(ROUTE, {"conversationId": "conv-1"})
    assert result.reason == Reason.SPLIT
    assert result.variant in {"control", "candidate"}


def test_invalid_inline_yaml_names_the_inline_line_and_column() -> None:
    with pytest.raises(FlagFileError) as caught:
        flags_from_yaml("version: 1\nflags:\n  f:\n    default: a\n    variations: {b: 1}\n")
    assert "<inline>:4:14: [unknown-variation]" in str(caught.value)


def test_invalid_inline_yaml_syntax_names_the_inline_line() -> None:
    with pytest.raises(FlagFileError) as caught:
        provider_from_yaml("version: 1\nflags: [unclosed\n").initialize(EvaluationContext())
    assert str(caught.value).startswith("<inline>:")
    assert caught.value.issues[0].line > 0
