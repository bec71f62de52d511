"""What the evidence did, read back the way the evidence tests check it: the one exposure a
memory tracker holds, the warnings logged on the ``modelflags.evidence`` logger (from
``caplog``), and the details each warning carries (given to the logger as ``extra=``)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from modelflags import Evidence, MemoryTracker


def only_exposure(evidence: Evidence, memory: MemoryTracker) -> dict[str, Any]:
    """The one exposure delivered to ``memory`` once everything recorded was flushed."""
    assert evidence.flush()
    (event,) = memory.of("exposure")
    return event


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The warnings the evidence logged."""
    return [
        entry
        for entry in caplog.records
        if entry.name == "modelflags.evidence" and entry.levelno == logging.WARNING
    ]


def detail(entry: logging.LogRecord, name: str) -> Any:
    """A detail the record carries as an attribute (given in ``extra=``)."""
    return entry.__dict__[name]
