"""``ModelRouter`` fallbacks: a timeout, a 429, a 5xx or a lost connection calls the flag's
fallback variation once, when asked; any other error, and a fallback that fails too, is recorded
and re-raised as the client raised it."""

from __future__ import annotations

import logging
import socket

import openai
import pytest
from fake_openai import FakeOpenAI
from openai_cases import MESSAGES, Recorded, RouterFactory, Spy, context, only_exposure

from modelflags.integrations.openai import failure_reason
from modelflags.schema.prices import PriceTable

LOGGER = "modelflags.integrations.openai"


@pytest.mark.parametrize("mode", ["timeout", "rate_limited", "server_error"])
def test_a_retryable_failure_falls_back_to_the_named_variation(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
    mode: str,
) -> None:
    reason = mode  # the fake server's mode names are the fallback reasons
    server.set_mode("model_b", mode)
    completion = make_router().chat(context(units["candidate"]), messages=MESSAGES)
    event = only_exposure(recorded)
    assert completion.choices[0].message.content == "answer from model_small"
    assert [request.body["model"] for request in server.requests] == ["model_b", "model_small"]
    assert (event["assignedVariation"], event["variation"], event["fallbackUsed"]) == (
        "candidate", "fallback", True,
    )  # fmt: skip
    assert (event["fallbackReason"], event["modelRoute"], event["error"]) == (
        reason, "model_small", False,
    )  # fmt: skip


def test_a_fallback_is_priced_at_the_route_that_answered(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    prices: PriceTable,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "rate_limited")
    completion = make_router().chat(context(units["candidate"]), messages=MESSAGES)
    assert completion.usage is not None
    expected = prices.cost(
        "model_small", completion.usage.prompt_tokens, completion.usage.completion_tokens
    )
    assert only_exposure(recorded)["estimatedCost"] == expected


def test_a_fallbacks_latency_includes_the_failed_attempt(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "timeout")  # the client gives up after 0.5 s
    make_router().chat(context(units["candidate"]), messages=MESSAGES)
    assert only_exposure(recorded)["latencyMs"] >= 500


def test_without_a_fallback_a_retryable_failure_is_recorded_and_re_raised_unchanged(
    make_router: RouterFactory,
    spy: Spy,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "rate_limited")
    with pytest.raises(openai.RateLimitError) as raised:
        make_router(fallback=None).chat(context(units["candidate"]), messages=MESSAGES)
    assert raised.value is spy.raised[-1]
    event = only_exposure(recorded)
    assert (event["error"], event["errorType"], event["fallbackUsed"]) == (
        True, "RateLimitError", False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [("bad_request", openai.BadRequestError), ("unauthorized", openai.AuthenticationError)],
    ids=["400", "401"],
)
def test_a_non_retryable_error_is_recorded_and_re_raised_unchanged_without_fallback(
    make_router: RouterFactory,
    spy: Spy,
    recorded: Recorded,
    units: dict[str, str],
    case: tuple[str, type[Exception]],
) -> None:
    mode, error = case
    with pytest.raises(error) as raised:  # the server answers this request with the error
        make_router().chat(context(units["candidate"]), messages=MESSAGES,
                           extra_headers={"x-fake-mode": mode})  # fmt: skip
    assert raised.value is spy.raised[-1]
    assert (len(spy.raised), spy.returned) == (1, [])  # no fallback for the request's fault
    event = only_exposure(recorded)
    assert (event["errorType"], event["fallbackUsed"], event["estimatedCost"]) == (
        error.__name__, False, None,
    )  # fmt: skip


def test_a_failing_fallback_is_recorded_and_its_error_re_raised_unchanged(
    make_router: RouterFactory,
    spy: Spy,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "rate_limited")
    server.set_mode("model_small", "server_error")
    with pytest.raises(openai.InternalServerError) as raised:
        make_router().chat(context(units["candidate"]), messages=MESSAGES)
    first, second = spy.raised
    assert type(first) is openai.RateLimitError
    assert raised.value is second
    event = only_exposure(recorded)
    assert (event["variation"], event["fallbackReason"], event["errorType"]) == (
        "fallback", "rate_limited", "InternalServerError",
    )  # fmt: skip


def test_the_fallback_variation_failing_is_not_retried_on_itself(
    make_router: RouterFactory, server: FakeOpenAI, recorded: Recorded
) -> None:
    server.set_mode("model_small", "server_error")
    with pytest.raises(openai.InternalServerError):
        make_router().chat(context("conv-1", accountId="acct_blocked"), messages=MESSAGES)
    assert [request.body["model"] for request in server.requests] == ["model_small"]
    event = only_exposure(recorded)
    assert (event["variation"], event["fallbackUsed"], event["error"]) == ("fallback", False, True)


def test_fallback_on_limits_the_failures_that_fall_back(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_b", "rate_limited")
    with pytest.raises(openai.RateLimitError):
        make_router(fallback_on=("timeout",)).chat(context(units["candidate"]), messages=MESSAGES)
    assert len(server.requests) == 1


def test_a_fallback_variation_the_flag_lacks_re_raises_and_warns(
    make_router: RouterFactory,
    server: FakeOpenAI,
    units: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.set_mode("model_b", "server_error")
    with caplog.at_level(logging.WARNING, LOGGER), pytest.raises(openai.InternalServerError):
        make_router(fallback="safe").chat(context(units["candidate"]), messages=MESSAGES)
    assert len(server.requests) == 1
    assert "no variation 'safe'" in caplog.text


def test_a_lost_connection_is_a_connection_error_failure() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="test", max_retries=0)
    with pytest.raises(openai.APIConnectionError) as raised:
        dead.chat.completions.create(model="m", messages=[])
    assert failure_reason(raised.value) == "connection_error"
