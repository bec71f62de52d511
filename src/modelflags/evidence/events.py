"""Exposure and outcome events: the wire format the report reads, built cheaply.

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
    "EXPOSURE_KEYS",
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
"""Fields copied from the variation value that ran into its exposure, by default."""

EXPOSURE_KEYS = frozenset({
    "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
    "variation", "assignedVariation", "reason", "rule", "inExperiment", "configVersion",
    "fallbackUsed", "fallbackReason", "latencyMs", "timeToFirstTokenMs", "estimatedCost",
    "promptTokens", "completionTokens", "error", "errorType", "attributes",
})  # fmt: skip
"""The keys of every exposure besides its route fields: no route field may take one."""

_NO_TOKENS: tuple[None, None, None] = (None, None, None)

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
    route_fields: tuple[str, ...],
    route: Mapping[str, Any] | None,
    latency_ms: float | None,
    estimated_cost: float | None,
    tokens: tuple[int | None, int | None, float | None] | None,
    error: bool,
    error_type: str | None,
    attributes: Mapping[str, Any] | None,
) -> Event:
    """An exposure: what actually ran for the unit of an evaluation result (``details``).

    ``fallback`` is the variation that ran instead of the assigned one (None: no fallback);
    ``route`` is (a copy of) the value that ran, when it is an object: its ``route_fields``
    are written as top-level keys, null when absent or when ``route`` is None. ``tokens`` is
    ``(promptTokens, completionTokens, timeToFirstTokenMs)`` of a model call, or None when
    none was recorded (all three null). Positional: the background thread builds one per
    exposure.

    ``inExperiment`` is true only when the flag's own split randomised the unit (reason
    ``SPLIT`` and rule ``split``): a rule with its own split serves targeted traffic, and
    exclusions, rules, eligibility, holdout, schedule, the default and a flag that is off
    do not randomise. An evaluation that failed (an error code) never is in the experiment.
    """
    flag_key, variant, reason, metadata, unit = read_facts(details, context)
    rule = metadata.get("rule")
    event: Event = {
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
        "rule": rule,
        # randomised by the flag's own split (the error code is read only then)
        "inExperiment": (
            reason == "SPLIT" and rule == "split" and getattr(details, "error_code", None) is None
        ),
        "configVersion": metadata.get("configVersion"),
        "fallbackUsed": fallback is not None,
        "fallbackReason": fallback_reason,
    }
    if route is None:  # the value that ran is unknown or not an object
        event.update(dict.fromkeys(route_fields))
    else:
        get = route.get
        for field in route_fields:
            event[field] = get(field)
    prompt_tokens, completion_tokens, first_token_ms = _NO_TOKENS if tokens is None else tokens
    event["latencyMs"] = latency_ms
    event["timeToFirstTokenMs"] = first_token_ms
    event["estimatedCost"] = estimated_cost
    event["promptTokens"] = prompt_tokens
    event["completionTokens"] = completion_tokens
    event["error"] = error
    event["errorType"] = error_type
    event["attributes"] = dict(attributes) if attributes else {}
    return event


def outcome_event(
    name: str,
    details: Any,
    context: Any,
    *,
    value: float | None,
    metrics: Mapping[str, float | bool],
    attributes: Mapping[str, Any],
) -> Event:
    """An outcome: what happened to the unit afterwards, with the exposure's join keys.

    ``variation`` and ``configVersion`` are those of the evaluation the outcome was
    attributed with (for a flag key: evaluated when the outcome was recorded), so after a
    ramp or a rollback they may differ from the unit's exposures: the exposures decide the
    arm, and a differing ``variation`` is a consistency check.
    """
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
        "configVersion": metadata.get("configVersion"),
        "value": value,
        "metrics": dict(metrics),
        "attributes": dict(attributes),
    }
