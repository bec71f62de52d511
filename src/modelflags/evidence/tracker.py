"""The tracker protocol: where evidence events go. ``emit``, ``flush``, ``close``.

A tracker delivers one batch or raises; it never batches, retries, spools, counts or logs:
the dispatcher of an :class:`~modelflags.Evidence` does all of that, in one place. The
batches come from its one background thread, so a tracker needs no locking of its own.

``emit`` ends in one of three ways, and the dispatcher acts on each:

* it returns: the destination took every event (counted ``delivered``);
* it raises :class:`TrackerUnavailable`: nothing is lost, the same events are offered again
  later (after a backoff, or the ``retry_after`` the destination asked for), from the disk
  spool when there is one;
* it raises :class:`BatchRejected`: the destination refused these events. A batch that may be
  refused for one of its events is split in halves, down to single events; a single event
  (or a batch refused as a whole) is counted ``failed``.

Any other exception is a bug in the tracker: ``OSError`` (a full disk, a broken pipe) is
treated as unavailable, anything else as a rejection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["BatchRejected", "Event", "MemoryTracker", "Tracker", "TrackerUnavailable"]

Event = dict[str, Any]
"""One exposure or outcome event, as it is written: camelCase keys, JSON values."""


class TrackerUnavailable(Exception):
    """The destination cannot take events now; the same events are offered again later.

    ``retry_after`` is how long the destination asked to be left alone, in seconds (an HTTP
    ``Retry-After``), or None to let the dispatcher's backoff decide.

    >>> TrackerUnavailable("collector: HTTP 503", retry_after=2.0).retry_after
    2.0
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BatchRejected(Exception):
    """The destination refused these events; offering them again unchanged cannot help.

    ``split``: the refusal may be caused by one event or by the batch's size (HTTP 400, 413,
    422), so the dispatcher offers each half on its own, down to single events. False when
    the refusal concerns the request as a whole (a 404, a 401): every event is ``failed``.
    """

    def __init__(self, message: str, *, split: bool = True) -> None:
        super().__init__(message)
        self.split = split


@runtime_checkable
class Tracker(Protocol):
    """Delivers event batches to one destination (a file, a collector, a log)."""

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        """Deliver every event, within ``timeout`` seconds (None: the tracker's own limit),
        or raise :class:`TrackerUnavailable` or :class:`BatchRejected`."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Make what was delivered durable (an fsync), waiting at most ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release resources (files, connections); no ``emit`` follows."""
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

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        self.events.extend(events)

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def of(self, kind: str) -> list[Event]:
        """The events whose ``event`` field is ``kind`` (``exposure`` or an outcome name)."""
        return [event for event in self.events if event.get("event") == kind]
