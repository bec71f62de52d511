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

One ``chat`` evaluates the route flag for the unit through OpenFeature, calls
``client.chat.completions.create`` with the route's ``modelRoute`` as ``model`` (and the
route fields ``request_fields`` maps to request parameters), falls back to the flag's
fallback variation on a timeout, a 429, a 5xx or a lost connection when asked to, and
records one exposure with latency, ``promptTokens``, ``completionTokens``, the cost from the
price table and the error, if any. It returns exactly what ``create`` returns (a
``ChatCompletion``, or the client's own ``Stream`` for ``stream=True``) and raises exactly
what it raises, the same exception object. :class:`AsyncModelRouter` is the twin for
``openai.AsyncOpenAI``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Literal, overload

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam
from openfeature.client import OpenFeatureClient

from modelflags.evidence.recorder import Evidence
from modelflags.integrations.openai_routing import (
    FALLBACK_REASONS,
    Context,
    RouteCall,
    Routing,
    failure_reason,
)
from modelflags.integrations.openai_stream import StreamWatch, watch_async_stream, watch_stream
from modelflags.loader.prices import load_prices
from modelflags.schema.prices import PriceTable

__all__ = [
    "FALLBACK_REASONS",
    "AsyncModelRouter",
    "Context",
    "ModelRouter",
    "PriceTable",
    "failure_reason",
    "load_prices",
]

Messages = Iterable[ChatCompletionMessageParam]


class _Router:
    """What both routers share: the settings, checked when the router is made."""

    def __init__(
        self,
        client: Any,
        *,
        flag_key: str,
        evidence: Evidence,
        default_route: Mapping[str, Any],
        flags: OpenFeatureClient | None = None,
        prices: PriceTable | str | os.PathLike[str] | None = None,
        request_fields: Mapping[str, str] | None = None,
        fallback: str | None = None,
        fallback_on: Collection[str] = FALLBACK_REASONS,
        stream_usage: bool = True,
    ) -> None:
        if prices is not None and not isinstance(prices, PriceTable):
            prices = load_prices(prices)
        self.client = client
        self._routing = Routing(
            flag_key=flag_key, evidence=evidence, default_route=default_route, flags=flags,
            prices=prices, request_fields=request_fields or {}, fallback=fallback,
            fallback_on=fallback_on, stream_usage=stream_usage,
        )  # fmt: skip
        self._create: Callable[..., Any] = client.chat.completions.create

    @property
    def flag_key(self) -> str:
        """The route flag evaluated for every call."""
        return self._routing.flag_key

    @property
    def prices(self) -> PriceTable | None:
        """The price table calls are priced from (None: costs are recorded as null)."""
        return self._routing.prices

    def _prepare(self, kwargs: dict[str, Any], stream: bool | None) -> bool:
        """Check the caller's arguments; True when the router asks for the usage chunk."""
        if "model" in kwargs:
            raise TypeError("the route flag chooses the model: call chat() without model=")
        if stream is None:
            return False
        kwargs["stream"] = stream
        hide_usage = stream and self._routing.stream_usage and "stream_options" not in kwargs
        if hide_usage:
            kwargs["stream_options"] = {"include_usage": True}
        return hide_usage

    def _fallback(self, call: RouteCall, error: BaseException) -> bool:
        """Switch ``call`` to the fallback route when ``error`` allows it; else record it."""
        fallback = None
        if isinstance(error, Exception):  # not a cancellation, an interrupt or an exit
            try:
                fallback = self._routing.fallback_route(call, error)
            except Exception:  # deciding must not hide the application's error
                fallback = None
        if fallback is None:
            call.record(error, None, None)
            return False
        reason, route = fallback
        call.fell_back(str(self._routing.fallback), reason, route)
        return True


class ModelRouter(_Router):
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

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        flag_key: str,
        evidence: Evidence,
        default_route: Mapping[str, Any],
        flags: OpenFeatureClient | None = None,
        prices: PriceTable | str | os.PathLike[str] | None = None,
        request_fields: Mapping[str, str] | None = None,
        fallback: str | None = None,
        fallback_on: Collection[str] = FALLBACK_REASONS,
        stream_usage: bool = True,
    ) -> None:
        super().__init__(
            client, flag_key=flag_key, evidence=evidence, default_route=default_route,
            flags=flags, prices=prices, request_fields=request_fields, fallback=fallback,
            fallback_on=fallback_on, stream_usage=stream_usage,
        )  # fmt: skip

    @overload
    def chat(
        self,
        context: Context,
        /,
        *,
        messages: Messages,
        stream: Literal[False] | None = None,
        **kwargs: Any,
    ) -> ChatCompletion: ...

    @overload
    def chat(
        self, context: Context, /, *, messages: Messages, stream: Literal[True], **kwargs: Any
    ) -> openai.Stream[ChatCompletionChunk]: ...

    @overload
    def chat(
        self, context: Context, /, *, messages: Messages, stream: bool, **kwargs: Any
    ) -> ChatCompletion | openai.Stream[ChatCompletionChunk]: ...

    def chat(
        self, context: Context, /, *, messages: Messages, stream: bool | None = None, **kwargs: Any
    ) -> ChatCompletion | openai.Stream[ChatCompletionChunk]:
        """``client.chat.completions.create(messages=..., **kwargs)`` on the unit's route.

        ``context`` is an OpenFeature ``EvaluationContext``, a mapping of its attributes
        (``targetingKey`` among them, if any) or a targeting key. Returns what ``create``
        returns; raises what it raises (after recording it), unchanged.
        """
        hide_usage = self._prepare(kwargs, stream)
        routing = self._routing
        ctx = routing.context(context)
        try:
            details = routing.flags.get_object_details(routing.flag_key, routing.default_route, ctx)
        except Exception as error:
            details = routing.failed_evaluation(error)
        call = routing.start(details, ctx)
        try:
            response = self._create(messages=messages, **call.request(kwargs))
        except BaseException as error:
            if not self._fallback(call, error):  # the error is recorded, and raised unchanged
                raise
            try:
                response = self._create(messages=messages, **call.request(kwargs))
            except BaseException as second:
                call.record(second, None, None)
                raise
        if stream:
            return watch_stream(response, StreamWatch(call, hide_usage=hide_usage))  # type: ignore[no-any-return]
        call.answered(response)
        return response  # type: ignore[no-any-return]


