"""The unit of a routed call can be left to OpenFeature: ``chat`` without a context evaluates
the flag on the transaction context (what a web middleware sets), the global and the client's
context, merged as the SDK merges them, and the exposure records that same merged context."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import FakeOpenAI
from openai_cases import MESSAGES, AsyncRouterFactory, Recorded, RouterFactory, context
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.transaction_context import ContextVarsTransactionContextPropagator

from modelflags import Evidence, MemoryTracker


@pytest.fixture(autouse=True)
def _isolated(openfeature_isolated: None) -> Iterator[None]:
    """A clean OpenFeature API (put back after the test) with the contextvars propagator a
    web middleware installs."""
    api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
    yield


@pytest.fixture(name="evidence")
def evidence_fixture(memory: MemoryTracker) -> Iterator[Evidence]:
    """An Evidence that records the context attributes these tests look at."""
    recorder = Evidence(memory, flush_interval=0.01, context_attributes=["plan", "source"])
    yield recorder
    recorder.close()


def transaction(unit: str, **attributes: Any) -> None:
    """Set the transaction context as a middleware does for a request."""
    api.set_transaction_context(EvaluationContext(attributes=context(unit, **attributes)))


def test_without_a_context_the_transaction_contexts_unit_gets_its_route(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    transaction(units["candidate"])
    make_router().chat(messages=MESSAGES)
    assert server.requests[-1].body["model"] == "model_b"
    (event,) = recorded()
    assert (event["unitId"], event["variation"]) == (units["candidate"], "candidate")


def test_without_a_context_the_exposure_records_the_transaction_contexts_attributes(
    make_router: RouterFactory, recorded: Recorded, units: dict[str, str]
) -> None:
    transaction(units["control"], plan="pro")
    make_router().chat(messages=MESSAGES)
    (event,) = recorded()
    assert event["attributes"] == {"plan": "pro"}


def test_the_exposure_merges_global_transaction_client_and_call_contexts_in_the_sdks_order(
    make_router: RouterFactory,
    flags: OpenFeatureClient,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    api.set_evaluation_context(EvaluationContext(attributes={"plan": "free", "source": "api"}))
    transaction(units["control"], plan="pro", source="transaction")
    flags.context = EvaluationContext(attributes={"source": "client"})
    make_router().chat(messages=MESSAGES)
    make_router().chat({"conversationId": units["control"], "source": "call"}, messages=MESSAGES)
    first, second = recorded()
    assert first["attributes"] == {"plan": "pro", "source": "client"}
    assert second["attributes"] == {"plan": "pro", "source": "call"}


def test_a_context_given_to_the_call_wins_over_the_transaction_contexts_unit(
    make_router: RouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    transaction(units["control"], plan="pro")
    make_router().chat(context(units["candidate"]), messages=MESSAGES)
    (event,) = recorded()
    assert server.requests[-1].body["model"] == "model_b"
    assert (event["unitId"], event["attributes"]) == (units["candidate"], {"plan": "pro"})


def test_the_transaction_contexts_segment_attributes_choose_the_route(
    make_router: RouterFactory, server: FakeOpenAI, recorded: Recorded
) -> None:
    transaction("conv-1", accountId="acct_blocked")  # excluded: served the fallback
    make_router().chat(messages=MESSAGES)
    (event,) = recorded()
    assert server.requests[-1].body["model"] == "model_small"
    assert event["variation"] == "fallback"


def test_without_any_context_the_default_variation_runs_for_no_unit(
    make_router: RouterFactory, server: FakeOpenAI, recorded: Recorded
) -> None:
    make_router().chat(messages=MESSAGES)
    (event,) = recorded()
    assert server.requests[-1].body["model"] == "model_a"
    assert event["inExperiment"] is False


def test_the_async_router_reads_the_transaction_context_of_its_task(
    make_async_router: AsyncRouterFactory,
    server: FakeOpenAI,
    recorded: Recorded,
    units: dict[str, str],
) -> None:
    router = make_async_router()

    async def request(unit: str) -> None:  # one request's task, as a middleware runs it
        transaction(unit, plan="enterprise")
        await router.chat(messages=MESSAGES)

    async def main() -> None:
        try:
            await asyncio.gather(request(units["control"]), request(units["candidate"]))
        finally:
            await router.client.close()

    asyncio.run(main())
    events = {event["unitId"]: event for event in recorded()}
    assert {unit: events[unit]["variation"] for unit in events} == {
        units["control"]: "control", units["candidate"]: "candidate",
    }  # fmt: skip
    assert sorted(request.body["model"] for request in server.requests) == ["model_a", "model_b"]
    assert all(event["attributes"] == {"plan": "enterprise"} for event in events.values())
