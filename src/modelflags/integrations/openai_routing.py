"""What a routed chat completion does besides the HTTP call: the route, the request, the record.

:class:`Routing` holds a router's settings (the flag, the evidence, the prices, which route
fields become request parameters, the fallback) and :class:`RouteCall` one call's state:
the evaluation, the route that runs, the exposure being recorded and when the call started.
The sync and async routers (:mod:`modelflags.integrations.openai`) share all of it; only the
HTTP call and the flag evaluation differ between them.

Nothing here raises into the application: a failed evaluation serves the default route, a
failed recording is logged (logger ``modelflags.integrations.openai``), and only the client's
own exceptions reach the caller, unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from types import SimpleNamespace
from typing import Any

import openai
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

from modelflags.evidence.exposure import Exposure, count
from modelflags.evidence.lookups import ask, live_lookups
from modelflags.evidence.recorder import Evidence
from modelflags.integrations.openai_served import ServedRoute
from modelflags.provider import ModelFlagsProvider
from modelflags.schema.prices import PriceTable

__all__ = [
    "FALLBACK_REASONS",
    "ROUTE_FIELD",
    "RouteCall",
    "Routing",
    "failure_reason",
    "usage_count",
]

log = logging.getLogger("modelflags.integrations.openai")

ROUTE_FIELD = "modelRoute"
"""The route field that names the model: always sent as the request's ``model``."""

FALLBACK_REASONS = ("timeout", "rate_limited", "server_error", "connection_error")
"""The failures a router may fall back on, as they are written to ``fallbackReason``."""

_RESERVED = frozenset({"model", "messages", "stream"})
"""Request parameters a route field may not set: the route's model, the app's messages."""


def failure_reason(error: BaseException) -> str | None:
    """Why a call failed, when it is worth trying another route; None for anything else.

    A timeout, a 429, a 5xx and a lost connection are the server's trouble (after the
    client's own retries); a 400, 401, 403, 404 or 422 is the request's, and another route
    would fail the same way.
    """
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.RateLimitError):
        return "rate_limited"
    if isinstance(error, openai.APIStatusError):
        return "server_error" if error.status_code >= 500 else None
    if isinstance(error, openai.APIConnectionError):
        return "connection_error"
    return None


class Routing:
    """A router's settings, checked once; and the warnings it gives once each."""

    def __init__(
        self,
        *,
        flag_key: str,
        evidence: Evidence,
        default_route: Mapping[str, Any],
        flags: OpenFeatureClient | None,
        prices: PriceTable | None,
        request_fields: Mapping[str, str],
        fallback: str | None,
        fallback_on: Collection[str],
        stream_usage: bool,
    ) -> None:
        if not isinstance(default_route.get(ROUTE_FIELD), str):
            raise ValueError(f"default_route needs a text '{ROUTE_FIELD}' (the model to call)")
        for field, parameter in request_fields.items():
            if field == ROUTE_FIELD or parameter in _RESERVED:
                raise ValueError(
                    f"request_fields maps {field!r} to {parameter!r}; '{ROUTE_FIELD}' is "
                    f"always the model, and {sorted(_RESERVED)} are not route parameters"
                )
        unknown = sorted(set(fallback_on) - set(FALLBACK_REASONS))
        if unknown:
            raise ValueError(f"fallback_on {unknown} unknown; known: {list(FALLBACK_REASONS)}")
        if flags is None:
            from openfeature import api

            flags = api.get_client()
        self.flag_key = flag_key
        self.evidence = evidence
        self.default_route = dict(default_route)
        self.flags = flags
        self.prices = prices
        self.request_fields = tuple(request_fields.items())
        self.fallback = fallback
        self.fallback_on = frozenset(fallback_on) if fallback is not None else frozenset()
        self.stream_usage = stream_usage
        self._warned: set[tuple[str, str]] = set()

    # -- evaluation ------------------------------------------------------------------------

    def failed_evaluation(self, error: BaseException) -> Any:
        """What stands for an evaluation that raised: the default route, as an error."""
        log.error(
            "evaluating %r failed: %r", self.flag_key, error, extra={"flag_key": self.flag_key}
        )
        return SimpleNamespace(
            flag_key=self.flag_key, value=self.default_route, variant=None, reason="ERROR",
            error_code="GENERAL", flag_metadata={},
        )  # fmt: skip

    def start(self, details: Any, context: EvaluationContext) -> RouteCall:
        """One call for an evaluation result: its route checked, its exposure begun."""
        try:
            exposure = self.evidence.exposure(details, context)
        except Exception as error:  # pragma: no cover - Evidence.exposure only stores
            log.error("starting an exposure failed: %r", error)
            exposure = None
        call = RouteCall(self, details, exposure)
        value = getattr(details, "value", None)
        if isinstance(value, Mapping) and isinstance(value.get(ROUTE_FIELD), str):
            call.route = value
        else:
            variant = str(getattr(details, "variant", None))
            self.warn_once(
                "invalid-route", variant,
                f"flag {self.flag_key!r} served variation {variant!r} without a text "
                f"'{ROUTE_FIELD}': the default route ran, recorded as a fallback "
                "(reason invalid_route)",
            )  # fmt: skip
            call.route = self.default_route
            call.fell_back(variant, "invalid_route", self.default_route)
        return call

    # -- fallback --------------------------------------------------------------------------

    def fallback_route(self, call: RouteCall, error: BaseException) -> tuple[str, Any] | None:
        """(reason, route) of the fallback for a failed first call; None: no fallback."""
        reason = failure_reason(error)
        name = self.fallback
        if reason is None or reason not in self.fallback_on or name is None or call.fell:
            return None
        if getattr(call.details, "variant", None) == name:
            return None  # the fallback is what just failed
        value = self._variation_value(name)
        if not (isinstance(value, Mapping) and isinstance(value.get(ROUTE_FIELD), str)):
            self.warn_once(
                "no-fallback", name,
                f"flag {self.flag_key!r} has no variation {name!r} with a text "
                f"'{ROUTE_FIELD}' that a live provider can tell: failures are not retried on it",
            )  # fmt: skip
            return None
        if dict(value) == dict(call.route):
            return None  # the same route again would fail the same way
        return reason, value

    def _variation_value(self, name: str) -> Any:
        provider = getattr(self.flags, "provider", None)
        if isinstance(provider, ModelFlagsProvider):
            return provider.variation_value(self.flag_key, name)
        answer = ask(live_lookups(), lambda lookup: lookup.variation_value(self.flag_key, name),
                     lambda value: value)  # fmt: skip
        return answer.value

    # -- pricing ---------------------------------------------------------------------------

    def cost(self, model: str, prompt: int | None, completion: int | None) -> float | None:
        """The call's cost from the price table; None (warned once per route) when unpriced."""
        prices = self.prices
        if prices is None:
            return None
        if model not in prices:
            where = prices.file or "the price table"
            self.warn_once(
                "unpriced", model,
                f"model route {model!r} has no price in {where}: its calls are recorded "
                "with estimatedCost null",
            )  # fmt: skip
            return None
        if prompt is None or completion is None:
            self.warn_once(
                "no-usage", model,
                f"answers from {model!r} carry no token usage: promptTokens, "
                "completionTokens and estimatedCost are recorded as null",
            )  # fmt: skip
            return None
        return prices.cost(model, prompt, completion)

    def warn_once(self, problem: str, subject: str, message: str) -> None:
        """Log ``message`` as a warning the first time ``(problem, subject)`` happens."""
        if (problem, subject) not in self._warned:
            self._warned.add((problem, subject))
            log.warning(message, extra={"flag_key": self.flag_key, "problem": problem})


