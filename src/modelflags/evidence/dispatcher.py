"""The one background thread between the application and a tracker: it owns delivery.

The request path only appends to a bounded deque (no lock, no I/O:
:class:`~modelflags.evidence.intake.Intake`). The thread wakes every ``flush_interval`` (or as
soon as a batch is full), takes a batch, built and encoded once, and offers it to the tracker,
which delivers it or raises (see :mod:`modelflags.evidence.tracker`). Everything else is
decided here, in one place:

* **unavailable**: the batch and everything after it wait, oldest first
  (:class:`~modelflags.evidence.backlog.Backlog`): on disk in the spool when there is a
  ``spill_dir``, else in memory (one batch held for the retry, then the queue, then
  ``dropped``). Retries follow :class:`~modelflags.evidence.delivery.Backoff`. While anything
  waits on disk, new events queue behind it, so delivery stays in order.
* **rejected**: the batch is offered again in halves, down to single events; what is still
  refused is ``failed`` (:func:`~modelflags.evidence.delivery.offer`).
* **a full queue**: see :class:`~modelflags.evidence.overflow.Overflow`.
* **a pipelined tracker** (:class:`~modelflags.evidence.delivery.Pipelined`, a writer
  process): queued records are sent as they are, up to ``window`` messages in flight, and
  counted ``delivered`` on their receipts; when the writer fails, what it did not confirm is
  encoded here and kept as above. Whatever waits (held or spooled) is offered whole, once
  every message in flight is confirmed, so order is kept.
* **flush and close** keep their time limits: a request is given the time that is left
  before close's deadline, and what is not delivered by then is spilled, or counted as
  dropped; a tracker that ignores its timeout is left behind (see :meth:`end_close`).

Problems are logged once, and once more when they end.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

from modelflags.evidence.backlog import Backlog, Source
from modelflags.evidence.codec import Batch
from modelflags.evidence.delivery import Backoff, Confirmations, Outcome, Pipelined, offer
from modelflags.evidence.exposure_lines import ExposureLines
from modelflags.evidence.flushes import Flushes
from modelflags.evidence.intake import Ids, Intake, Record
from modelflags.evidence.overflow import OnFull, Overflow
from modelflags.evidence.problems import Problems, describe
from modelflags.evidence.spool import Spool
from modelflags.evidence.tracker import Tracker

__all__ = ["Dispatcher", "OnFull"]

ADOPT_INTERVAL = 30.0
"""Seconds between looks for segments that exited processes left in the spill dir."""


class Dispatcher:
    """Moves events from a bounded in-memory queue to a tracker, in a daemon thread.

    ``lines`` writes pending exposures (the Evidence's), in the thread or, for an event
    spilled while the queue is full, in the application's (or in a pipelined tracker's
    writer).
    """

    def __init__(
        self,
        tracker: Tracker,
        *,
        queue_size: int = 10_000,
        on_full: OnFull | None = None,
        spill_dir: str | os.PathLike[str] | None = None,
        batch_size: int = 512,
        flush_interval: float = 0.2,
        backoff: float = 0.2,
        max_backoff: float = 30.0,
        spill_max_bytes: int = 1024**3,
        lines: ExposureLines,
    ) -> None:
        on_full = on_full or ("spill" if spill_dir is not None else "drop")
        if on_full not in ("drop", "spill"):
            raise ValueError(f"on_full must be 'drop' or 'spill', not {on_full!r}")
        if on_full == "spill" and spill_dir is None:
            raise ValueError("on_full='spill' needs a spill_dir")
        self.tracker = tracker
        self.queue_size = max(1, queue_size)
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.problems = Problems()
        self.backoff = Backoff(backoff, max_backoff)
        self.spool: Spool | None = None
        if spill_dir is not None:
            try:
                self.spool = Spool(spill_dir, max_bytes=spill_max_bytes)
            except OSError as error:  # run without: waiting events stay in memory
                self.problems.raised("spool", "evidence spool cannot be written",
                                     error=describe(error))  # fmt: skip
        self.lines = lines
        self.overflow = Overflow(on_full, self.spool, self.problems, self.queue_size, lines.line)
        self.flushes = Flushes()
        self.intake = Intake(self.problems, lines.line)
        self.backlog = Backlog(self.spool, self.problems)
        self.delivered = self.failed = self.retries = 0  # counted by the thread only
        self._queue = self.intake.items  # bound here: submit() looks up one attribute
        self._settle = threading.Lock()  # the thread's state vs an abandoning close()
        self._in_flight: tuple[Batch, Source] | None = None
        self._pipeline = tracker if isinstance(tracker, Pipelined) else None
        self._sent: deque[tuple[list[Record], Ids]] = deque()  # sent, not yet confirmed
        self._sent_events = 0
        self._next_adopt = 0.0
        self._idle_flush = False  # events were delivered since the tracker last flushed
        self._wake = threading.Event()
        self._closed = False  # no more events accepted
        self._cutoff: float | None = None  # closing: deliveries stop at this monotonic time
        self._deadline: float | None = None  # closing: everything ends by then
        self._finished = False  # closing: what was left is accounted for
        self._abandoned = False  # close() gave up waiting for a stuck tracker
        self._pid = os.getpid()  # the process the thread runs in (see after_fork_in_child)
        self._thread = threading.Thread(target=self._run, name="modelflags-evidence", daemon=True)
        self._thread.start()

    # -- request path ----------------------------------------------------------------------

    def submit(self, event: Record) -> None:
        """Queue one event (or a pending exposure); never blocks on I/O, never raises."""
        queue = self._queue
        if len(queue) < self.queue_size and not self._closed:
            queue.append(event)
            # is_set() first: Event.set() takes a lock, and while the thread is busy the
            # queue stays above batch_size, so setting it per event would cost every submit.
            if len(queue) >= self.batch_size and not self._wake.is_set():
                self._wake.set()
            return
        self.overflow.take(event)

    # -- counters --------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """Event counts. At any moment ``recorded + adopted == delivered + failed +
        dropped + queued + spooled`` (up to the events a thread is counting just then)."""
        spool, door, intake, backlog = self.spool, self.overflow, self.intake, self.backlog
        return {
            "recorded": intake.taken + len(self._queue) + door.spilled + door.dropped + door.failed,
            "delivered": self.delivered,
            "failed": self.failed + intake.failed + door.failed,
            "dropped": backlog.dropped + door.dropped,
            "spilled": backlog.spilled + door.spilled,
            "queued": self.queued,
            "spooled": spool.events if spool is not None else 0,
            "adopted": spool.adopted if spool is not None else 0,
            "retries": self.retries,
            "repaired": intake.repaired,
        }

    @property
    def queued(self) -> int:
        """Events in memory: queued, held for a retry, being offered to the tracker, or sent
        to a pipelined one and not yet confirmed."""
        held, in_flight = self.backlog.held, self._in_flight
        queued = len(self._queue) + (len(held) if held is not None else 0) + self._sent_events
        if in_flight is not None and in_flight[1] == "queue":
            queued += len(in_flight[0])
        return queued

    def _lost(self) -> int:
        door = self.overflow
        return self.failed + self.intake.failed + self.backlog.dropped + door.failed + door.dropped

    # -- flush and close -------------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every event recorded before the call was delivered; True only then,
        and only if no event was lost (failed or dropped) since the previous flush.

        Events waiting on disk for a destination that is down are not delivered: flush
        waits for them until ``timeout`` and returns False.
        """
        if self._finished:  # closed, or closing: its last sync runs in the thread
            thread = self._thread
            if thread is not threading.current_thread():
                thread.join(timeout)
            clean = self.flushes.clean_since_last(self._lost())
            return clean and not self.queued and not self.spool and not thread.is_alive()
        with self.intake.lock:
            waiter = self.flushes.add(self.intake.taken + len(self._queue), timeout)
        if self._finished:  # closed meanwhile: nothing more will be delivered
            self.flushes.release_all()
        self._wake.set()
        if not waiter.done.wait(timeout):
            self.flushes.give_up(waiter)
        return waiter.ok

    def close(self, timeout: float | None = 5.0) -> None:
        """Deliver what it can within ``timeout`` seconds, then spill the rest (or count it
        as dropped), stop the thread and close the tracker. Returns within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        self.begin_close(deadline)
        self.end_close()

    def begin_close(self, deadline: float | None) -> None:
        """Stop accepting events and let the thread finish by ``deadline`` (monotonic)."""
        with self.overflow.lock:
            if self._closed:
                return
            self._closed = self.overflow.closed = True
            if deadline is not None:
                # keep a little time to spill what is left and close the tracker
                self._cutoff = deadline - min(0.25, 0.2 * max(0.0, deadline - time.monotonic()))
            self._deadline = deadline
        self._wake.set()

    def end_close(self) -> None:
        """Wait for the thread until the close deadline. If it is still inside the tracker
        (one that ignores its timeout), account for what it holds (spilled, or counted as
        dropped) and leave it behind: it closes the tracker if it ever returns."""
        deadline = self._deadline
        self._thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._settle:
            if self._finished:
                return
            self._abandoned = self._finished = True
            self.problems.raised("close-timeout", "evidence close ran out of time; what is "
                                 "left is spilled, or counted as dropped")  # fmt: skip
            if self._in_flight is not None:
                batch, source = self._in_flight
                if source == "queue":  # (held and spooled events are accounted where they are)
                    self.backlog.set_aside(batch)
                self._in_flight = None
            self._set_aside_the_rest()
            if self.spool is not None:
                self.spool.close()
        self.flushes.release_all()

    def after_fork_in_child(self) -> None:
        """In a forked child: start afresh, with a new thread (threads do not survive a
        fork) and fresh locks. What the parent had queued stays the parent's to deliver;
        the spool gives the child an owner id of its own at its first use. Called for every
        live dispatcher by the at-fork handler of :mod:`modelflags.evidence.recorder`; a second
        call in the same process does nothing (one thread per dispatcher)."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self.intake.after_fork_in_child()
        self._settle = threading.Lock()
        self._wake = threading.Event()
        self.overflow = Overflow(self.overflow.on_full, self.spool, self.problems,
                                 self.queue_size, self.intake.build)  # fmt: skip
        self.overflow.closed = self._closed
        self.flushes = Flushes()
        self.backoff = Backoff(self.backoff.base, self.backoff.cap)
        self.backlog = Backlog(self.spool, self.problems)
        self._in_flight = None
        self._sent, self._sent_events = deque(), 0
        if self._pipeline is not None:
            self._pipeline.after_fork_in_child()
        self.delivered = self.failed = self.retries = 0
        if self._closed:
            return
        self._thread = threading.Thread(target=self._run, name="modelflags-evidence", daemon=True)
        self._thread.start()

    # -- background thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._sleep())
            self._wake.clear()
            try:
                if self._abandoned:  # close() gave up on a tracker that was stuck
                    self._close_tracker()
                    return
                if self.spool is not None and time.monotonic() >= self._next_adopt:
                    self._next_adopt = time.monotonic() + ADOPT_INTERVAL
                    with self._settle:  # (not into a spool an abandoning close() closed)
                        if not self._abandoned:
                            self.spool.adopt()
                self._round()
                if self._abandoned:  # close() gave up while the tracker held this thread
                    self._close_tracker()
                    return
                if self._closed and self._closing_done():
                    self._finish()
                    return
                if self._idle_flush and not self._queue and not self._sent:
                    self._idle_flush = False  # quiet now: let the tracker sync its file
                    self._tracker_flush(self.flush_interval)
            except Exception as error:  # a bug here must not stop delivery for good
                self.problems.raised("dispatcher", "evidence dispatcher failed",
                                     error=describe(error))  # fmt: skip

    def _sleep(self) -> float:
        wait = self.flush_interval
        now = time.monotonic()
        if self.backoff.next_try > now:
            wait = min(wait, self.backoff.next_try - now)
        if self._cutoff is not None:
            wait = min(wait, self._cutoff - now)
        if self._sent:  # receipts to collect
            wait = min(wait, 0.01)
        return max(0.001, wait)

    def _round(self) -> None:
        """Deliver (or spill) until there is nothing to do or the tracker must be left alone."""
        while not self._abandoned:
            now = time.monotonic()
            if self._cutoff is not None and now >= self._cutoff:
                return
            waiting = self.backoff.waiting(now)
            spool = self.spool
            if spool is not None and self._queue and (waiting or spool) and not self._sent:
                self._spill_queue()  # behind what already waits on disk: order is kept
                if waiting:
                    continue  # a batch spilled at a time: the retry is tried when it is due
            if waiting or not self._offer_oldest():
                return

    def _offer_oldest(self) -> bool:
        """Offer the oldest waiting batch to the tracker; False when there was none."""
        pipeline = self._pipeline
        if pipeline is not None:
            waits = self.backlog.held is not None or bool(self.spool)
            if self._sent and (waits or not self._queue or len(self._sent) >= pipeline.window):
                wait = self._time_left()  # a full window, or waiting before a whole batch
                if not self._queue and not waits:  # idle: a short wait, then a look round
                    wait = 0.05 if wait is None else min(0.05, wait)
                return self._confirm(pipeline, wait)
            if self._queue and not waits:
                return self._send_queued(pipeline)
        with self._settle:
            if self._abandoned:
                return False
            waiting = self.backlog.oldest(self.batch_size)
            if waiting is not None:
                batch, source = waiting
            elif self._queue:
                batch, source = self.intake.take(self.batch_size), "queue"
            else:
                batch = None
            self._in_flight = None if batch is None else (batch, source)
        if batch is None:
            self._complete_flushes()
            return False
        outcome = offer(self.tracker, batch, self._time_left(), self.problems) if batch else None
        with self._settle:
            if self._abandoned:
                return False
            self._in_flight = None
            if outcome is not None:
                self._settled(batch, source, outcome)
        self._complete_flushes()
        return True

    def _send_queued(self, pipeline: Pipelined) -> bool:
        """Send the next queued records to the pipelined tracker; collect receipts."""
        with self._settle:
            if self._abandoned:
                return False
            records, ids = self.intake.take_records(pipeline.send_size)
            self._sent.append((records, ids))
            self._sent_events += len(records)
        pipeline.send(records, ids, self.lines, self._time_left())
        self._confirm(pipeline, 0.0)
        return True

    def _confirm(self, pipeline: Pipelined, wait: float | None) -> bool:
        """Count the receipts that arrive within ``wait`` seconds (None: until one does);
        when the writer failed, keep what it did not confirm. False when nothing came."""
        confirmations = pipeline.confirmed(wait)
        with self._settle:
            if self._abandoned:
                return False
            self._confirmed(confirmations)
        self._complete_flushes()
        return bool(confirmations.receipts) or confirmations.unavailable is not None

    def _confirmed(self, confirmations: Confirmations) -> None:
        """Count receipts; on a failure, the records sent after them wait (with _settle)."""
        for receipt in confirmations.receipts:
            self._sent_events -= len(self._sent.popleft()[0])
            self.delivered += receipt.delivered
            self._idle_flush = self._idle_flush or receipt.delivered > 0
            self.intake.count(receipt.repaired, receipt.failed, "in the writer process")
        if confirmations.unavailable is not None and self._sent:
            batch = self._encode_sent()
            self._settled(batch, "queue", Outcome(unavailable=confirmations.unavailable))

    def _encode_sent(self) -> Batch:
        """Every record sent and not confirmed, oldest first, encoded here under the same
        event ids (with _settle)."""
        batches = [self.intake.encode(records, ids) for records, ids in self._sent]
        self._sent, self._sent_events = deque(), 0
        return Batch(b"".join(batch.data for batch in batches), sum(map(len, batches)))

    def _spill_queue(self) -> None:
        with self._settle:
            if self._abandoned or not self._queue:
                return
            self.backlog.set_aside(self.intake.take(self.batch_size))
        self._complete_flushes()

    def _settled(self, batch: Batch, source: Source, outcome: Outcome) -> None:
        """Count what the tracker settled; keep the rest for later, in order."""
        self.delivered += outcome.delivered
        self.failed += outcome.failed
        self._idle_flush = self._idle_flush or outcome.delivered > 0
        self.backlog.settled(source, outcome.settled)
        if outcome.unavailable is None:
            self.backoff.succeeded()
            self.problems.ended("unavailable")
            return
        self.retries += 1
        self.backoff.failed(outcome.unavailable.retry_after)
        where = "spilling to disk" if self.spool is not None else "holding events in memory"
        self.problems.raised("unavailable", f"evidence destination unavailable; {where}",
                             error=describe(outcome.unavailable))  # fmt: skip
        self.backlog.keep(batch, source, outcome.settled)

    def _time_left(self) -> float | None:
        """The time a request may take: what is left before close's cutoff (None: no limit
        but the tracker's own)."""
        if self._cutoff is None:
            return None
        return max(0.001, self._cutoff - time.monotonic())

    def _complete_flushes(self) -> None:
        """Tell the flushes whose events are all settled. Called without _settle: the
        tracker's sync may take its time, and an abandoning close() must not wait for it."""
        if not self.flushes:
            return
        with self._settle:
            if self._abandoned:
                return
            in_memory = self.backlog.held is not None or bool(self._sent)
            ready = self.flushes.ready(self.intake.taken, in_memory, self.spool)
        if ready:
            limit, closing = self.flushes.time_left(ready), self._time_left()
            if closing is not None:  # closing: no longer than close's deadline allows
                limit = closing if limit is None else min(limit, closing)
            synced = self._tracker_flush(limit)
            self.flushes.complete(ready, synced, self._lost())

    # -- the end ---------------------------------------------------------------------------

    def _closing_done(self) -> bool:
        """Closing, and nothing more can be delivered in time (or nothing is left)."""
        if self._cutoff is not None and time.monotonic() >= self._cutoff:
            return True
        nothing_left = (
            not self._queue and self.backlog.held is None and not self._sent and not self.spool
        )
        return nothing_left or (self._cutoff is not None and self.backoff.next_try >= self._cutoff)

    def _finish(self) -> None:
        """Closing: spill (or drop) what is left, sync and close the tracker."""
        self._collect_receipts()
        with self._settle:
            if self._finished:  # finished before (a later step raised), or abandoned
                abandoned = self._abandoned
            else:
                self._set_aside_the_rest()
                abandoned = None
        if abandoned is not None:
            if abandoned:  # close() gave up on this thread: only the tracker is left
                self._close_tracker()
            return
        self._complete_flushes()
        with self._settle:
            abandoned = self._abandoned  # close() gave up meanwhile
            self._finished = True
        if abandoned:
            self._close_tracker()
            return
        try:
            left = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
            self._tracker_flush(left)
            self._close_tracker()
            if self.spool is not None:
                self.spool.close()
        finally:
            self.flushes.release_all()

    def _collect_receipts(self) -> None:
        """Closing with records sent: wait for their receipts, for half the time left (the
        rest is for spilling what does not come)."""
        pipeline = self._pipeline
        if pipeline is None or not self._sent:
            return
        end = None if self._deadline is None else (time.monotonic() + self._deadline) / 2
        while self._sent and not self._abandoned:
            wait = None if end is None else end - time.monotonic()
            if (wait is not None and wait <= 0) or not self._confirm(pipeline, wait):
                return

    def _set_aside_the_rest(self) -> None:
        """Everything still in memory goes to the spool, or is counted as dropped."""
        self.backlog.set_aside_held()
        if self._sent:  # (a writer may still write some: readers de-duplicate by eventId)
            self.backlog.set_aside(self._encode_sent())
        while self._queue:
            self.backlog.set_aside(self.intake.take(self.batch_size))

    def _tracker_flush(self, timeout: float | None) -> bool:
        try:
            self.tracker.flush(timeout)
        except Exception as error:
            self.problems.raised("flush", "tracker flush failed", error=describe(error))
            return False
        return True

    def _close_tracker(self) -> None:
        try:
            self.tracker.close()
        except Exception as error:
            self.problems.raised("close", "tracker close failed", error=describe(error))
