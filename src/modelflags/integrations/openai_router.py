"""What :class:`~modelflags.integrations.openai.ModelRouter` and its async twin share.

The settings, checked when a router is made; the caller's arguments, checked before any
call; the start of a call (its exposure, on the context the flag was evaluated with); each
attempt's request, messages included; and the decision to fall back. Only the flag
evaluation and the HTTP call differ between the sync and the async router: they are awaited
in one and not in the other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Generic, TypeVar

import openai
from openai.types.chat import ChatCompletionMessageParam
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

from modelflags.evidence.recorder import Evidence
from modelflags.integrations.openai_context import evaluated_context
from modelflags.integrations.openai_routing import FALLBACK_REASONS, RouteCall, Routing
from modelflags.loader.prices import load_prices
from modelflags.schema.prices import PriceTable

__all__ = ["ChatMessages", "MessageBuilder", "Messages", "RouterBase", "messages_for"]

Messages = Iterable[ChatCompletionMessageParam]
"""A chat's messages, as ``client.chat.completions.create`` takes them."""

MessageBuilder = Callable[[dict[str, Any]], Messages]
"""Builds a chat's messages from the route that will answer them (the variation's value,
a copy: ``{"modelRoute": ..., "promptVersion": ..., ...}``)."""

ChatMessages = Messages | MessageBuilder
"""The ``messages=`` of a routed chat: the messages, or a :data:`MessageBuilder`."""


def messages_for(messages: ChatMessages, route: Mapping[str, Any]) -> Messages:
    """The messages of one attempt on ``route``: ``messages`` itself, or what the builder
    makes of the route (called once per attempt, so a fallback gets its own route's)."""
    if callable(messages):
        return messages(dict(route))
    return messages


ClientT = TypeVar("ClientT", openai.OpenAI, openai.AsyncOpenAI)
"""The OpenAI client a router wraps: ``openai.OpenAI`` or ``openai.AsyncOpenAI``."""


class RouterBase(Generic[ClientT]):
    """A router's settings, checked when it is made, and the steps both routers take."""

    def __init__(
        self,
        client: ClientT,
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
        self.client: ClientT = client
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

    def _start(self, details: Any, invocation: EvaluationContext | None) -> RouteCall:
        """The call for an evaluation result; its exposure is on the context the flag was
        evaluated with (global, transaction, client and ``invocation``, merged)."""
        routing = self._routing
        return routing.start(details, evaluated_context(routing.flags, invocation))

    @staticmethod
    def _request(call: RouteCall, messages: ChatMessages, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of one attempt's ``create``, on the call's current route."""
        return {"messages": messages_for(messages, call.route), **call.request(kwargs)}

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
