"""OpenTelemetry naming, in one place: the semantic-convention attributes of a flag evaluation.

Two things speak OpenTelemetry, and both take their attributes from here:

* the OpenFeature hook (:class:`modelflags.integrations.otel.OtelHook`) adds a
  ``feature_flag.evaluation`` span event per evaluation (:func:`evaluation_attributes`);
* the OTel tracker (:class:`modelflags.evidence.otel_tracker.OtelTracker`) sends every
  evidence event as an OTel log record (:func:`otel_attributes`, :func:`log_event_name`).

For users who already ship OpenTelemetry, the attributes of an exposure event can also be
attached by hand::

    span.add_event("feature_flag.evaluation", otel_attributes(event))

Pure data in, plain dicts out: nothing here imports OpenTelemetry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from modelflags.evidence.events import read_facts

__all__ = [
    "EVENT_NAME",
    "OUTCOME_EVENT_NAME",
    "PROVIDER_NAME",
    "evaluation_attributes",
    "log_event_name",
    "otel_attributes",
]

EVENT_NAME = "feature_flag.evaluation"
"""The semantic-convention name of a flag evaluation event."""

PROVIDER_NAME = "modelflags"
"""``feature_flag.provider.name`` of this provider's evaluations and events."""

_MAPPING = (
    ("feature_flag.key", "flagKey"),
    ("feature_flag.result.variant", "variation"),
    ("feature_flag.context.id", "unitId"),
    ("feature_flag.set.id", "experimentKey"),
    ("feature_flag.version", "configVersion"),
    ("feature_flag.result.reason", "reason"),
)
"""Semantic-convention attribute ← event key. Reasons are written in lower case."""

_LOG_EVENT_NAMES = {"exposure": "modelflags.exposure", "assignment": "modelflags.assignment"}
OUTCOME_EVENT_NAME = "modelflags.outcome"
"""The log record event name of every outcome (its own name is ``modelflags.event.name``)."""


def _semantic(fields: Mapping[str, Any], provider_name: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"feature_flag.provider.name": provider_name}
    for otel_key, key in _MAPPING:
        value = fields.get(key)
        if value is not None:
            attributes[otel_key] = str(value).lower() if key == "reason" else str(value)
    return attributes


def otel_attributes(event: Mapping[str, Any]) -> dict[str, str]:
    """OTel attributes of an exposure event; absent fields are left out.

    ``feature_flag.result.variant`` is what actually ran (after a fallback);
    ``feature_flag.context.id`` is the unit id, ``feature_flag.set.id`` the experiment key,
    ``feature_flag.version`` the config hash, ``feature_flag.result.reason`` the reason in
    lower case. Assignment and outcome events map alike (an outcome has no reason).
    """
    return _semantic(event, PROVIDER_NAME)


def evaluation_attributes(
    details: Any,
    context: Any = None,
    *,
    provider_name: str | None = None,
    include_value: bool = False,
) -> dict[str, Any]:
    """The ``feature_flag.evaluation`` attributes of one evaluation result.

    ``details`` is an OpenFeature ``FlagEvaluationDetails`` or a modelflags ``Resolution``
    (read by duck typing). The context id is the unit id from the flag metadata, else the
    context's targeting key. A failed evaluation adds ``error.type`` (its error code in lower
    case, e.g. ``flag_not_found``) and ``feature_flag.error.message``. The value
    (``feature_flag.result.value``) is left out unless ``include_value``: values may be large
    or sensitive; an object is written as its JSON text.
    """
    flag_key, variant, reason, metadata, unit = read_facts(details, context)
    fields = {
        "flagKey": flag_key,
        "variation": variant,
        "unitId": unit,
        "experimentKey": metadata.get("experimentKey"),
        "configVersion": metadata.get("configVersion"),
        "reason": reason,
    }
    attributes = _semantic(fields, provider_name or PROVIDER_NAME)
    error_code = getattr(details, "error_code", None)
    if error_code is not None:
        attributes["error.type"] = str(error_code).lower()
        message = getattr(details, "error_message", None)
        if message:
            attributes["feature_flag.error.message"] = str(message)
    if include_value:
        value = _attribute_value(getattr(details, "value", None))
        if value is not None:
            attributes["feature_flag.result.value"] = value
    return attributes


def log_event_name(event: Mapping[str, Any]) -> str:
    """The OTel log record event name of an evidence event: ``modelflags.exposure``,
    ``modelflags.assignment``, or ``modelflags.outcome`` for every outcome (a collector
    routes on few names; the outcome's own name travels as ``modelflags.event.name``)."""
    return _LOG_EVENT_NAMES.get(str(event.get("event")), OUTCOME_EVENT_NAME)


def _attribute_value(value: Any) -> str | bool | int | float | None:
    """An OTel attribute value: text, a boolean or a finite number as they are, anything
    else as its JSON text (keys sorted); None when there is nothing to write."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        return json.dumps(value, sort_keys=True, default=str, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return str(value)
