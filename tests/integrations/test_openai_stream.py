"""Streamed completions through ``ModelRouter``: the client's own ``Stream`` comes back, the
application iterates the same chunks, and the exposure (time to first token, total latency,
usage, cost, errors) is recorded once, when the stream ends however it ends."""

from __future__ import annotations

import gc
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI
from openai_cases import MESSAGES, Recorded, RouterFactory, Spy, context

from modelflags.schema.prices import PriceTable


def visible(chunk: Any) -> dict[str, Any]:
    """What an application reads of a chunk (ids and timestamps differ per request)."""
    return chunk.model_dump(exclude={"id", "created"})


def test_a_stream_is_the_clients_own_stream_object(
    make_router: RouterFactory, spy: Spy, units: dict[str, str]
) -> None:
    stream = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    assert type(stream) is openai.Stream
    assert stream is spy.returned[-1]
    stream.close()


def test_the_application_iterates_the_chunks_the_bare_client_gives(
    make_router: RouterFactory, client: openai.OpenAI, units: dict[str, str]
) -> None:
    routed = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    bare = client.chat.completions.create(model="model_a", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    assert [visible(chunk) for chunk in routed] == [visible(chunk) for chunk in bare]


def test_the_router_asks_for_usage_and_keeps_that_chunk_from_the_application(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    chunks = list(make_router().chat(context(units["control"]), messages=MESSAGES, stream=True))
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}
    assert all(chunk.choices for chunk in chunks)


def test_stream_options_the_caller_sets_are_sent_as_given_and_its_usage_chunk_shown(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    options = {"include_usage": True}
    chunks = list(make_router().chat(context(units["control"]), messages=MESSAGES, stream=True,
                                     stream_options=options))  # fmt: skip
    assert server.requests[-1].body["stream_options"] == options
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_stream_usage_false_asks_for_no_usage_and_records_null_tokens(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    router = make_router(stream_usage=False)
    list(router.chat(context(units["control"]), messages=MESSAGES, stream=True))
    (event,) = recorded()
    assert "stream_options" not in server.requests[-1].body
    assert (event["promptTokens"], event["estimatedCost"]) == (None, None)


def test_a_stream_is_recorded_when_it_ends_not_when_it_is_returned(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    stream = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    assert recorded() == []
    list(stream)
    assert len(recorded()) == 1


def test_a_finished_stream_records_its_usage_and_cost(
    make_router: RouterFactory,
    client: openai.OpenAI,
    recorded: Recorded,
    prices: PriceTable,
    units: dict[str, str],
) -> None:
    list(make_router().chat(context(units["candidate"]), messages=MESSAGES, stream=True))
    (event,) = recorded()
    usage = client.chat.completions.create(model="model_b", messages=MESSAGES).usage  # type: ignore[arg-type]
    assert usage is not None
    assert (event["promptTokens"], event["completionTokens"]) == (
        usage.prompt_tokens, usage.completion_tokens,
    )  # fmt: skip
    assert event["estimatedCost"] == prices.cost("model_b", usage.prompt_tokens,
                                                 usage.completion_tokens)  # fmt: skip
    assert (event["error"], event["attributes"]) == (False, {})


def test_time_to_first_token_comes_before_the_end_of_the_stream(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_a", "slow_chunks")  # chunks 50 ms apart, 6 of them after the first
    list(make_router().chat(context(units["control"]), messages=MESSAGES, stream=True))
    (event,) = recorded()
    assert event["timeToFirstTokenMs"] > 0
    assert event["latencyMs"] - event["timeToFirstTokenMs"] >= 150  # 3+ chunks later


def test_a_stream_closed_early_is_recorded_as_incomplete(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    stream = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    (event,) = recorded()
    assert event["attributes"] == {"streamIncomplete": True}
    assert (event["error"], event["promptTokens"]) == (False, None)


def test_a_stream_left_by_a_with_block_after_its_first_chunk_is_recorded_as_incomplete(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    with make_router().chat(context(units["control"]), messages=MESSAGES, stream=True) as stream:
        for _ in stream:
            break
    (event,) = recorded()
    assert event["attributes"] == {"streamIncomplete": True}


def test_a_stream_dropped_unread_is_still_recorded(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    stream = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    stream.response.close()
    del stream
    gc.collect()
    (event,) = recorded()
    assert event["attributes"] == {"streamIncomplete": True}


def test_an_error_in_the_middle_of_a_stream_is_recorded_and_re_raised(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_a", "stream_error")
    stream = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    seen = []
    with pytest.raises(openai.APIError, match="the model stopped"):
        for chunk in stream:
            seen.append(chunk)
    assert len(seen) == 2  # the role chunk and one word arrived before the error
    (event,) = recorded()
    assert (event["error"], event["errorType"], event["fallbackUsed"]) == (True, "APIError", False)


def test_a_stream_falls_back_when_the_first_route_fails_before_answering(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "rate_limited")
    stream = make_router().chat(context(units["candidate"]), messages=MESSAGES, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    (event,) = recorded()
    assert text == "answer from model_small"
    assert (event["variation"], event["fallbackReason"], event["modelRoute"]) == (
        "fallback", "rate_limited", "model_small",
    )  # fmt: skip
    assert event["timeToFirstTokenMs"] is not None and event["promptTokens"] is not None


def test_closing_the_measured_chunks_early_closes_the_clients_response(
    make_router: RouterFactory,
    client: openai.OpenAI,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    create = client.chat.completions.create
    held: list[Any] = []

    def holding_the_chunks(**kwargs: Any) -> Any:
        stream = create(**kwargs)
        held.append(stream._iterator)  # held here too: only an explicit close can end it now
        return stream

    client.chat.completions.create = holding_the_chunks  # type: ignore[method-assign]
    server.set_mode("model_a", "slow_chunks")  # the response is still open after one chunk
    stream = make_router().chat(context(units["control"]), messages=MESSAGES, stream=True)
    chunks = stream._iterator  # the measured generator the router put inside the stream
    next(chunks)
    chunks.close()  # what a generator's finaliser does to a stream dropped mid-way
    assert stream.response.is_closed
    (event,) = recorded()
    assert event["attributes"] == {"streamIncomplete": True}
