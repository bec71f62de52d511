"""The one background thread between the application and a tracker.

The request path only appends to a bounded deque (no lock, no I/O). The thread wakes every
``flush_interval`` (or as soon as a batch is full), finishes the events (timestamps as text)
and hands batches to the tracker. When the queue is full the policy is explicit: ``"drop"``
counts and drops the event, ``"spill"`` writes it to a disk spool that the thread replays
when the queue has room. Counters say what happened: ``sent``, ``spilled``, ``dropped``,
``failed``. Problems are logged once, and once more when they end.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import structlog

from modelflags.evidence.events import Pending, finish
from modelflags.evidence.spool import Spool
from modelflags.evidence.tracker import Event, Tracker

__all__ = ["Dispatcher", "OnFull"]

OnFull = Literal["drop", "spill"]

log = structlog.get_logger("modelflags")


class Dispatcher:
    """Moves events from a bounded in-memory queue to a tracker, in a daemon thread."""

    def __init__(
        self,
        tracker: Tracker,
        *,
        queue_size: int = 10_000,
        on_full: OnFull = "drop",
        spill_dir: str | os.PathLike[str] | None = None,
        batch_size: int = 512,
        flush_interval: float = 0.2,
    ) -> None:
        if on_full == "spill" and spill_dir is None:
            raise ValueError("on_full='spill' needs a spill_dir")
        self.tracker = tracker
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spool = Spool(spill_dir) if on_full == "spill" and spill_dir is not None else None
        self.sent = self.spilled = self.dropped = self.failed = 0
        self._queue: deque[Event | Pending] = deque()
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._requested = 0  # flush generations asked for / completed
        self._completed = 0
        self._closed = False
        self._idle_flush = False  # events were delivered since the tracker last flushed
        self._problems: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="modelflags-evidence", daemon=True)
        self._thread.start()

    # -- request path ----------------------------------------------------------------------

    def submit(self, event: Event | Pending) -> None:
        """Queue one event (or a pending record); never blocks on I/O, never raises."""
        queue = self._queue
        if len(queue) < self.queue_size and not self._closed:
            queue.append(event)
            # is_set() first: Event.set() takes a lock, and while the thread is busy the
            # queue stays above batch_size, so setting it per event would cost every submit.
            if len(queue) >= self.batch_size and not self._wake.is_set():
                self._wake.set()
            return
        self._overflow(event)

    def _overflow(self, event: Event | Pending) -> None:
        if self.spool is not None and not self._closed:
            try:
                if self.spool.append([finish(event)]):
                    self.spilled += 1
                    self._problem("queue-full", "evidence queue full; spilling to disk")
                    return
            except OSError as error:
                self._problem("spool", "evidence spool cannot be written", error=_describe(error))
        self.dropped += 1
        if self._closed:
            self._problem("closed", "evidence is closed; dropping events")
            return
        self._problem("queue-full", "evidence queue full; dropping events",
                      queue_size=self.queue_size)  # fmt: skip

    # -- control ---------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        """Events waiting in memory."""
        return len(self._queue)

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Deliver everything queued now; True when done within ``timeout`` seconds."""
        if not self._thread.is_alive():
            return not self._queue
        with self._done:
            self._requested += 1
            target = self._requested
            self._wake.set()
            return self._done.wait_for(lambda: self._completed >= target, timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Flush, stop the thread and close the tracker."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)
        with self._guard("close"):
            self.tracker.close()

    # -- background thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            with self._done:
                requested = self._requested
            if not self._drain() and self._idle_flush:
                # Quiet now: let the tracker send partial batches and sync its file.
                self._idle_flush = False
                with self._guard("flush"):
                    self.tracker.flush(self.flush_interval)
            if self.spool and len(self._queue) < self.queue_size // 2:
                self._replay()
            if requested > self._completed:
                with self._guard("flush"):
                    self.tracker.flush(None)
                with self._done:
                    self._completed = requested
                    self._done.notify_all()
            if self._closed and not self._queue:
                return

    def _drain(self) -> bool:
        """Deliver everything queued; True when there was anything."""
        queue, popleft = self._queue, self._queue.popleft
        if not queue:
            return False
        self._idle_flush = True
        while queue:
            batch = []
            for _ in range(min(self.batch_size, len(queue))):
                item = popleft()
                try:
                    batch.append(finish(item))
                except Exception as error:  # one unreadable record must not stop the thread
                    self.failed += 1
                    self._problem("build", "an evidence event could not be built",
                                  error=_describe(error))  # fmt: skip
            if batch and not self._deliver(batch):
                self.failed += len(batch)  # spooled events stay on disk instead
        return True

    def _replay(self) -> None:
        assert self.spool is not None
        oldest = self.spool.oldest()
        if oldest is None:
            return
        path, events = oldest
        for start in range(0, len(events), self.batch_size):
            if not self._deliver(events[start : start + self.batch_size]):
                return  # keep the segment: it is retried on the next round
        self.spool.remove(path)

    def _deliver(self, batch: list[Event]) -> bool:
        try:
            self.tracker.emit(batch)
        except Exception as error:
            self._problem("emit", "tracker failed to take events", error=_describe(error))
            return False
        self.sent += len(batch)
        self._resolved("emit")
        return True

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except Exception as error:
            self._problem(what, f"tracker {what} failed", error=_describe(error))

    def _problem(self, key: str, message: str, **details: object) -> None:
        if key not in self._problems:
            self._problems.add(key)
            log.error(message, **details)

    def _resolved(self, key: str) -> None:
        if key in self._problems:
            self._problems.discard(key)
            log.info("evidence tracker recovered", problem=key)


def _describe(error: BaseException) -> str:
    """An error for the log: its type and message (which names the path, for OS errors)."""
    return f"{type(error).__name__}: {error}"
