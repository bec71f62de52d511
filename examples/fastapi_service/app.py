"""A FastAPI support service that answers through the route flag's model, end to end.

``POST /support/answer`` answers a question of a conversation with an OpenAI-compatible
model: the route flag ``support_answer_model_route`` (flags/) chooses the model for the
conversation, :class:`~modelflags.integrations.openai.AsyncModelRouter` calls it through
``openai.AsyncOpenAI(base_url=MODEL_BASE_URL)`` with the system prompt of the route's
``promptVersion``, falls back to the flag's ``fallback`` variation when the model times out,
answers 429 or 5xx, or cannot be reached, and records the exposure (the route that ran,
latency, tokens, and the cost from examples/prices.yaml). The answer says which variation
wrote it and whether that was the fallback.
``POST /support/feedback`` records whether the conversation was resolved, through
``client.track`` with the ``flagKey``, so ``modelflags report`` joins it to the exposure.

**Where the context comes from.** Everything the flag is evaluated on arrives in headers:
the conversation in ``X-Conversation-Id`` (the unit), the caller's ``X-Account-Id``,
``X-Plan`` and ``X-Channel`` (for the flag's segments). The body holds only the content (the
question, the feedback). Headers, because they are who is asking, not what is asked: in a
real deployment the gateway sets them once it has authenticated the caller, the same on
every request of a conversation. :class:`~modelflags.integrations.starlette.
ModelFlagsMiddleware` reads them once per request into OpenFeature's transaction context,
so the answer and the feedback of a conversation are evaluated on the same context, and the
outcome is attributed to the arm that answered without the handlers passing anything
around: the router is called without a context, and evaluates the flag and records the
exposure's context attributes on that one; the feedback handler hands it to ``track``.

The middleware also closes the evidence when the application shuts down, which delivers the
last events.

Settings, from the environment (paths relative to the working directory; defaults in the
repository):

==========================  ===============================================================
``MODEL_BASE_URL``          the OpenAI-compatible server (``http://127.0.0.1:8001/v1``:
                            ``model_server.py``)
``MODEL_API_KEY``           its key (default ``OPENAI_API_KEY``, else a placeholder the local
                            server ignores)
``MODEL_TIMEOUT``           seconds before a call times out and falls back (10)
``MODEL_MAX_RETRIES``       the client's own retries of a failed call before the fallback (0)
``MODELFLAGS_FLAGS``        the flag files (``flags/``)
``MODELFLAGS_PRICES``       the price table (``examples/prices.yaml``)
``MODELFLAGS_EVIDENCE``     a tracker URL (``jsonl:events/fastapi_service.jsonl``)
==========================  ===============================================================

Run it from the repository root (``pip install -e '.[examples]'``)::

    python examples/fastapi_service/app.py [--port 8000]
    uvicorn --app-dir examples/fastapi_service --factory app:app_from_env --port 8000
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import openai
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails
from pydantic import BaseModel, Field

from modelflags import Evidence, ModelFlagsError, ModelFlagsProvider, load_flags
from modelflags.integrations.openai import AsyncModelRouter, load_prices
from modelflags.integrations.starlette import ModelFlagsMiddleware, UnitFrom

__all__ = [
    "FLAG",
    "OUTCOME",
    "SYSTEM_PROMPTS",
    "UNIT",
    "Settings",
    "app_from_env",
    "create_app",
    "main",
    "support_messages",
]

ROOT = Path(__file__).resolve().parents[2]
FLAG = "support_answer_model_route"
OUTCOME = "support_conversation_outcome"
UNIT = UnitFrom(
    header="X-Conversation-Id",
    attribute="conversationId",  # the flag's assignment.key
    headers={"accountId": "X-Account-Id", "plan": "X-Plan", "channel": "X-Channel"},
)
# What runs when the flag cannot be evaluated (the exposure then says so: reason ERROR).
DEFAULT_ROUTE: Mapping[str, Any] = {
    "modelRoute": "support_model_a",
    "promptVersion": "support_v3",
    "retrievalProfile": "safe_fallback",
}
# The system prompt of each promptVersion a route names (flags/support.yaml): the route
# chooses the prompt as it chooses the model.
SYSTEM_PROMPTS: Mapping[str, str] = {
    "support_v3": "You are the support assistant of an online service. Answer briefly.",
}


def support_messages(question: str) -> Callable[[Mapping[str, Any]], list[Any]]:
    """The messages of ``question``, built for the route that answers it (the router calls
    this once per attempt: a fallback gets its own route's prompt). A ``promptVersion`` this
    service has no prompt for gets the default route's."""

    def for_route(route: Mapping[str, Any]) -> list[Any]:
        default = SYSTEM_PROMPTS[DEFAULT_ROUTE["promptVersion"]]
        prompt = SYSTEM_PROMPTS.get(str(route.get("promptVersion")), default)
        return [{"role": "system", "content": prompt}, {"role": "user", "content": question}]

    return for_route


@dataclass(frozen=True)
class Settings:
    """The service's settings; :meth:`from_env` reads them from the environment."""

    model_base_url: str = "http://127.0.0.1:8001/v1"
    model_api_key: str = "unused-by-the-local-model-server"
    model_timeout: float = 10.0
    model_max_retries: int = 0
    flags: str = str(ROOT / "flags")
    prices: str = str(ROOT / "examples" / "prices.yaml")
    evidence: str = f"jsonl:{ROOT / 'events' / 'fastapi_service.jsonl'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment gives; ValueError names a variable that is wrong."""
        default = cls()
        timeout = _number(environ, "MODEL_TIMEOUT", default.model_timeout)
        retries = _number(environ, "MODEL_MAX_RETRIES", default.model_max_retries)
        if timeout <= 0:
            raise ValueError(f"MODEL_TIMEOUT={timeout:g}: a number of seconds above 0")
        if retries < 0 or retries != int(retries):
            raise ValueError(f"MODEL_MAX_RETRIES={retries:g}: a count, 0 or more")
        key = environ.get("MODEL_API_KEY") or environ.get("OPENAI_API_KEY")
        return cls(
            model_base_url=environ.get("MODEL_BASE_URL") or default.model_base_url,
            model_api_key=key or default.model_api_key,
            model_timeout=timeout,
            model_max_retries=int(retries),
            flags=environ.get("MODELFLAGS_FLAGS") or default.flags,
            prices=environ.get("MODELFLAGS_PRICES") or default.prices,
            evidence=environ.get("MODELFLAGS_EVIDENCE") or default.evidence,
        )


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{name}={text!r} is not a number")
    return value


class Question(BaseModel):
    """The body of ``POST /support/answer``."""

    question: str = Field(min_length=1, max_length=4000)


class Answer(BaseModel):
    """What ``POST /support/answer`` returns: the reply, the model that wrote it, the flag's
    variation that served it (``fallbackUsed``: the fallback, after the assigned route
    failed), and its usage."""

    conversationId: str
    answer: str
    model: str
    servedVariation: str | None
    fallbackUsed: bool
    promptTokens: int | None
    completionTokens: int | None


class Feedback(BaseModel):
    """The body of ``POST /support/feedback``: was the conversation resolved without a
    person stepping in?"""

    resolved: bool


class Recorded(BaseModel):
    """What ``POST /support/feedback`` returns once the outcome is recorded."""

    conversationId: str
    recorded: bool


async def conversation(
    x_conversation_id: Annotated[str, Header(description="the conversation: the unit")],
) -> EvaluationContext:
    """This request's evaluation context, as the middleware set it from the headers.

    The header parameter is declared so that FastAPI documents it and answers 422 when it is
    missing; its value is read by the middleware, which leaves out a value it refuses (longer
    than 1,024 characters, not text): that is a 400 here.
    """
    context = api.get_transaction_context()
    if not context.attributes.get(UNIT.attribute):
        raise HTTPException(400, "X-Conversation-Id must be 1 to 1,024 characters of text")
    return context


Conversation = Annotated[EvaluationContext, Depends(conversation)]


def create_app(settings: Settings) -> FastAPI:
    """The service. Startup installs the modelflags provider in OpenFeature's API and makes
    the model client and router; shutdown closes the client, and the middleware closes the
    evidence (the provider, when it is shut down or replaced, closes it too: harmless)."""
    evidence = Evidence(settings.evidence, context_attributes=["plan", "channel"])
    prices = load_prices(settings.prices)
    flags = api.get_client()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        api.set_provider_and_wait(ModelFlagsProvider(settings.flags, evidence=evidence))
        models = openai.AsyncOpenAI(
            base_url=settings.model_base_url, api_key=settings.model_api_key,
            timeout=settings.model_timeout, max_retries=settings.model_max_retries,
        )  # fmt: skip
        app.state.router = AsyncModelRouter(
            models, flag_key=FLAG, evidence=evidence, default_route=DEFAULT_ROUTE,
            flags=flags, prices=prices, fallback="fallback",
        )  # fmt: skip
        try:
            yield
        finally:
            await models.close()

    app = FastAPI(title="Support answers", lifespan=lifespan)
    app.add_middleware(ModelFlagsMiddleware, unit=UNIT, evidence=evidence)

    @app.post("/support/answer")
    async def answer(body: Question, context: Conversation, request: Request) -> Answer:
        """Answer the question on the conversation's route (502/504 when the model, and
        then its fallback, failed)."""
        router: AsyncModelRouter = request.app.state.router
        try:  # on the transaction context the middleware set: no context argument
            completion, served = await router.chat_with_route(
                messages=support_messages(body.question)
            )
        except openai.APITimeoutError:
            raise HTTPException(504, "the model did not answer in time") from None
        except openai.APIError as error:
            raise HTTPException(502, f"the model failed ({type(error).__name__})") from None
        usage = completion.usage
        return Answer(
            conversationId=str(context.attributes[UNIT.attribute]),
            answer=completion.choices[0].message.content or "",
            model=completion.model,
            servedVariation=served.served_variation,
            fallbackUsed=served.fallback_used,
            promptTokens=usage.prompt_tokens if usage else None,
            completionTokens=usage.completion_tokens if usage else None,
        )

    @app.post("/support/feedback")
    async def feedback(body: Feedback, context: Conversation) -> Recorded:
        """Record the conversation's outcome. The provider evaluates ``flagKey`` for the same
        context, so the outcome carries the exposure's unit, arm and experiment."""
        flags.track(
            OUTCOME,
            context,
            TrackingEventDetails(
                value=1.0 if body.resolved else 0.0,
                attributes={"flagKey": FLAG, "resolvedWithoutEscalation": body.resolved},
            ),
        )
        return Recorded(conversationId=str(context.attributes[UNIT.attribute]), recorded=True)

    return app


def app_from_env() -> FastAPI:
    """The service configured from the environment (``uvicorn --factory app:app_from_env``).

    A wrong setting, or flag or price files with errors, stop it before it serves, with the
    message (``file:line:col`` for the files) and no traceback.
    """
    try:
        settings = Settings.from_env()
        load_flags(settings.flags)  # the provider loads them again; this fails early
        return create_app(settings)
    except (ValueError, ModelFlagsError) as error:
        raise SystemExit(f"fastapi_service: {error}") from None


def main(argv: Sequence[str] | None = None) -> None:
    """Serve on 127.0.0.1 (``--port 0``: a free port); the first line printed is the URL."""
    import uvicorn

    parser = argparse.ArgumentParser(description="The FastAPI support service example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: a port is 0 to 65535")
    app = app_from_env()
    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
    except OSError as error:
        sys.exit(f"fastapi_service: cannot listen on {args.host}:{args.port}: {error}")
    listener.listen(128)  # requests wait here until the application has started
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"support service on http://{shown}:{port}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    with suppress(KeyboardInterrupt):  # raised again once uvicorn has shut down
        uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
