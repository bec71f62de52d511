"""``messages=`` as a callable: the route's fields (``promptVersion``, ...) shape the request.
The callable gets the route's value and returns the messages, once per attempt, so a
fallback is sent its own route's messages."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI
from openai_cases import AsyncRouterFactory, Recorded, RouterFactory, context

PROMPTS = {"v3": "Answer briefly.", "v4": "Answer briefly, and cite the help article."}


class Builder:
    """Builds the messages from the route's ``promptVersion``; keeps the routes it saw."""

    def __init__(self) -> None:
        self.routes: list[dict[str, Any]] = []

    def __call__(self, route: Mapping[str, Any]) -> list[Any]:
        self.routes.append(dict(route))
        return [
            {"role": "system", "content": PROMPTS[route["promptVersion"]]},
            {"role": "user", "content": "where is my refund"},
        ]


def sent_prompts(server: FakeOpenAI) -> list[tuple[str, str]]:
    """(model, system prompt) of every request the server received."""
    return [(r.body["model"], r.body["messages"][0]["content"]) for r in server.requests]


@pytest.mark.parametrize("arm", ["control", "candidate"])
def test_the_messages_are_built_from_the_route_that_answers(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str], arm: str
) -> None:
    make_router().chat(context(units[arm]), messages=Builder())
    expected = {"control": ("model_a", PROMPTS["v3"]), "candidate": ("model_b", PROMPTS["v4"])}
    assert sent_prompts(server) == [expected[arm]]


def test_the_builder_gets_the_whole_route_value(
    make_router: RouterFactory, units: dict[str, str]
) -> None:
    builder = Builder()
    make_router().chat(context(units["candidate"]), messages=builder)
    assert builder.routes == [{"modelRoute": "model_b", "promptVersion": "v4", "temperature": 0.7}]


def test_a_fallback_is_sent_the_messages_of_its_own_route(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_b", "server_error")
    builder = Builder()
    completion = make_router().chat(context(units["candidate"]), messages=builder)
    assert [route["promptVersion"] for route in builder.routes] == ["v4", "v3"]
    assert sent_prompts(server) == [("model_b", PROMPTS["v4"]), ("model_small", PROMPTS["v3"])]
    assert completion.choices[0].message.content == "answer from model_small"


def test_the_route_the_builder_gets_is_a_copy_it_may_change(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    def changes_it(route: dict[str, Any]) -> list[Any]:
        route["promptVersion"] = "changed"
        return [{"role": "user", "content": "hi"}]

    _, served = make_router().chat_with_route(context(units["control"]), messages=changes_it)
    (event,) = recorded()
    assert served.route["promptVersion"] == event["promptVersion"] == "v3"


def test_a_builder_that_raises_is_recorded_and_its_error_re_raised_without_a_call(
    make_router: RouterFactory, server: FakeOpenAI, recorded: Recorded, units: dict[str, str]
) -> None:
    problem = KeyError("promptVersion")

    def fails(route: dict[str, Any]) -> list[Any]:
        raise problem

    with pytest.raises(KeyError) as raised:
        make_router().chat(context(units["control"]), messages=fails)
    assert raised.value is problem
    assert server.requests == []
    (event,) = recorded()
    assert (event["errorType"], event["fallbackUsed"]) == ("KeyError", False)


def test_a_list_of_messages_is_sent_to_the_fallback_as_given(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_b", "rate_limited")
    messages = [{"role": "user", "content": "same for every route"}]
    make_router().chat(context(units["candidate"]), messages=messages)
    assert [request.body["messages"] for request in server.requests] == [messages, messages]


def test_the_async_router_builds_each_attempts_messages_from_its_route(
    make_async_router: AsyncRouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_b", "rate_limited")
    router = make_async_router()

    async def main() -> Any:
        try:
            return await router.chat(context(units["candidate"]), messages=Builder())
        finally:
            await router.client.close()

    completion = asyncio.run(main())
    assert sent_prompts(server) == [("model_b", PROMPTS["v4"]), ("model_small", PROMPTS["v3"])]
    assert isinstance(completion, openai.types.chat.ChatCompletion)
