"""``chat_with_route``: the client's own return value, and beside it the route that answered
(assigned and served variation, the fallback and why), the same facts the exposure records."""

from __future__ import annotations

import asyncio
import dataclasses
from types import SimpleNamespace
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI
from openai.types.chat import ChatCompletion
from openai_cases import (
    DEFAULT_ROUTE,
    FLAG,
    MESSAGES,
    AsyncRouterFactory,
    AsyncSpy,
    Recorded,
    RouterFactory,
    Spy,
    context,
)

from modelflags.integrations.openai import ServedRoute


def as_exposure(served: ServedRoute) -> dict[str, Any]:
    """The exposure keys a ServedRoute stands for, read from it."""
    return {
        "flagKey": served.flag_key, "assignedVariation": served.assigned_variation,
        "variation": served.served_variation, "modelRoute": served.model_route,
        "fallbackUsed": served.fallback_used, "fallbackReason": served.fallback_reason,
        "reason": served.reason,
    }  # fmt: skip


def recorded_as(event: dict[str, Any]) -> dict[str, Any]:
    """The same keys, read from the recorded exposure."""
    keys = ("flagKey", "assignedVariation", "variation", "modelRoute", "fallbackUsed",
            "fallbackReason", "reason")  # fmt: skip
    return {key: event[key] for key in keys}


@pytest.mark.parametrize("arm", ["control", "candidate"])
def test_the_served_route_is_the_assigned_variation_when_it_answers(
    make_router: RouterFactory, units: dict[str, str], arm: str
) -> None:
    _, served = make_router().chat_with_route(context(units[arm]), messages=MESSAGES)
    model = {"control": "model_a", "candidate": "model_b"}[arm]
    assert (served.assigned_variation, served.served_variation) == (arm, arm)
    assert (served.model_route, served.fallback_used, served.fallback_reason) == (
        model, False, None,
    )  # fmt: skip


def test_the_completion_beside_the_route_is_the_clients_own_return_value(
    make_router: RouterFactory, spy: Spy, units: dict[str, str]
) -> None:
    completion, _ = make_router().chat_with_route(context(units["control"]), messages=MESSAGES)
    assert type(completion) is ChatCompletion and completion is spy.returned[-1]


def test_the_served_route_says_the_fallback_answered_and_why(
    make_router: RouterFactory, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_b", "rate_limited")
    completion, served = make_router().chat_with_route(
        context(units["candidate"]), messages=MESSAGES
    )
    assert completion.model == served.model_route == "model_small"
    assert (served.assigned_variation, served.served_variation) == ("candidate", "fallback")
    assert (served.fallback_used, served.fallback_reason) == (True, "rate_limited")
    assert dict(served.route) == {"modelRoute": "model_small", "promptVersion": "v3"}


@pytest.mark.parametrize(
    "case",
    [
        ("candidate", {}, None, FLAG),
        ("candidate", {}, "server_error", FLAG),
        ("control", {"channel": "broken"}, None, FLAG),
        ("control", {}, None, "no_such_flag"),
    ],
    ids=["served", "fell-back", "invalid-route", "failed-evaluation"],
)
def test_the_served_route_says_what_the_exposure_records(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
    case: tuple[str, dict[str, str], str | None, str],
) -> None:
    arm, attributes, failure, flag_key = case
    if failure is not None:
        server.set_mode("model_b", failure)
    router = make_router(flag_key=flag_key)
    _, served = router.chat_with_route(context(units[arm], **attributes), messages=MESSAGES)
    (event,) = recorded()
    assert as_exposure(served) == recorded_as(event)


def test_a_failed_evaluation_is_served_the_default_route_with_no_variation(
    make_router: RouterFactory,
) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("provider bug")

    broken = SimpleNamespace(get_object_details=explode)  # no real client raises here
    _, served = make_router(flags=broken).chat_with_route("u1", messages=MESSAGES)
    assert (served.assigned_variation, served.served_variation, served.reason) == (
        None, None, "ERROR",
    )  # fmt: skip
    assert dict(served.route) == DEFAULT_ROUTE


def test_a_streams_route_is_known_when_the_stream_is_returned(
    make_router: RouterFactory, spy: Spy, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_b", "server_error")
    stream, served = make_router().chat_with_route(
        context(units["candidate"]), messages=MESSAGES, stream=True
    )
    assert type(stream) is openai.Stream and stream is spy.returned[-1]
    assert (served.served_variation, served.fallback_reason) == ("fallback", "server_error")
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == f"answer from {served.model_route}"


def test_a_failing_call_raises_as_chat_does(
    make_router: RouterFactory, spy: Spy, server: FakeOpenAI, units: dict[str, str]
) -> None:
    server.set_mode("model_a", "bad_request")
    with pytest.raises(openai.BadRequestError) as raised:
        make_router().chat_with_route(context(units["control"]), messages=MESSAGES)
    assert raised.value is spy.raised[-1]


def test_the_served_route_cannot_be_changed(
    make_router: RouterFactory, units: dict[str, str]
) -> None:
    _, served = make_router().chat_with_route(context(units["control"]), messages=MESSAGES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        served.served_variation = "candidate"  # type: ignore[misc]
    with pytest.raises(TypeError):
        served.route["modelRoute"] = "model_b"  # type: ignore[index]
    assert hash(served) == hash(dataclasses.replace(served))


def test_the_async_router_returns_the_served_route_beside_its_own_return_value(
    make_async_router: AsyncRouterFactory,
    async_client: openai.AsyncOpenAI,
    server: FakeOpenAI,
    units: dict[str, str],
) -> None:
    spy = AsyncSpy(async_client)
    server.set_mode("model_b", "timeout")
    router = make_async_router()

    async def main() -> tuple[Any, ServedRoute]:
        try:
            return await router.chat_with_route(context(units["candidate"]), messages=MESSAGES)
        finally:
            await router.client.close()

    completion, served = asyncio.run(main())
    assert completion is spy.returned[-1]
    assert (served.flag_key, served.assigned_variation, served.served_variation) == (
        FLAG, "candidate", "fallback",
    )  # fmt: skip
    assert (served.fallback_reason, served.model_route) == ("timeout", completion.model)
