"""Evidence: exposure and outcome events with shared join keys, and the trackers they go to.

Never imports the engine: an event is data, read from evaluation results by duck typing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelflags._exports import lazy_exports

if TYPE_CHECKING:
    from modelflags.evidence.assignment import Assignments, assignment_event
    from modelflags.evidence.codec import read_events
    from modelflags.evidence.dispatcher import OnFull
    from modelflags.evidence.events import ROUTE_FIELDS
    from modelflags.evidence.exposure import Exposure
    from modelflags.evidence.http_tracker import HttpTracker
    from modelflags.evidence.jsonl_process import JsonlProcessTracker
    from modelflags.evidence.jsonl_tracker import JsonlTracker, StdoutTracker, rotated_files
    from modelflags.evidence.lookups import FlagLookup
    from modelflags.evidence.otel import evaluation_attributes, otel_attributes
    from modelflags.evidence.otel_tracker import OtelTracker
    from modelflags.evidence.recorder import ENV_VAR, Evidence
    from modelflags.evidence.structlog_tracker import StructlogTracker
    from modelflags.evidence.tracker import (
        BatchRejected,
        Event,
        MemoryTracker,
        Tracker,
        TrackerUnavailable,
    )
    from modelflags.evidence.urls import tracker_from_url

__all__ = [
    "ENV_VAR",
    "ROUTE_FIELDS",
    "Assignments",
    "BatchRejected",
    "Event",
    "Evidence",
    "Exposure",
    "FlagLookup",
    "HttpTracker",
    "JsonlProcessTracker",
    "JsonlTracker",
    "MemoryTracker",
    "OnFull",
    "OtelTracker",
    "StdoutTracker",
    "StructlogTracker",
    "Tracker",
    "TrackerUnavailable",
    "assignment_event",
    "evaluation_attributes",
    "otel_attributes",
    "read_events",
    "rotated_files",
    "tracker_from_url",
]

_HOMES = {
    "Assignments": ".assignment",
    "assignment_event": ".assignment",
    "read_events": ".codec",
    "OnFull": ".dispatcher",
    "ROUTE_FIELDS": ".events",
    "Exposure": ".exposure",
    "HttpTracker": ".http_tracker",
    "JsonlProcessTracker": ".jsonl_process",
    "JsonlTracker": ".jsonl_tracker",
    "StdoutTracker": ".jsonl_tracker",
    "rotated_files": ".jsonl_tracker",
    "FlagLookup": ".lookups",
    "evaluation_attributes": ".otel",
    "otel_attributes": ".otel",
    "OtelTracker": ".otel_tracker",
    "ENV_VAR": ".recorder",
    "Evidence": ".recorder",
    "StructlogTracker": ".structlog_tracker",
    "BatchRejected": ".tracker",
    "Event": ".tracker",
    "MemoryTracker": ".tracker",
    "Tracker": ".tracker",
    "TrackerUnavailable": ".tracker",
    "tracker_from_url": ".urls",
}
"""Each public name → the module of this package that defines it (imported on first use, so
``import modelflags.evidence`` does not import ``httpx``, ``structlog`` or OpenTelemetry)."""


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
