"""``AsyncModelRouter``: :class:`~modelflags.integrations.openai.ModelRouter` for
``openai.AsyncOpenAI``, the flag evaluated with OpenFeature's async API and the call awaited.

Import it from :mod:`modelflags.integrations.openai`.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from modelflags.integrations.openai_context import Context, invocation_context
from modelflags.integrations.openai_router import ChatMessages, RouterBase
from modelflags.integrations.openai_routing import RouteCall
from modelflags.integrations.openai_served import ServedRoute
from modelflags.integrations.openai_stream import StreamWatch, watch_async_stream

__all__ = ["AsyncModelRouter"]

AsyncCompletion = ChatCompletion | openai.AsyncStream[ChatCompletionChunk]


class AsyncModelRouter(RouterBase[openai.AsyncOpenAI]):
    """The twin of ``ModelRouter`` for ``openai.AsyncOpenAI``: ``await router.chat(...)``.

    It takes the same settings. The flag is evaluated with the OpenFeature client's async
    API; a streamed answer is the client's own ``AsyncStream``.
    """

    @overload
    async def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[False] | None = None,
        **kwargs: Any,
    ) -> ChatCompletion: ...

    @overload
    async def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[True],
        **kwargs: Any,
    ) -> openai.AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool,
        **kwargs: Any,
    ) -> AsyncCompletion: ...

    async def chat(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool | None = None,
        **kwargs: Any,
    ) -> AsyncCompletion:
        """``await client.chat.completions.create(...)`` on the unit's route; the arguments
        are those of ``ModelRouter.chat`` (``context`` left out: the transaction context)."""
        return (await self._run(context, messages, stream, kwargs))[0]  # type: ignore[no-any-return]

    @overload
    async def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[False] | None = None,
        **kwargs: Any,
    ) -> tuple[ChatCompletion, ServedRoute]: ...

    @overload
    async def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: Literal[True],
        **kwargs: Any,
    ) -> tuple[openai.AsyncStream[ChatCompletionChunk], ServedRoute]: ...

    @overload
    async def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool,
        **kwargs: Any,
    ) -> tuple[AsyncCompletion, ServedRoute]: ...

    async def chat_with_route(
        self,
        context: Context | None = None,
        /,
        *,
        messages: ChatMessages,
        stream: bool | None = None,
        **kwargs: Any,
    ) -> tuple[AsyncCompletion, ServedRoute]:
        """:meth:`chat`, and the :class:`ServedRoute` that answered (for a stream: the route
        its response started on)."""
        response, call = await self._run(context, messages, stream, kwargs)
        return response, call.served()

    async def _run(
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
            details = await routing.flags.get_object_details_async(
                routing.flag_key, routing.default_route, invocation
            )
        except Exception as error:
            details = routing.failed_evaluation(error)
        call = self._start(details, invocation)
        try:
            response = await self._create(**self._request(call, messages, kwargs))
        except BaseException as error:  # CancelledError too: recorded, re-raised
            if not self._fallback(call, error):  # the error is recorded, and raised unchanged
                raise
            try:
                response = await self._create(**self._request(call, messages, kwargs))
            except BaseException as second:
                call.record(second, None, None)
                raise
        if stream:
            return watch_async_stream(response, StreamWatch(call, hide_usage=hide_usage)), call
        call.answered(response)
        return response, call
