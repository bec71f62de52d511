"""Route, call, price and record an OpenAI-compatible chat completion in one call.

Needs the ``openai`` package (``pip install 'modelflags[openai]'``); it talks to OpenAI and
to every server that speaks its chat-completions API (vLLM, Ollama, a LiteLLM proxy, Azure,
most gateways)::

    router = ModelRouter(
        openai.OpenAI(), flag_key="support_answer_model_route", evidence=evidence,
        default_route={"modelRoute": "support_model_a"}, prices="prices.yaml",
        request_fields={"temperature": "temperature"}, fallback="fallback",
    )
    completion = router.chat(ctx, messages=[{"role": "user", "content": "..."}])
    completion, served = router.chat_with_route(messages=build_messages)

One ``chat`` evaluates the route flag for the unit through OpenFeature (the unit named, or
the one a web middleware put in the transaction context), calls
``client.chat.completions.create`` with the route's ``modelRoute`` as ``model`` (the route
fields ``request_fields`` maps to request parameters, and messages built from the route
when ``messages`` is a callable), falls back to the flag's fallback variation on a timeout,
a 429, a 5xx or a lost connection when asked to, and records one exposure with latency,
``promptTokens``, ``completionTokens``, the cost from the price table and the error, if
any. It returns exactly what ``create`` returns (a ``ChatCompletion``, or the client's own
``Stream`` for ``stream=True``) and raises exactly what it raises, the same exception
object; ``chat_with_route`` returns a :class:`ServedRoute` beside it, saying which
variation answered and whether it was the fallback. :class:`AsyncModelRouter` is the twin
for ``openai.AsyncOpenAI``.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from modelflags.integrations.openai_async import AsyncModelRouter
from modelflags.integrations.openai_context import Context, invocation_context
from modelflags.integrations.openai_router import ChatMessages, MessageBuilder, RouterBase
from modelflags.integrations.openai_routing import FALLBACK_REASONS, RouteCall, failure_reason
from modelflags.integrations.openai_served import ServedRoute
from modelflags.integrations.openai_stream import StreamWatch, watch_stream
from modelflags.loader.prices import load_prices
from modelflags.schema.prices import PriceTable

__all__ = [
    "FALLBACK_REASONS",
    "AsyncModelRouter",
    "ChatMessages",
    "Context",
    "MessageBuilder",
    "ModelRouter",
    "PriceTable",
    "ServedRoute",
    "failure_reason",
    "load_prices",
]

Completion = ChatCompletion | openai.Stream[ChatCompletionChunk]


class ModelRouter(RouterBase[openai.OpenAI]):
    """Chat completions through an ``openai.OpenAI`` client, routed by a flag and recorded.

    ``flag_key`` names the route flag, evaluated through ``flags`` (an OpenFeature client;
    default ``api.get_client()``) with ``default_route`` as its default value, which must
    name a ``modelRoute``. ``evidence`` receives one exposure per call. ``prices`` is a
    :class:`PriceTable` or the path of a price table file (None: costs are null).
    ``request_fields`` maps route fields to request parameters (``{"temperature":
    "temperature", "maxTokens": "max_tokens"}``); ``modelRoute`` is always the ``model``,
    and a route's field wins over the caller's keyword of the same parameter.
    ``fallback`` names the variation to retry on when a call fails for one of
    ``fallback_on`` (``timeout``, ``rate_limited``, ``server_error``, ``connection_error``);
    None never retries. ``stream_usage=False`` stops the router asking streams for their
    usage chunk (for servers that refuse ``stream_options``).
    """

    @overload
    def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[False] | None = None,
        **kwargs: Any,
    ) -> ChatCompletion: ...

    @overload
    def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[True],
        **kwargs: Any,
    ) -> openai.Stream[ChatCompletionChunk]: ...

    @overload
    def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool,
        **kwargs: Any,
    ) -> Completion: ...

    def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool | None = None,
        **kwargs: Any,
    ) -> Completion:
        """``client.chat.completions.create(messages=..., **kwargs)`` on the unit's route.

        ``context`` is an OpenFeature ``EvaluationContext``, a mapping of its attributes
        (``targetingKey`` among them, if any) or a targeting key; left out, the flag is
        evaluated on the contexts OpenFeature already has (the transaction context a web
        middleware set, the global and the client's). Either way the exposure records the
        merged context the evaluation saw. ``messages`` is the messages, or a callable that
        builds them from the route's value, called once per attempt. Returns what ``create``
        returns; raises what it raises (after recording it), unchanged.
        """
        return self._run(context, messages, stream, kwargs)[0]  # type: ignore[no-any-return]

    @overload
    def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[False] | None = None,
        **kwargs: Any,
    ) -> tuple[ChatCompletion, ServedRoute]: ...

    @overload
    def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[True],
        **kwargs: Any,
    ) -> tuple[openai.Stream[ChatCompletionChunk], ServedRoute]: ...

    @overload
    def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool,
        **kwargs: Any,
    ) -> tuple[Completion, ServedRoute]: ...

    def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool | None = None,
        **kwargs: Any,
    ) -> tuple[Completion, ServedRoute]:
        """:meth:`chat`, and the :class:`ServedRoute` that answered: which variation, and
        whether it was the fallback (for a stream: the route its response started on)."""
        response, call = self._run(context, messages, stream, kwargs)
        return response, call.served()

    def _run(
        self,
        context: Context | None,
        messages: ChatMessages,
        stream: bool | None,
        kwargs: dict[str, Any],
    ) -> tuple[Any, RouteCall]:
        hide_usage = self._prepare(kwargs, stream)
        routing = self._routing
        invocation = invocation_context(context)
        try:
            details = routing.flags.get_object_details(
                routing.flag_key, routing.default_route, invocation
            )
        except Exception as error:
            details = routing.failed_evaluation(error)
        call = self._start(details, invocation)
        try:
            response = self._create(**self._request(call, messages, kwargs))
        except BaseException as error:
            if not self._fallback(call, error):  # the error is recorded, and raised unchanged
                raise
            try:
                response = self._create(**self._request(call, messages, kwargs))
            except BaseException as second:
                call.record(second, None, None)
                raise
        if stream:
            return watch_stream(response, StreamWatch(call, hide_usage=hide_usage)), call
        call.answered(response)
        return response, call
