"""Evidence: exposure and outcome events with shared join keys, and the trackers they go to.

Never imports the engine: an event is data, read from evaluation results by duck typing.
"""

from modelflags.evidence.codec import read_events
from modelflags.evidence.dispatcher import OnFull
from modelflags.evidence.events import ROUTE_FIELDS
from modelflags.evidence.exposure import Exposure
from modelflags.evidence.http_tracker import HttpTracker
from modelflags.evidence.jsonl_tracker import JsonlTracker, StdoutTracker, rotated_files
from modelflags.evidence.lookups import FlagLookup
from modelflags.evidence.otel import otel_attributes
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
    "BatchRejected",
    "Event",
    "Evidence",
    "Exposure",
    "FlagLookup",
    "HttpTracker",
    "JsonlTracker",
    "MemoryTracker",
    "OnFull",
    "StdoutTracker",
    "StructlogTracker",
    "Tracker",
    "TrackerUnavailable",
    "otel_attributes",
    "read_events",
    "rotated_files",
    "tracker_from_url",
]
