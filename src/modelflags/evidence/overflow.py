"""``Overflow``: what becomes of an event the application records while the queue is full
(or cannot build at all).

The queue bounds memory; the policy for what does not fit is explicit. ``"spill"`` (the
default with a spill dir) builds the event in the application's thread and appends it to the
spool, so nothing is lost, at the cost of a disk write on the request path while the queue
is full; ``"drop"`` counts it and lets it go. After close, events are dropped (counted).
Counters here are changed by any application thread, so they are guarded by a lock (this is
not the request path's fast path: only what does not fit comes here).
"""

from __future__ import annotations

import threading
from typing import Literal

from modelflags.evidence.codec import Batch
from modelflags.evidence.events import Build, finish, new_event_id
from modelflags.evidence.exposure_lines import PendingExposure
from modelflags.evidence.problems import Problems, describe
from modelflags.evidence.spool import Spool
from modelflags.evidence.tracker import Event

__all__ = ["OnFull", "Overflow"]

OnFull = Literal["drop", "spill"]


class Overflow:
    """Takes the events the queue cannot; counts ``spilled``, ``dropped`` and ``failed``."""

    def __init__(
        self,
        on_full: OnFull,
        spool: Spool | None,
        problems: Problems,
        queue_size: int,
        build: Build,
    ) -> None:
        self.on_full = on_full
        self.build = build  # writes a pending exposure
        self.spool = spool
        self.problems = problems
        self.queue_size = queue_size
        self.lock = threading.Lock()
        self.closed = False  # set under the lock by close(): later events are dropped
        self.spilled = self.dropped = self.failed = 0

    def take(self, event: Event | PendingExposure) -> None:
        with self.lock:
            if self.closed:
                self.dropped += 1
                self.problems.raised("closed", "evidence is closed; dropping events")
            elif self.on_full == "spill" and self.spool is not None:
                self._spill(event, self.spool)
            else:
                self.dropped += 1
                self.problems.raised("queue-full", "evidence queue full; dropping events",
                                     queue_size=self.queue_size)  # fmt: skip

    def not_built(self, error: Exception) -> None:
        """An event the application's thread could not build: counted as failed."""
        with self.lock:
            self._not_built(error)

    def _not_built(self, error: Exception) -> None:
        self.failed += 1
        self.problems.raised("build", "an evidence event could not be built",
                             error=describe(error))  # fmt: skip

    def _spill(self, event: Event | PendingExposure, spool: Spool) -> None:
        try:
            batch, _, unwritable = Batch.encode([finish(event, self.build, new_event_id())])
        except Exception as error:  # the event cannot be built
            self._not_built(error)
            return
        if unwritable:
            self.failed += 1
            return
        try:
            if spool.append(batch):
                self.spilled += 1
                self.problems.raised("queue-full", "evidence queue full; spilling to disk")
                return
            self.problems.raised("spool-full", "evidence spool is full; dropping events")
        except OSError as error:
            self.problems.raised("spool", "evidence spool cannot be written",
                                 error=describe(error))  # fmt: skip
        self.dropped += 1
