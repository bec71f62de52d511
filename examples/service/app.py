"""A support-answer web service that A/B tests model routes with modelflags (Starlette).

Per request it sets OpenFeature's *transaction context* (the conversation, account, plan,
channel and email of the caller), evaluates ``support_answer_model_route`` through the
OpenFeature client without passing a context, calls a simulated model on the chosen route,
falls back to the flag's ``fallback`` route when the model times out, and records the
exposure (what actually ran). Feedback on a conversation becomes an outcome event through
``client.track``; both carry the same join keys (``flagKey``, ``unitId``, ``variation``).

Run it (from the repository root, with the example extra: ``pip install -e '.[examples]'``)::

    python examples/service/app.py            # 127.0.0.1:8000, events in events/service.jsonl
    uvicorn --app-dir examples/service --factory app:app_from_env --port 8000

``MODELFLAGS_FLAGS`` names the flag source (default: ``flags/``) and ``MODELFLAGS_EVIDENCE``
a tracker URL (default: ``jsonl://<repo>/events/service.jsonl``). Then::

    curl -s localhost:8000/support/answer -H 'content-type: application/json' -d \\
      '{"conversationId": "conv-1", "accountId": "acct_3", "plan": "pro", "channel": "chat",
        "email": "ana@customer.test", "question": "How do I rotate my API key?"}'
    curl -s localhost:8000/support/feedback -H 'content-type: application/json' -d \\
      '{"conversationId": "conv-1", "accountId": "acct_3", "plan": "pro", "channel": "chat",
        "email": "ana@customer.test", "resolved": true}'
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails
from openfeature.transaction_context import ContextVarsTransactionContextPropagator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from modelflags import Evidence, JsonlTracker, ModelFlagsProvider

FLAG = "support_answer_model_route"
OUTCOME = "support_conversation_outcome"
FALLBACK = "fallback"
# Served when evaluation fails (OpenFeature hands back the default value, never raises).
DEFAULT_ROUTE: dict[str, Any] = {
    "modelRoute": "support_model_a",
    "promptVersion": "support_v3",
    "retrievalProfile": "safe_fallback",
}
ROOT = Path(__file__).resolve().parents[2]
CONTEXT_FIELDS = ("conversationId", "accountId", "plan", "channel", "email")

_ANSWERS = (
    "Go to Settings > API keys, create a new key, then revoke the old one.",
    "Your invoice is under Billing > History; you can download it as a PDF.",
    "Reset your password from the sign-in page with 'Forgot password'.",
    "Seats are managed under Team > Members; changes apply immediately.",
    "Export your data from Settings > Data export; you will get an email with a link.",
)


class ModelTimeout(Exception):
    """The simulated model did not answer within its time budget."""


@dataclass(frozen=True)
class Reply:
    text: str
    tokens: int
    cost: float


class SimulatedModel:
    """A stand-in for an LLM API: deterministic given the route and the question.

    Latency is a few milliseconds plus retrieval work that grows with the question on the
    ``baseline`` retrieval profile; past ``timeout_ms`` the call times out (after waiting the
    budget out), so a long enough question times out on a baseline route and is answered by
    the ``safe_fallback`` profile, whose retrieval is bounded.
    """

    PRICE_PER_1K_TOKENS: Mapping[str, float] = {"support_model_a": 0.004, "support_model_b": 0.0025}

    def __init__(self, timeout_ms: float = 40.0) -> None:
        self.timeout_ms = timeout_ms

    def latency_ms(self, route: Mapping[str, Any], question: str) -> float:
        digest = hashlib.sha256(f"{route.get('modelRoute')}|{question}".encode()).digest()
        base = 2.0 + digest[0] % 5  # 2-6 ms
        if route.get("retrievalProfile") == "safe_fallback":
            return base
        return base + len(question) / 100.0  # retrieval over the whole question

    async def answer(self, route: Mapping[str, Any], question: str) -> Reply:
        latency = self.latency_ms(route, question)
        if latency > self.timeout_ms:
            await asyncio.sleep(self.timeout_ms / 1000.0)
            raise ModelTimeout(f"{route.get('modelRoute')} took longer than {self.timeout_ms} ms")
        await asyncio.sleep(latency / 1000.0)
        digest = hashlib.sha256(question.encode()).digest()
        tokens = 64 + len(question.split()) * 3 + digest[1] % 64
        price = self.PRICE_PER_1K_TOKENS.get(str(route.get("modelRoute")), 0.004)
        text = f"[{route.get('modelRoute')}] {_ANSWERS[digest[2] % len(_ANSWERS)]}"
        return Reply(text=text, tokens=tokens, cost=round(tokens * price / 1000.0, 6))


def _set_request_context(body: Mapping[str, Any]) -> EvaluationContext:
    """Make the caller's fields this request's OpenFeature transaction context."""
    attributes = {key: str(body[key]) for key in CONTEXT_FIELDS if body.get(key) is not None}
    unit = attributes.get("conversationId")
    context = EvaluationContext(targeting_key=unit, attributes=attributes)
    api.set_transaction_context(context)  # a ContextVar: private to this request's task
    return context


def _variation(request: Request, variation: str) -> Mapping[str, Any]:
    """The route of one of the flag's variations, as currently loaded (fresh copy)."""
    provider: ModelFlagsProvider = request.app.state.provider
    value = provider.variation_value(FLAG, variation)
    return value if isinstance(value, Mapping) else DEFAULT_ROUTE


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, status_code=400)
    if not isinstance(body, dict) or not isinstance(body.get("conversationId"), str):
        return JSONResponse({"error": "conversationId (a string) is required"}, status_code=400)
    return body


