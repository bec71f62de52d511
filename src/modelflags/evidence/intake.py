"""``Intake``: the bounded queue between the request path and the dispatcher's thread.

The request path only appends to :attr:`Intake.items` (a deque: no lock, no I/O; the
dispatcher bounds it). The thread takes up to a batch at a time and turns the records into a
:class:`~modelflags.evidence.codec.Batch` of JSON lines: a pending exposure is written
straight from its values (only here, off the request path), an event dict is encoded. A
record that cannot be built or written fails alone and is counted, and values JSON cannot
hold are repaired and counted, so one bad event never costs its neighbours.
"""

from __future__ import annotations

import threading
from collections import deque

from modelflags.evidence.codec import Batch
from modelflags.evidence.events import Build, finish
from modelflags.evidence.exposure_lines import PendingExposure
from modelflags.evidence.problems import Problems, describe
from modelflags.evidence.tracker import Event

__all__ = ["Intake"]


class Intake:
    """The queued records; counts the records ``taken``, those that ``failed`` to be built or
    written, and the values ``repaired``."""

    def __init__(self, problems: Problems, build: Build) -> None:
        self.problems = problems
        self.build = build  # writes a pending exposure
        self.items: deque[Event | PendingExposure] = deque()
        self.lock = threading.Lock()  # taking from the queue vs flush()'s snapshot
        self.taken = self.failed = self.repaired = 0  # counted by the thread only

    def take(self, batch_size: int) -> Batch:
        """The next ``batch_size`` queued records, built and encoded."""
        queue = self.items
        with self.lock:
            count = min(batch_size, len(queue))
            items = [queue.popleft() for _ in range(count)]
            self.taken += count
        try:
            build = self.build  # (a pending exposure, the usual item, written without finish())
            events = [build(item) if type(item) is tuple else finish(item, build) for item in items]
        except Exception:
            events = self._build_one_by_one(items)
        batch, repaired, unwritable = Batch.encode(events)
        if repaired:
            self.repaired += repaired
            self.problems.raised("repaired", "evidence values JSON cannot hold were repaired",
                                 level="warning")  # fmt: skip
        if unwritable:
            self.failed += unwritable
            self.problems.raised("unwritable", "an evidence event could not be written")
        return batch

    def after_fork_in_child(self) -> None:
        """In a forked child: the parent's queued records stay the parent's; a fresh lock
        (one held at the fork would never be released) and fresh counts."""
        self.items.clear()
        self.lock = threading.Lock()
        self.taken = self.failed = self.repaired = 0

    def _build_one_by_one(self, items: list[Event | PendingExposure]) -> list[Event | bytes]:
        events: list[Event | bytes] = []
        for item in items:
            try:
                events.append(finish(item, self.build))
            except Exception as error:  # one unreadable record fails alone
                self.failed += 1
                self.problems.raised("build", "an evidence event could not be built",
                                     error=describe(error))  # fmt: skip
        return events
