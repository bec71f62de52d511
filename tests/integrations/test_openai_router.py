"""``ModelRouter``: one call routes by the flag, calls the real ``openai`` client against a local
fake server, falls back when asked, and records one exposure with tokens, cost and errors,
without changing what the client returns or raises."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fake_openai import FakeOpenAI
from openai.types.chat import ChatCompletion
from openai_cases import (
    DEFAULT_ROUTE,
    FLAG,
    MESSAGES,
    Recorded,
    RouterFactory,
    Spy,
    context,
    only_exposure,
)
from openfeature.evaluation_context import EvaluationContext

from modelflags import Evidence
from modelflags.schema.prices import PriceTable

LOGGER = "modelflags.integrations.openai"


# -- routing -------------------------------------------------------------------------------


def test_the_completion_is_the_clients_own_return_value(
    make_router: RouterFactory, spy: Spy, units: dict[str, str]
) -> None:
    completion = make_router().chat(context(units["control"]), messages=MESSAGES)
    assert type(completion) is ChatCompletion
    assert completion is spy.returned[-1]


@pytest.mark.parametrize("arm", ["control", "candidate"])
def test_the_flag_chooses_the_model_for_the_unit(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str], arm: str
) -> None:
    completion = make_router().chat(context(units[arm]), messages=MESSAGES)
    expected = {"control": "model_a", "candidate": "model_b"}[arm]
    assert server.requests[-1].body["model"] == expected
    assert completion.choices[0].message.content == f"answer from {expected}"


def test_route_fields_become_the_request_parameters_they_are_mapped_to(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    router = make_router(request_fields={"temperature": "temperature", "promptVersion": "user"})
    router.chat(context(units["candidate"]), messages=MESSAGES)
    body = server.requests[-1].body
    assert (body["temperature"], body["user"]) == (0.7, "v4")


def test_a_route_field_wins_over_the_callers_keyword_for_the_same_parameter(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    router = make_router(request_fields={"temperature": "temperature"})
    router.chat(context(units["control"]), messages=MESSAGES, temperature=1.5)
    assert server.requests[-1].body["temperature"] == 0.2


def test_a_route_without_the_field_leaves_the_callers_keyword(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    router = make_router(request_fields={"maxTokens": "max_tokens"})
    router.chat(context(units["control"]), messages=MESSAGES, max_tokens=7)
    assert server.requests[-1].body["max_tokens"] == 7


def test_route_fields_are_not_sent_unless_mapped(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    make_router().chat(context(units["control"]), messages=MESSAGES)
    assert set(server.requests[-1].body) == {"model", "messages"}


def test_passing_model_is_a_type_error_before_any_call(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    with pytest.raises(TypeError, match="model="):
        make_router().chat(context(units["control"]), messages=MESSAGES, model="gpt-x")
    assert server.requests == []


@pytest.mark.parametrize(
    "as_given",
    [
        lambda unit: EvaluationContext(attributes={"conversationId": unit}),
        lambda unit: {"conversationId": unit},
    ],
    ids=["evaluation-context", "mapping"],
)
def test_the_unit_can_be_given_as_a_context_or_its_attributes(
    make_router: RouterFactory,
    recorded: Recorded,
    units: dict[str, str],
    as_given: Any,
) -> None:
    make_router().chat(as_given(units["candidate"]), messages=MESSAGES)
    event = only_exposure(recorded)
    assert (event["unitId"], event["variation"]) == (units["candidate"], "candidate")


def test_a_targeting_key_given_as_text_is_the_unit(
    make_router: RouterFactory, recorded: Recorded
) -> None:
    make_router(flag_key="no_such_flag").chat("user-9", messages=MESSAGES)
    assert only_exposure(recorded)["unitId"] == "user-9"


def test_an_unknown_flag_serves_the_default_route_and_records_the_failed_evaluation(
    make_router: RouterFactory, server: FakeOpenAI, recorded: Recorded
) -> None:
    make_router(flag_key="no_such_flag").chat(context("conv-1"), messages=MESSAGES)
    event = only_exposure(recorded)
    assert server.requests[-1].body["model"] == DEFAULT_ROUTE["modelRoute"]
    assert (event["reason"], event["variation"], event["inExperiment"]) == ("ERROR", None, False)


def test_an_evaluation_that_raises_serves_the_default_route_instead_of_raising(
    make_router: RouterFactory, recorded: Recorded
) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("provider bug")

    broken = SimpleNamespace(get_object_details=explode)  # no real client raises here
    completion = make_router(flags=broken).chat("u1", messages=MESSAGES)
    assert completion.choices[0].message.content == "answer from model_a"
    assert only_exposure(recorded)["reason"] == "ERROR"


def test_a_served_route_without_a_model_runs_the_default_route_recorded_as_a_fallback(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, LOGGER):
        make_router().chat(context("conv-1", channel="broken"), messages=MESSAGES)
    event = only_exposure(recorded)
    assert server.requests[-1].body["model"] == DEFAULT_ROUTE["modelRoute"]
    assert (event["assignedVariation"], event["fallbackReason"]) == ("broken", "invalid_route")
    assert event["modelRoute"] == DEFAULT_ROUTE["modelRoute"]
    assert "without a text 'modelRoute'" in caplog.text


# -- what is recorded ----------------------------------------------------------------------


def test_one_exposure_carries_the_evaluations_join_keys(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    make_router().chat(context(units["candidate"]), messages=MESSAGES)
    event = only_exposure(recorded)
    assert (event["flagKey"], event["experimentKey"], event["unitId"]) == (
        FLAG, "route-test", units["candidate"],
    )  # fmt: skip
    assert (event["variation"], event["inExperiment"], event["modelRoute"]) == (
        "candidate", True, "model_b",
    )  # fmt: skip


def test_tokens_are_recorded_from_the_completions_usage(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    completion = make_router().chat(context(units["control"]), messages=MESSAGES)
    event = only_exposure(recorded)
    assert completion.usage is not None
    assert (event["promptTokens"], event["completionTokens"]) == (
        completion.usage.prompt_tokens, completion.usage.completion_tokens,
    )  # fmt: skip
    assert event["timeToFirstTokenMs"] is None  # not a stream


def test_the_cost_is_the_usage_priced_per_million_tokens(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    completion = make_router().chat(context(units["candidate"]), messages=MESSAGES)
    event = only_exposure(recorded)
    assert completion.usage is not None
    expected = completion.usage.prompt_tokens * 0.15 + completion.usage.completion_tokens * 0.6
    assert event["estimatedCost"] == pytest.approx(expected / 1e6, rel=1e-12)


def test_a_route_without_a_price_is_recorded_with_a_null_cost_and_warned_once(
    make_router: RouterFactory,
    recorded: Recorded,
    units: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router(prices=PriceTable("USD", {}, "prices.yaml"))
    with caplog.at_level(logging.WARNING, LOGGER):
        for _ in range(3):
            router.chat(context(units["control"]), messages=MESSAGES)
    events = recorded()
    assert [event["estimatedCost"] for event in events] == [None, None, None]
    assert all(event["promptTokens"] is not None for event in events)
    warnings = [r for r in caplog.records if "no price" in r.getMessage()]
    assert len(warnings) == 1 and "'model_a'" in warnings[0].getMessage()


def test_without_a_price_table_the_cost_is_null_and_nothing_is_warned(
    make_router: RouterFactory,
    recorded: Recorded,
    units: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, LOGGER):
        make_router(prices=None).chat(context(units["control"]), messages=MESSAGES)
    assert only_exposure(recorded)["estimatedCost"] is None
    assert caplog.records == []


def test_an_answer_without_usage_is_recorded_with_null_tokens_and_cost(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_a", "no_usage")
    make_router().chat(context(units["control"]), messages=MESSAGES)
    event = only_exposure(recorded)
    assert (event["promptTokens"], event["completionTokens"], event["estimatedCost"]) == (
        None, None, None,
    )  # fmt: skip


def test_a_price_table_can_be_given_as_a_path(make_router: RouterFactory, tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("version: 1\ncurrency: EUR\nprices:\n  m: {input_per_million: 1, "
                    "output_per_million: 2}\n")  # fmt: skip
    prices = make_router(prices=path).prices
    assert prices is not None and (prices.currency, prices.file) == ("EUR", str(path))


def test_latency_is_the_calls_duration_in_milliseconds(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_a", "slow")  # answers after 0.3 s
    make_router().chat(context(units["control"]), messages=MESSAGES)
    assert 300 <= only_exposure(recorded)["latencyMs"] < 3000


# -- recording never gets in the way -------------------------------------------------------


def test_a_closed_evidence_does_not_stop_the_call(
    make_router: RouterFactory, evidence: Evidence, units: dict[str, str]
) -> None:
    router = make_router()
    evidence.close()
    completion = router.chat(context(units["control"]), messages=MESSAGES)
    assert completion.choices[0].message.content == "answer from model_a"


@pytest.mark.parametrize(
    "settings",
    [
        {"default_route": {"promptVersion": "v3"}},
        {"request_fields": {"modelRoute": "model"}},
        {"request_fields": {"promptVersion": "messages"}},
        {"fallback_on": ("timeout", "teapot")},
    ],
    ids=["default-without-model", "maps-model-route", "maps-to-messages", "unknown-reason"],
)
def test_bad_router_settings_are_refused_when_the_router_is_made(
    make_router: RouterFactory, settings: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        make_router(**settings)


def test_a_unit_of_another_type_is_a_type_error_before_any_call(
    make_router: RouterFactory, server: FakeOpenAI
) -> None:
    with pytest.raises(TypeError, match="targeting key, not int"):
        make_router().chat(42, messages=MESSAGES)  # type: ignore[arg-type]
    assert server.requests == []
