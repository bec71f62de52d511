"""OpenTelemetry naming for exposures: the ``feature_flag.evaluation`` event's attributes.

For users who already ship OpenTelemetry: attach these attributes to a span event named
``feature_flag.evaluation`` (semantic conventions for feature flags)::

    span.add_event("feature_flag.evaluation", otel_attributes(event))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EVENT_NAME", "otel_attributes"]

EVENT_NAME = "feature_flag.evaluation"

_MAPPING = (
    ("feature_flag.key", "flagKey"),
    ("feature_flag.result.variant", "variation"),
    ("feature_flag.context.id", "unitId"),
    ("feature_flag.set.id", "experimentKey"),
    ("feature_flag.version", "configVersion"),
    ("feature_flag.result.reason", "reason"),
)


def otel_attributes(event: Mapping[str, Any]) -> dict[str, str]:
    """OTel attributes of an exposure event; absent fields are left out.

    ``feature_flag.result.variant`` is what actually ran (after a fallback);
    ``feature_flag.set.id`` is the experiment key, ``feature_flag.version`` the config hash.
    """
    attributes = {"feature_flag.provider.name": "modelflags"}
    for otel_key, key in _MAPPING:
        value = event.get(key)
        if value is not None:
            attributes[otel_key] = str(value).lower() if key == "reason" else str(value)
    return attributes
