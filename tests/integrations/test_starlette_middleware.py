"""The Starlette/FastAPI middleware through the frameworks' real test clients (and, for what a
client cannot show, a real ASGI call): the request's unit reaches flag evaluations without a
context argument, nothing outlives the request, and the evidence is closed at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient as FastAPIClient
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.transaction_context import ContextVarsTransactionContextPropagator
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from web_cases import FLAGS

from modelflags import Evidence, MemoryTracker
from modelflags.integrations.starlette import ModelFlagsMiddleware, UnitFrom, UnitReader
from modelflags.integrations.web import MAX_VALUE
from modelflags.testing import provider_from_yaml

FLAG = "answer_route"
CONVERSATION = UnitFrom(
    path_param="conversation_id",
    header="X-Conversation-Id",
    cookie="conversation",
    attribute="conversationId",
    headers={"plan": "X-Plan"},
)


@pytest.fixture
def evidence() -> Iterator[tuple[Evidence, MemoryTracker]]:
    tracker = MemoryTracker()
    evidence = Evidence(tracker)
    api.set_provider_and_wait(provider_from_yaml(FLAGS, evidence=evidence))
    yield evidence, tracker
    evidence.close()


def seen(request: Request | WebSocket | None = None) -> dict[str, Any]:
    """What a handler sees: the transaction context and an evaluation without a context."""
    context = api.get_transaction_context()
    details = api.get_client().get_object_details(FLAG, {})
    return {
        "targetingKey": context.targeting_key,
        "attributes": dict(context.attributes),
        "unitId": details.flag_metadata.get("unitId"),
        "errorCode": details.error_code,
    }


async def show(request: Request) -> JSONResponse:
    return JSONResponse(seen(request))


def show_sync(request: Request) -> JSONResponse:  # run in a worker thread by Starlette
    return JSONResponse(seen(request))


def app_with(unit: UnitFrom | UnitReader, **options: Any) -> Starlette:
    routes = [
        Route("/answer", show),
        Route("/sync", show_sync),
        Route("/conversations/{conversation_id}", show),
        Mount("/accounts/{account}", routes=[Route("/conversations/{conversation_id:int}", show)]),
    ]
    return Starlette(
        routes=routes, middleware=[Middleware(ModelFlagsMiddleware, unit=unit, **options)]
    )


def test_a_header_unit_keys_the_evaluations_of_the_request(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/answer", headers={"X-Conversation-Id": "conv-7"}).json()
    assert body["attributes"] == {"conversationId": "conv-7"}
    assert body["unitId"] == "conv-7"
    assert body["errorCode"] is None


def test_the_default_attribute_is_the_targeting_key() -> None:
    with TestClient(app_with(UnitFrom(header="X-User-Id"))) as client:
        body = client.get("/answer", headers={"X-User-Id": "user-3"}).json()
    assert body["targetingKey"] == "user-3"
    assert body["attributes"] == {}


def test_a_cookie_gives_the_unit_when_no_header_does(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION), cookies={"conversation": "conv-c"}) as client:
        body = client.get("/answer").json()
    assert body["unitId"] == "conv-c"


def test_a_header_wins_over_a_cookie(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION), cookies={"conversation": "conv-c"}) as client:
        body = client.get("/answer", headers={"X-Conversation-Id": "conv-h"}).json()
    assert body["unitId"] == "conv-h"


def test_a_path_parameter_wins_over_a_header(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/conversations/conv-p", headers={"X-Conversation-Id": "conv-h"}).json()
    assert body["unitId"] == "conv-p"


def test_a_path_parameter_inside_a_mount_is_found_and_converted_to_text(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/accounts/acct_1/conversations/42").json()
    assert body["attributes"]["conversationId"] == "42"
    assert body["unitId"] == "42"


def test_a_middleware_on_a_route_reads_the_resolved_path_parameters() -> None:
    unit = UnitFrom(path_param="conversation_id", attribute="conversationId")
    route = Route(
        "/conversations/{conversation_id}",
        show,
        middleware=[Middleware(ModelFlagsMiddleware, unit=unit)],
    )
    with TestClient(Starlette(routes=[route])) as client:
        body = client.get("/conversations/conv-r").json()
    assert body["attributes"] == {"conversationId": "conv-r"}


def test_extra_attributes_come_from_their_headers() -> None:
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/answer", headers={"X-Conversation-Id": "c1", "X-Plan": "pro"}).json()
    assert body["attributes"] == {"conversationId": "c1", "plan": "pro"}


def test_a_sync_endpoint_in_a_worker_thread_sees_the_unit(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/sync", headers={"X-Conversation-Id": "conv-s"}).json()
    assert body["unitId"] == "conv-s"


def test_an_over_long_header_is_left_out_counted_and_warned_about_once(
    evidence: Any, caplog: pytest.LogCaptureFixture
) -> None:
    reader = UnitReader(CONVERSATION)
    hostile = "x" * (MAX_VALUE * 50)
    with caplog.at_level(logging.WARNING), TestClient(app_with(reader)) as client:
        first = client.get("/answer", headers={"X-Conversation-Id": hostile})
        second = client.get("/answer", headers={"X-Conversation-Id": hostile})
    assert first.status_code == second.status_code == 200
    assert first.json()["attributes"] == {}
    assert first.json()["errorCode"] == "TARGETING_KEY_MISSING"  # the default was served
    assert reader.counters == {"rejected": 2}
    warnings = [r for r in caplog.records if "left out of the flag context" in r.getMessage()]
    assert len(warnings) == 1
    assert hostile not in caplog.text


def test_an_over_long_header_falls_back_to_the_cookie(evidence: Any) -> None:
    with TestClient(app_with(CONVERSATION), cookies={"conversation": "conv-c"}) as client:
        body = client.get("/answer", headers={"X-Conversation-Id": "x" * (MAX_VALUE + 1)}).json()
    assert body["unitId"] == "conv-c"


def test_a_unit_of_exactly_the_limit_is_kept(evidence: Any) -> None:
    unit = "u" * MAX_VALUE
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/answer", headers={"X-Conversation-Id": unit}).json()
    assert body["unitId"] == unit


def test_a_request_without_a_unit_passes_through_untouched() -> None:
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/answer").json()
    assert body["attributes"] == {}
    assert body["targetingKey"] is None


def test_a_streamed_body_and_a_background_task_see_the_unit(evidence: Any) -> None:
    units: list[Any] = []

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> Any:
            yield str(seen()["unitId"]).encode()

        return StreamingResponse(
            chunks(), background=BackgroundTask(lambda: units.append(seen()["unitId"]))
        )

    app = Starlette(routes=[Route("/stream", stream)])
    app.add_middleware(ModelFlagsMiddleware, unit=CONVERSATION)
    with TestClient(app) as client:
        response = client.get("/stream", headers={"X-Conversation-Id": "conv-9"})
    assert response.text == "conv-9"
    assert units == ["conv-9"]


def test_a_websocket_connection_sees_the_unit(evidence: Any) -> None:
    async def talk(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(seen(websocket))
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", talk)])
    app.add_middleware(ModelFlagsMiddleware, unit=CONVERSATION)
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws", headers={"X-Conversation-Id": "conv-w"}) as ws,
    ):
        assert ws.receive_json()["unitId"] == "conv-w"


def test_concurrent_requests_each_see_their_own_unit(evidence: Any) -> None:
    both_inside = asyncio.Event()
    inside: list[str] = []

    async def slow(request: Request) -> JSONResponse:
        inside.append(request.headers["x-conversation-id"])
        if len(inside) == 2:
            both_inside.set()
        await asyncio.wait_for(both_inside.wait(), timeout=5)  # both requests interleave here
        return JSONResponse(seen(request))

    app = Starlette(routes=[Route("/slow", slow)])
    app.add_middleware(ModelFlagsMiddleware, unit=CONVERSATION)

    async def run() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            replies = await asyncio.gather(
                *(client.get("/slow", headers={"X-Conversation-Id": unit}) for unit in ("a", "b"))
            )
        return [reply.json()["unitId"] for reply in replies]

    assert asyncio.run(run()) == ["a", "b"]


def test_the_previous_transaction_context_is_restored_after_the_request() -> None:
    api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
    during: list[EvaluationContext] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        during.append(api.get_transaction_context())
        api.set_transaction_context(EvaluationContext("set-by-the-handler"))  # must not leak
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = ModelFlagsMiddleware(app, unit=CONVERSATION)
    outer = EvaluationContext(attributes={"region": "eu"})

    async def request() -> EvaluationContext:
        api.set_transaction_context(outer)
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"x-conversation-id", b"c5")],
        }

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        async def send(message: Any) -> None:
            return None

        await middleware(scope, receive, send)
        return api.get_transaction_context()

    assert asyncio.run(request()) is outer
    assert during[0].attributes == {"region": "eu", "conversationId": "c5"}  # merged over it


def test_the_contextvars_propagator_is_installed_when_none_is() -> None:
    api.shutdown()  # the SDK's default: a propagator that drops what is set
    with TestClient(app_with(CONVERSATION)) as client:
        body = client.get("/answer", headers={"X-Conversation-Id": "conv-1"}).json()
    assert body["attributes"] == {"conversationId": "conv-1"}


def test_a_propagator_the_application_installed_is_kept() -> None:
    class Recording(ContextVarsTransactionContextPropagator):
        def __init__(self) -> None:
            self.contexts: list[EvaluationContext] = []

        def set_transaction_context(self, transaction_context: EvaluationContext) -> None:
            self.contexts.append(transaction_context)
            super().set_transaction_context(transaction_context)

    recording = Recording()
    api.set_transaction_context_propagator(recording)
    with TestClient(app_with(CONVERSATION)) as client:
        client.get("/answer", headers={"X-Conversation-Id": "conv-2"})
    assert any(c.attributes.get("conversationId") == "conv-2" for c in recording.contexts)


def test_the_evidence_is_closed_when_the_lifespan_shuts_down(evidence: Any) -> None:
    recorder, tracker = evidence

    async def answer(request: Request) -> JSONResponse:
        details = api.get_client().get_object_details(FLAG, {})
        recorder.exposure(details, api.get_transaction_context()).record(latency_ms=5)
        return JSONResponse({})

    app = Starlette(routes=[Route("/answer", answer)])
    app.add_middleware(ModelFlagsMiddleware, unit=CONVERSATION, evidence=recorder)
    with TestClient(app) as client:
        client.get("/answer", headers={"X-Conversation-Id": "conv-1"})
        assert not tracker.closed
    assert tracker.closed
    assert [event["unitId"] for event in tracker.events] == ["conv-1"]


def test_fastapi_endpoints_see_the_unit_of_a_path_parameter(evidence: Any) -> None:
    app = FastAPI()
    app.add_middleware(ModelFlagsMiddleware, unit=CONVERSATION)

    @app.get("/conversations/{conversation_id}/answer")
    async def answer(conversation_id: str) -> dict[str, Any]:
        return seen()

    @app.get("/plain")
    def plain() -> dict[str, Any]:  # a sync endpoint: FastAPI runs it in a worker thread
        return seen()

    with FastAPIClient(app) as client:
        by_path = client.get("/conversations/conv-f/answer", headers={"X-Conversation-Id": "h"})
        by_header = client.get("/plain", headers={"X-Conversation-Id": "conv-h"})
    assert by_path.json()["unitId"] == "conv-f"
    assert by_header.json()["unitId"] == "conv-h"


def test_fastapi_lifespan_shutdown_closes_the_evidence() -> None:
    tracker = MemoryTracker()
    evidence = Evidence(tracker)
    app = FastAPI()
    app.add_middleware(ModelFlagsMiddleware, unit=CONVERSATION, evidence=evidence)
    with FastAPIClient(app):
        assert not tracker.closed
    assert tracker.closed