class AsyncModelRouter(_Router):
    """The twin of :class:`ModelRouter` for ``openai.AsyncOpenAI``: ``await router.chat(...)``.

    The flag is evaluated with the OpenFeature client's async API; a streamed answer is the
    client's own ``AsyncStream``.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        flag_key: str,
        evidence: Evidence,
        default_route: Mapping[str, Any],
        flags: OpenFeatureClient | None = None,
        prices: PriceTable | str | os.PathLike[str] | None = None,
        request_fields: Mapping[str, str] | None = None,
        fallback: str | None = None,
        fallback_on: Collection[str] = FALLBACK_REASONS,
        stream_usage: bool = True,
    ) -> None:
        super().__init__(
            client, flag_key=flag_key, evidence=evidence, default_route=default_route,
            flags=flags, prices=prices, request_fields=request_fields, fallback=fallback,
            fallback_on=fallback_on, stream_usage=stream_usage,
        )  # fmt: skip

    @overload
    async def chat(
        self,
        context: Context,
        /,
        *,
        messages: Messages,
        stream: Literal[False] | None = None,
        **kwargs: Any,
    ) -> ChatCompletion: ...

    @overload
    async def chat(
        self, context: Context, /, *, messages: Messages, stream: Literal[True], **kwargs: Any
    ) -> openai.AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def chat(
        self, context: Context, /, *, messages: Messages, stream: bool, **kwargs: Any
    ) -> ChatCompletion | openai.AsyncStream[ChatCompletionChunk]: ...

    async def chat(
        self, context: Context, /, *, messages: Messages, stream: bool | None = None, **kwargs: Any
    ) -> ChatCompletion | openai.AsyncStream[ChatCompletionChunk]:
        """``await client.chat.completions.create(...)`` on the unit's route; see
        :meth:`ModelRouter.chat`."""
        hide_usage = self._prepare(kwargs, stream)
        routing = self._routing
        ctx = routing.context(context)
        try:
            details = await routing.flags.get_object_details_async(
                routing.flag_key, routing.default_route, ctx
            )
        except Exception as error:
            details = routing.failed_evaluation(error)
        call = routing.start(details, ctx)
        try:
            response = await self._create(messages=messages, **call.request(kwargs))
        except BaseException as error:  # CancelledError too: recorded, re-raised
            if not self._fallback(call, error):  # the error is recorded, and raised unchanged
                raise
            try:
                response = await self._create(messages=messages, **call.request(kwargs))
            except BaseException as second:
                call.record(second, None, None)
                raise
        if stream:
            return watch_async_stream(response, StreamWatch(call, hide_usage=hide_usage))  # type: ignore[no-any-return]
        call.answered(response)
        return response  # type: ignore[no-any-return]
