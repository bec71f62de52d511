"""Events as structlog log entries: for services whose logs already are the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from modelflags.evidence.tracker import Event

__all__ = ["StructlogTracker"]


class StructlogTracker:
    """Logs each event at ``info`` with the event's fields as key-value pairs.

    The log entry's message is ``modelflags.<event name>`` (``modelflags.exposure``); the
    event's own ``event`` field is renamed ``eventName`` (structlog reserves ``event``).
    """

    def __init__(self, logger: Any = None) -> None:
        self.logger = logger if logger is not None else structlog.get_logger("modelflags.evidence")

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        for event in events:
            fields = dict(event)
            name = fields.pop("event", "event")
            self.logger.info(f"modelflags.{name}", eventName=name, **fields)

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None