class RouteCall:
    """One routed call: the route that runs, and its exposure, sent exactly once."""

    route: Mapping[str, Any]
    fell = False
    fallback_reason: str | None = None

    def __init__(self, routing: Routing, details: Any, exposure: Exposure | None) -> None:
        self.routing = routing
        self.details = details
        self.exposure = exposure
        self.variation: str | None = getattr(details, "variant", None)
        self.start = time.perf_counter()

    def request(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``create``: the caller's, with the route's fields over
        them and the route's model."""
        route = self.route
        request = dict(kwargs)
        for field, parameter in self.routing.request_fields:
            value = route.get(field)
            if value is not None:
                request[parameter] = value
        request["model"] = route[ROUTE_FIELD]
        return request

    def fell_back(self, variation: str, reason: str, route: Mapping[str, Any]) -> None:
        """The route that runs is now ``route`` (variation ``variation``), for ``reason``."""
        self.fell = True
        self.route = route
        self.variation, self.fallback_reason = variation, reason
        if self.exposure is not None:
            self.exposure.fallback(variation, reason=reason, value=dict(route))

    def served(self) -> ServedRoute:
        """The route that runs now, and how it came to: what the exposure records of it."""
        details = self.details
        reason = getattr(details, "reason", None)
        return ServedRoute(
            flag_key=self.routing.flag_key, assigned_variation=getattr(details, "variant", None),
            served_variation=self.variation, model_route=str(self.route[ROUTE_FIELD]),
            route=self.route, fallback_used=self.fell, fallback_reason=self.fallback_reason,
            reason=None if reason is None else str(reason),
        )  # fmt: skip

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000.0

    def answered(self, response: Any) -> None:
        """Record a completion: latency, its usage and its cost."""
        usage = getattr(response, "usage", None)
        self.record(
            None, usage_count(usage, "prompt_tokens"), usage_count(usage, "completion_tokens")
        )

    def record(
        self,
        error: BaseException | None,
        prompt: int | None,
        completion: int | None,
        first_token_ms: float | None = None,
        **attributes: Any,
    ) -> None:
        """Send the exposure (never raises): what ran, how long, its tokens, cost, error."""
        exposure = self.exposure
        if exposure is None:
            return
        try:
            self.exposure = None  # once
            cost = None
            if error is None:
                cost = self.routing.cost(str(self.route[ROUTE_FIELD]), prompt, completion)
            exposure.record(
                latency_ms=self.elapsed_ms(), estimated_cost=cost, prompt_tokens=prompt,
                completion_tokens=completion, time_to_first_token_ms=first_token_ms,
                error_type=None if error is None else type(error).__name__, **attributes,
            )  # fmt: skip
        except Exception as problem:
            log.error("recording an exposure failed: %r", problem)


def usage_count(usage: Any, name: str) -> int | None:
    """A token count of a ``usage`` object (None when absent or not a count)."""
    return count(getattr(usage, name, None))