def create_app(
    flags_path: str | os.PathLike[str],
    evidence: Evidence,
    *,
    model: SimulatedModel | None = None,
) -> Starlette:
    """The service: flags from ``flags_path``, exposures and outcomes to ``evidence``.

    Startup installs the provider (and the context-var transaction context propagator) in
    OpenFeature's global API; shutdown shuts the API down and closes the evidence.
    """
    model = model or SimulatedModel()
    client = api.get_client("support-service")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
        app.state.provider = ModelFlagsProvider(flags_path, evidence=evidence)
        api.set_provider_and_wait(app.state.provider)
        try:
            yield
        finally:
            api.shutdown()  # the provider's shutdown flushes and closes the evidence
            evidence.close()  # idempotent; closes it even if the provider never started

    async def answer(request: Request) -> JSONResponse:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        question = str(body.get("question") or "")
        context = _set_request_context(body)
        # No context argument: the unit and targeting attributes come from the transaction
        # context set above (merged by the client with the global and client contexts).
        route = client.get_object_details(FLAG, DEFAULT_ROUTE)
        ran: Mapping[str, Any] = route.value if isinstance(route.value, Mapping) else DEFAULT_ROUTE
        served, fell_back = route.variant, False
        try:
            with evidence.exposure(route, context) as exposure:
                try:
                    reply = await model.answer(ran, question)
                except ModelTimeout:
                    exposure.fallback(FALLBACK, reason="timeout")
                    ran = _variation(request, FALLBACK)
                    served, fell_back = FALLBACK, True
                    reply = await model.answer(ran, question)
                exposure.record(estimated_cost=reply.cost, tokens=reply.tokens)
        except ModelTimeout:  # the fallback timed out too: recorded as error, errorType
            return JSONResponse({"error": "the model timed out"}, status_code=504)
        return JSONResponse(
            {
                "conversationId": body["conversationId"],
                "answer": reply.text,
                "variant": route.variant,  # what evaluation assigned
                "servedVariation": served,  # what ran (differs after a fallback)
                "fallbackUsed": fell_back,
                "reason": route.reason,
                "errorCode": route.error_code,
                "modelRoute": ran.get("modelRoute"),
                "promptVersion": ran.get("promptVersion"),
                "retrievalProfile": ran.get("retrievalProfile"),
            }
        )

    async def feedback(request: Request) -> JSONResponse:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body.get("resolved"), bool):
            return JSONResponse({"error": "resolved (a boolean) is required"}, status_code=400)
        resolved: bool = body["resolved"]
        _set_request_context(body)
        # The provider evaluates `flagKey` for the transaction context to fill in the unit,
        # variation and experiment; the other numeric/boolean attributes become metrics.
        client.track(
            OUTCOME,
            tracking_event_details=TrackingEventDetails(
                value=1.0 if resolved else 0.0,
                attributes={"flagKey": FLAG, "resolvedWithoutEscalation": resolved},
            ),
        )
        return JSONResponse({"conversationId": body["conversationId"], "recorded": True})

    return Starlette(
        routes=[
            Route("/support/answer", answer, methods=["POST"]),
            Route("/support/feedback", feedback, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """The service configured from the environment (``uvicorn --factory app:app_from_env``)."""
    flags = os.environ.get("MODELFLAGS_FLAGS") or str(ROOT / "flags")
    url = os.environ.get("MODELFLAGS_EVIDENCE", "").strip()
    evidence = Evidence(url) if url else Evidence(JsonlTracker(ROOT / "events" / "service.jsonl"))
    return create_app(flags, evidence)


def main() -> None:
    import uvicorn

    events = os.environ.get("MODELFLAGS_EVIDENCE") or ROOT / "events" / "service.jsonl"
    print(f"support service on http://127.0.0.1:8000; evidence to {events}")
    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000, log_level="info")


if __name__ == "__main__":
    main()
