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
from collections.abc import Callable, Mapping
from typing import Any

from modelflags.evidence.tracker import Event

Build = Callable[[tuple[Any, ...], str], "bytes | Event"]
"""Writes a pending exposure under an event id, in the background thread
(``ExposureLines.line``): its JSON line, or its event dict when a value needs the codec's
repair."""

__all__ = [
    "EXPOSURE_HEAD",
    "EXPOSURE_KEYS",
    "EXPOSURE_TAIL",
    "ROUTE_FIELDS",
    "Build",
    "Facts",
    "exposure_keys",
    "finish",
    "in_experiment",
    "new_event_id",
    "outcome_event",
    "read_facts",
    "rfc3339",
]

ROUTE_FIELDS = ("modelRoute", "promptVersion", "retrievalProfile")
"""Fields copied from the variation value that ran into its exposure, by default."""

EXPOSURE_HEAD = (
    "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
    "variation", "assignedVariation", "reason", "rule", "inExperiment", "configVersion",
    "fallbackUsed", "fallbackReason",
)  # fmt: skip
"""The keys of an exposure before its route fields, in the order they are written."""

EXPOSURE_TAIL = (
    "latencyMs", "timeToFirstTokenMs", "estimatedCost", "promptTokens", "completionTokens",
    "error", "errorType", "attributes",
)  # fmt: skip
"""The keys of an exposure after its route fields, in the order they are written."""

EXPOSURE_KEYS = frozenset(EXPOSURE_HEAD + EXPOSURE_TAIL)
"""The keys of every exposure besides its route fields: no route field may take one."""


def exposure_keys(route_fields: tuple[str, ...]) -> tuple[str, ...]:
    """Every key of an exposure with these route fields, in the order they are written."""
    return EXPOSURE_HEAD + route_fields + EXPOSURE_TAIL


def in_experiment(reason: Any, rule: Any, error_code: Any) -> bool:
    """Whether an evaluation randomised its unit: the flag's own split chose (reason
    ``SPLIT`` and rule ``split``) and the evaluation succeeded (no error code).

    A rule with its own split serves targeted traffic, and exclusions, rules, eligibility,
    holdout, schedule, the default and a flag that is off do not randomise. Exposures and
    assignments alike carry this as ``inExperiment``.
    """
    return reason == "SPLIT" and rule == "split" and error_code is None


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


# The last millisecond and the last second formatted, each replaced whole (one tuple), so a
# thread never reads one's number with another's text. Events recorded at a high rate mostly
# share their millisecond with the one before.
_millisecond: list[tuple[int, str]] = [(-1, "")]
_second: list[tuple[int, str]] = [(-1, "")]
_MILLIS = [f".{millis:03d}Z" for millis in range(1000)]  # the tails, formatted once


def rfc3339(timestamp: float) -> str:
    """Epoch seconds (since 1970) as RFC 3339 UTC, truncated to the millisecond, e.g.
    ``2026-11-22T03:40:12.123Z``."""
    millis = int(timestamp * 1000.0)
    cached, text = _millisecond[0]
    if millis == cached:
        return text
    whole, part = divmod(millis, 1000)
    second, head = _second[0]
    if whole != second:
        head = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second[0] = (whole, head)
    text = head + _MILLIS[part]
    _millisecond[0] = (millis, text)
    return text


def finish(item: Event | tuple[Any, ...], build: Build, event_id: str) -> Event | bytes:
    """Make a queued item ready to write: a pending exposure (a tuple) is written by
    ``build`` under ``event_id``; an event (which has its id) gets an RFC 3339 timestamp."""
    if isinstance(item, tuple):
        return build(item, event_id)
    timestamp = item["timestamp"]
    if type(timestamp) is float:
        item["timestamp"] = rfc3339(timestamp)
    return item


Facts = tuple[Any, Any, Any, Mapping[str, Any], Any]
"""(flag key, variant, reason, flag metadata, unit id) of an evaluation result."""


def read_facts(details: Any, context: Any) -> Facts:
    """What an evaluation result says about its unit, read from OpenFeature
    ``FlagEvaluationDetails`` or a modelflags ``Resolution`` alike (duck-typed, so the
    evidence module needs neither). The unit id comes from the flag metadata, else from
    the context's targeting key. A tuple, not an object: one is read per event.
    """
    try:  # OpenFeature's details, the usual case: plain attribute reads
        metadata = details.flag_metadata
        flag_key, variant, reason = details.flag_key, details.variant, details.reason
    except AttributeError:
        metadata = getattr(details, "flag_metadata", None)
        flag_key = getattr(details, "flag_key", None)
        variant = getattr(details, "variant", None)
        reason = getattr(details, "reason", None)
    if metadata is None:
        metadata = getattr(details, "metadata", None) or {}
    unit = metadata.get("unitId")
    if unit is None and context is not None:
        unit = getattr(context, "targeting_key", None)
        if unit is None and isinstance(context, Mapping):
            unit = context.get("targetingKey")
    return (
        flag_key,
        variant,
        reason if reason is None or type(reason) is str else str(reason),
        metadata,
        unit if unit is None or type(unit) is str else str(unit),
    )


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
