"""Exposure and outcome events: the wire format of DESIGN section 4, built cheaply.

On the request path an event is a plain dict with a float ``timestamp``; the dispatcher's
background thread turns it into RFC 3339 text (:func:`finish`), so formatting dates costs the
application nothing. Every event carries the same join keys as the flag evaluation it came
from: ``flagKey``, ``experimentKey``, ``assignmentUnit``, ``unitId``, ``variation``.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from typing import Any, Protocol

from modelflags.evidence.tracker import Event

__all__ = [
    "ROUTE_FIELDS",
    "Facts",
    "Pending",
    "exposure_event",
    "finish",
    "new_event_id",
    "outcome_event",
    "read_facts",
    "rfc3339",
]

ROUTE_FIELDS = ("modelRoute", "promptVersion", "retrievalProfile")
"""Fields copied from the variation value that ran into its exposure."""

_prefix = os.urandom(6).hex()
_counter = itertools.count(1)


def _reseed() -> None:  # a forked worker must not repeat its parent's ids
    global _prefix, _counter
    _prefix, _counter = os.urandom(6).hex(), itertools.count(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed)


def new_event_id() -> str:
    """A unique event id: 48 random bits per process, then a counter (for de-duplication)."""
    return f"{_prefix}-{next(_counter):x}"


_second: list[tuple[int, str]] = [(-1, "")]  # the last second formatted, for reuse
_MILLIS = [f".{millis:03d}Z" for millis in range(1000)]  # the tails, formatted once


def rfc3339(timestamp: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds, e.g. ``2026-11-22T03:40:12.123Z``."""
    whole = int(timestamp // 1)
    cached, text = _second[0]
    if whole != cached:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second[0] = (whole, text)
    millis = int((timestamp - whole) * 1000)
    return text + _MILLIS[millis if millis < 1000 else 999]


class Pending(Protocol):
    """A queued record that becomes an event in the background thread."""

    def to_event(self) -> Event:
        """The finished event."""
        ...


def finish(item: Event | Pending) -> Event:
    """Make a queued item ready to write: build it if pending; timestamps as RFC 3339."""
    event = item if type(item) is dict else item.to_event()  # type: ignore[union-attr]
    timestamp = event["timestamp"]
    if type(timestamp) is float:
        event["timestamp"] = rfc3339(timestamp)
    return event


Facts = tuple[Any, Any, Any, Mapping[str, Any], Any]
"""(flag key, variant, reason, flag metadata, unit id) of an evaluation result."""


def read_facts(details: Any, context: Any) -> Facts:
    """What an evaluation result says about its unit, read from OpenFeature
    ``FlagEvaluationDetails`` or a modelflags ``Resolution`` alike (duck-typed, so the
    evidence module needs neither). The unit id comes from the flag metadata, else from
    the context's targeting key. A tuple, not an object: one is read per event.
    """
    metadata = getattr(details, "flag_metadata", None)
    if metadata is None:
        metadata = getattr(details, "metadata", None) or {}
    unit = metadata.get("unitId")
    if unit is None and context is not None:
        unit = getattr(context, "targeting_key", None)
        if unit is None and isinstance(context, Mapping):
            unit = context.get("targetingKey")
    reason = getattr(details, "reason", None)
    return (
        getattr(details, "flag_key", None),
        getattr(details, "variant", None),
        None if reason is None else str(reason),
        metadata,
        None if unit is None else str(unit),
    )


def exposure_event(  # noqa: PLR0917 -- positional on purpose: one call per exposure
    details: Any,
    context: Any,
    timestamp: float,
    fallback: str | None,
    fallback_reason: str | None,
    route: tuple[Any, Any, Any],
    latency_ms: float | None,
    estimated_cost: float | None,
    error: bool,
    error_type: str | None,
    attributes: Mapping[str, Any] | None,
) -> Event:
    """An exposure: what actually ran for the unit of an evaluation result (``details``).

    ``fallback`` is the variation that ran instead of the assigned one (None: no fallback);
    ``route`` holds the ``modelRoute``, ``promptVersion`` and ``retrievalProfile`` of the
    value that ran. Positional, because the background thread builds one per exposure.
    """
    flag_key, variant, reason, metadata, unit = read_facts(details, context)
    return {
        "event": "exposure",
        "eventId": f"{_prefix}-{next(_counter):x}",  # new_event_id(), inlined
        "timestamp": rfc3339(timestamp),
        "flagKey": flag_key,
        "experimentKey": metadata.get("experimentKey"),
        "assignmentUnit": metadata.get("assignmentUnit"),
        "unitId": unit,
        "variation": variant if fallback is None else fallback,
        "assignedVariation": variant,
        "reason": reason,
        "configVersion": metadata.get("configVersion"),
        "fallbackUsed": fallback is not None,
        "fallbackReason": fallback_reason,
        "modelRoute": route[0],
        "promptVersion": route[1],
        "retrievalProfile": route[2],
        "latencyMs": latency_ms,
        "estimatedCost": estimated_cost,
        "error": error,
        "errorType": error_type,
        "attributes": dict(attributes) if attributes else {},
    }


def outcome_event(
    name: str,
    details: Any,
    context: Any,
    *,
    value: float | None,
    metrics: Mapping[str, float | bool],
    attributes: Mapping[str, Any],
) -> Event:
    """An outcome: what happened to the unit afterwards, with the exposure's join keys."""
    flag_key, variant, _, metadata, unit = read_facts(details, context)
    return {
        "event": name,
        "eventId": new_event_id(),
        "timestamp": time.time(),
        "flagKey": flag_key,
        "experimentKey": metadata.get("experimentKey"),
        "assignmentUnit": metadata.get("assignmentUnit"),
        "unitId": unit,
        "variation": variant,
        "value": value,
        "metrics": dict(metrics),
        "attributes": dict(attributes),
    }
