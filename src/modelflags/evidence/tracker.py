"""The tracker protocol: where evidence events go. ``emit``, ``flush``, ``close``.

A tracker receives batches of finished events (plain JSON-ready dicts with the camelCase keys
of the event format) from the one background thread of an :class:`~modelflags.Evidence`, so
it needs no locking of its own unless it is shared. It may raise: the dispatcher counts the
batch as failed and logs the problem once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["Event", "MemoryTracker", "Tracker"]

Event = dict[str, Any]
"""One exposure or outcome event, as it is written: camelCase keys, JSON values."""


@runtime_checkable
class Tracker(Protocol):
    """Receives event batches; owns delivery (a file, a collector, a log)."""

    def emit(self, events: Sequence[Event]) -> None:
        """Deliver (or durably queue) a batch of events."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Deliver what is buffered, waiting at most ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Flush and release resources; later ``emit`` calls may be ignored."""
        ...


class MemoryTracker:
    """Keeps every event in a list: the tracker tests and notebooks use.

    >>> tracker = MemoryTracker()
    >>> tracker.emit([{"event": "exposure", "eventId": "e1"}])
    >>> [e["eventId"] for e in tracker.events]
    ['e1']
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = False

    def emit(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def of(self, kind: str) -> list[Event]:
        """The events whose ``event`` field is ``kind`` (``exposure`` or an outcome name)."""
        return [event for event in self.events if event.get("event") == kind]
