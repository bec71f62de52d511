"""modelflags: A/B test AI model routes with feature flags declared in YAML.

Flags are evaluated through the standard OpenFeature client with
:class:`ModelFlagsProvider`, or directly with :func:`load_flags` for hot loops.

The library logs through :mod:`logging` under the ``modelflags`` logger and adds no handler
but a :class:`logging.NullHandler`: the application decides level, handler and destination.

Importing the package is cheap: each public name is imported on first use (PEP 562), so a
service that only evaluates flags never imports OpenFeature, and one that never reads a URL
never imports ``httpx``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from modelflags._exports import lazy_exports

if TYPE_CHECKING:
    from modelflags.engine.flagset import FlagSet
    from modelflags.engine.resolution import ErrorCode, Reason, Resolution
    from modelflags.errors import FlagFileError, Issue, ModelFlagsError, SourceError
    from modelflags.evidence import (
        BatchRejected,
        Evidence,
        HttpTracker,
        JsonlProcessTracker,
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
    "JsonlProcessTracker",
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

_EVIDENCE = "modelflags.evidence"
_HOMES = {
    "FlagSet": "modelflags.engine.flagset",
    "ErrorCode": "modelflags.engine.resolution",
    "Reason": "modelflags.engine.resolution",
    "Resolution": "modelflags.engine.resolution",
    "FlagFileError": "modelflags.errors",
    "Issue": "modelflags.errors",
    "ModelFlagsError": "modelflags.errors",
    "SourceError": "modelflags.errors",
    "BatchRejected": _EVIDENCE,
    "Evidence": _EVIDENCE,
    "HttpTracker": _EVIDENCE,
    "JsonlProcessTracker": _EVIDENCE,
    "JsonlTracker": _EVIDENCE,
    "MemoryTracker": _EVIDENCE,
    "StdoutTracker": _EVIDENCE,
    "StructlogTracker": _EVIDENCE,
    "Tracker": _EVIDENCE,
    "TrackerUnavailable": _EVIDENCE,
    "otel_attributes": _EVIDENCE,
    "read_events": _EVIDENCE,
    "tracker_from_url": _EVIDENCE,
    "ModelFlagsProvider": "modelflags.provider",
    "load_flags": "modelflags.store",
}
"""Each public name → the module it is imported from on first use."""


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)


logging.getLogger("modelflags").addHandler(logging.NullHandler())
