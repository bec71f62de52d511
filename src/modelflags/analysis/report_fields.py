"""Reading the report's JSON defensively, for the renderings.

The renderings read the report dict that :func:`~modelflags.analysis.report.build_report`
returns, or one read back from a file, which another program may have written or cut short.
Every read here tolerates that: a missing key, a null or a value of the wrong type gives None
or nothing, never an exception, so a rendering shows ``—`` where a value is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelflags.analysis.number_format import text

__all__ = [
    "arm_name",
    "as_list",
    "as_mapping",
    "field",
    "mappings",
    "metric_kind",
    "primary_metric",
]


def field(value: Any, key: Any) -> Any:
    """``value[key]`` when ``value`` is a mapping and ``key`` a string, else None."""
    return value.get(key) if isinstance(value, Mapping) and isinstance(key, str) else None


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The mappings in ``value`` when it is a list, else nothing."""
    return [item for item in as_list(value) if isinstance(item, Mapping)]


def primary_metric(report: Any) -> Any:
    """The name of the metric the test decides on, as the report gives it."""
    return field(field(report, "test"), "primaryMetric")


def arm_name(report: Any, arm: Mapping[str, Any]) -> str:
    """An arm's name as people read it: the control marked, unless its name says so."""
    control = field(report, "control")
    marked = arm.get("variation") == control and control != "control"
    return text(arm.get("variation")) + (" (control)" if marked else "")


def metric_kind(report: Mapping[str, Any], metric: Any) -> str:
    """``rate``, ``ms``, ``cost`` or ``number``: how a metric's values read."""
    if not isinstance(metric, str):
        return "number"
    if metric in ("error", "fallback"):
        return "rate"
    if metric == "latency_ms":
        return "ms"
    if metric == "cost":
        return "cost"
    for arm in mappings(report.get("arms")):
        if as_mapping(field(arm.get("metrics"), metric)).get("type") == "binary":
            return "rate"
    return "number"


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` as a list when it is a list or a tuple, else an empty one."""
    return list(value) if isinstance(value, (list, tuple)) else []
