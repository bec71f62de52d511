"""``AsyncModelRouter``: the same routing, fallback and recording for ``openai.AsyncOpenAI``,
completions and ``AsyncStream`` alike, and a cancelled call recorded, then re-raised."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI
from openai.types.chat import ChatCompletion
from openai_cases import MESSAGES, AsyncRouterFactory, AsyncSpy, Recorded, context

from modelflags.integrations.openai import AsyncModelRouter
from modelflags.schema.prices import PriceTable


def run(router: AsyncModelRouter, coroutine: Any) -> Any:
    """Run ``coroutine`` in a new event loop, then close the router's client in that loop
    (its connections belong to it)."""

    async def main() -> Any:
        try:
            return await coroutine
        finally:
            await router.client.close()

    return asyncio.run(main())


def test_an_async_completion_is_the_clients_own_return_value_and_is_recorded(
    make_async_router: AsyncRouterFactory,
    async_client: openai.AsyncOpenAI,
    recorded: Recorded,
    prices: PriceTable,
    units: dict[str, str],
) -> None:
    spy = AsyncSpy(async_client)
    router = make_async_router()
    completion = run(router, router.chat(context(units["candidate"]), messages=MESSAGES))
    assert type(completion) is ChatCompletion and completion is spy.returned[-1]
    (event,) = recorded()
    assert completion.usage is not None
    assert (event["variation"], event["promptTokens"], event["estimatedCost"]) == (
        "candidate", completion.usage.prompt_tokens,
        prices.cost("model_b", completion.usage.prompt_tokens,
                    completion.usage.completion_tokens),
    )  # fmt: skip


def test_an_async_stream_is_the_clients_own_and_is_recorded_when_it_ends(
    make_async_router: AsyncRouterFactory,
    async_client: openai.AsyncOpenAI,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    spy = AsyncSpy(async_client)
    server.set_mode("model_a", "slow_chunks")
    router = make_async_router()

    async def read() -> tuple[Any, list[Any]]:
        stream = await router.chat(context(units["control"]), messages=MESSAGES, stream=True)
        return stream, [chunk async for chunk in stream]

    stream, chunks = run(router, read())
    assert type(stream) is openai.AsyncStream and stream is spy.returned[-1]
    assert all(chunk.choices for chunk in chunks)  # the usage chunk asked for is kept back
    (event,) = recorded()
    assert event["promptTokens"] is not None
    assert event["latencyMs"] - event["timeToFirstTokenMs"] >= 150


def test_an_async_retryable_failure_falls_back(
    make_async_router: AsyncRouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "server_error")
    router = make_async_router()
    completion = run(router, router.chat(context(units["candidate"]), messages=MESSAGES))
    assert completion.choices[0].message.content == "answer from model_small"
    (event,) = recorded()
    assert (event["variation"], event["fallbackReason"]) == ("fallback", "server_error")


def test_an_async_non_retryable_error_is_recorded_and_re_raised_unchanged(
    make_async_router: AsyncRouterFactory,
    async_client: openai.AsyncOpenAI,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    spy = AsyncSpy(async_client)
    server.set_mode("model_b", "bad_request")
    with pytest.raises(openai.BadRequestError) as raised:
        router = make_async_router()
        run(router, router.chat(context(units["candidate"]), messages=MESSAGES))
    assert raised.value is spy.raised[-1]
    (event,) = recorded()
    assert (event["errorType"], event["fallbackUsed"]) == ("BadRequestError", False)


def test_an_async_stream_closed_early_is_recorded_as_incomplete(
    make_async_router: AsyncRouterFactory,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    router = make_async_router()

    async def read_one() -> None:
        stream = await router.chat(context(units["control"]), messages=MESSAGES, stream=True)
        await stream.__anext__()
        await stream.close()

    run(router, read_one())
    (event,) = recorded()
    assert event["attributes"] == {"streamIncomplete": True}


def test_closing_the_measured_async_chunks_early_closes_the_clients_response(
    make_async_router: AsyncRouterFactory,
    async_client: openai.AsyncOpenAI,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    create = async_client.chat.completions.create
    held: list[Any] = []

    async def holding_the_chunks(**kwargs: Any) -> Any:
        stream = await create(**kwargs)
        held.append(stream._iterator)  # held here too: only an explicit close can end it now
        return stream

    async_client.chat.completions.create = holding_the_chunks  # type: ignore[method-assign]
    server.set_mode("model_a", "slow_chunks")  # the response is still open after one chunk
    router = make_async_router()

    async def read_one_then_close_the_chunks() -> bool:
        stream = await router.chat(context(units["control"]), messages=MESSAGES, stream=True)
        chunks = stream._iterator  # the measured generator the router put inside the stream
        await chunks.__anext__()
        await chunks.aclose()  # what the event loop's finaliser does to a dropped stream
        return bool(stream.response.is_closed)

    assert run(router, read_one_then_close_the_chunks())
    (event,) = recorded()
    assert event["attributes"] == {"streamIncomplete": True}


def test_a_cancelled_call_is_recorded_and_the_cancellation_re_raised(
    make_async_router: AsyncRouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    server.set_mode("model_b", "slow")  # 0.3 s: cancelled after 0.05 s
    router = make_async_router()

    async def call() -> Any:
        return await asyncio.wait_for(
            router.chat(context(units["candidate"]), messages=MESSAGES), timeout=0.05
        )

    with pytest.raises(asyncio.TimeoutError):
        run(router, call())
    (event,) = recorded()
    assert (event["errorType"], event["fallbackUsed"]) == ("CancelledError", False)
