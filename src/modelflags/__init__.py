"""modelflags: A/B test AI model routes with feature flags declared in YAML.

Flags are evaluated through the standard OpenFeature client with
:class:`ModelFlagsProvider`, or directly with :func:`load_flags` for hot loops.

The library logs through :mod:`logging` under the ``modelflags`` logger and adds no handler
but a :class:`logging.NullHandler`: the application decides level, handler and destination.
"""

import logging

from modelflags.engine.flagset import FlagSet
from modelflags.engine.resolution import ErrorCode, Reason, Resolution
from modelflags.errors import FlagFileError, Issue, ModelFlagsError, SourceError
from modelflags.evidence import (
    BatchRejected,
    Evidence,
    HttpTracker,
    JsonlTracker,
    MemoryTracker,
    StdoutTracker,
    StructlogTracker,
    Tracker,
    TrackerUnavailable,
    otel_attributes,
    read_events,
    tracker_from_url,
)
from modelflags.provider import ModelFlagsProvider
from modelflags.store import load_flags

__all__ = [
    "BatchRejected",
    "ErrorCode",
    "Evidence",
    "FlagFileError",
    "FlagSet",
    "HttpTracker",
    "Issue",
    "JsonlTracker",
    "MemoryTracker",
    "ModelFlagsError",
    "ModelFlagsProvider",
    "Reason",
    "Resolution",
    "SourceError",
    "StdoutTracker",
    "StructlogTracker",
    "Tracker",
    "TrackerUnavailable",
    "load_flags",
    "otel_attributes",
    "read_events",
    "tracker_from_url",
]

__version__ = "0.1.0"

logging.getLogger("modelflags").addHandler(logging.NullHandler())
