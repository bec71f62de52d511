"""``Intake``: the bounded queue between the request path and the dispatcher's thread.

The request path only appends to :attr:`Intake.items` (a deque: no lock, no I/O; the
dispatcher bounds it). The thread takes up to a batch at a time (:meth:`Intake.take_records`)
and turns the records into a :class:`~modelflags.evidence.codec.Batch` of JSON lines
(:func:`encode_records`): a pending exposure is written straight from its values (only here,
off the request path), an event dict is encoded. A record that cannot be built or written
fails alone and is counted, and values JSON cannot hold are repaired and counted, so one bad
event never costs its neighbours. A background writer
(:mod:`modelflags.evidence.jsonl_writer`) encodes the records it is sent the same way.

An exposure's event id is its place in the queue: the intake's random prefix and the
number of records taken before it (:class:`Ids`). Encoding the same records again (a writer
process died before confirming them, and the application's process writes them instead)
gives the same ids, so readers can drop the copies.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import NamedTuple

from modelflags.evidence.codec import Batch
from modelflags.evidence.events import Build, finish
from modelflags.evidence.exposure_lines import PendingExposure
from modelflags.evidence.problems import Problems, describe
from modelflags.evidence.tracker import Event

__all__ = ["Encoded", "Ids", "Intake", "Record", "encode_records"]

Record = Event | PendingExposure
"""What the request path queues: an event dict (an outcome) or a pending exposure."""


class Ids(NamedTuple):
    """The event ids of records taken together: ``prefix-N`` for N from ``first`` on (hex)."""

    prefix: str
    first: int

    def of(self, index: int) -> str:
        """The id of the record at ``index``."""
        return f"{self.prefix}-{self.first + index:x}"


class Encoded(NamedTuple):
    """Records encoded: the batch, how many values were repaired, how many records failed
    (could not be built or written, even repaired), and the first such failure."""

    batch: Batch
    repaired: int = 0
    failed: int = 0
    error: str | None = None


def encode_records(records: list[Record], build: Build, ids: Ids) -> Encoded:
    """``records`` as a batch of JSON lines; ``build`` writes a pending exposure, under its
    id from ``ids``."""
    error = None
    prefix, first = ids
    try:  # (a pending exposure, the usual record, is written without finish())
        items = [
            build(item, f"{prefix}-{first + index:x}") if type(item) is tuple
            else finish(item, build, "")
            for index, item in enumerate(records)
        ]  # fmt: skip
    except Exception:
        items, error = [], None
        for index, item in enumerate(records):
            try:
                items.append(finish(item, build, ids.of(index)))
            except Exception as failure:  # one unreadable record fails alone
                error = error or describe(failure)
    built_failed = len(records) - len(items)
    batch, repaired, unwritable = Batch.encode(items)
    if unwritable and error is None:
        error = "an event could not be written, even repaired"
    return Encoded(batch, repaired, built_failed + unwritable, error)


class Intake:
    """The queued records; counts the records ``taken``, those that ``failed`` to be built or
    written, and the values ``repaired``."""

    def __init__(self, problems: Problems, build: Build) -> None:
        self.problems = problems
        self.build = build  # writes a pending exposure
        self.items: deque[Record] = deque()
        self.lock = threading.Lock()  # taking from the queue vs flush()'s snapshot
        self.taken = self.failed = self.repaired = 0  # counted by the thread only
        self.prefix = os.urandom(6).hex()  # of the event ids (see Ids)

    def take(self, batch_size: int) -> Batch:
        """The next ``batch_size`` queued records, built and encoded."""
        return self.encode(*self.take_records(batch_size))

    def take_records(self, count: int) -> tuple[list[Record], Ids]:
        """The next ``count`` queued records, as they are, and their ids."""
        queue = self.items
        with self.lock:
            count = min(count, len(queue))
            records = [queue.popleft() for _ in range(count)]
            ids = Ids(self.prefix, self.taken)
            self.taken += count
        return records, ids

    def encode(self, records: list[Record], ids: Ids) -> Batch:
        """Records taken, as a batch (what could not be built or written counted)."""
        encoded = encode_records(records, self.build, ids)
        self.count(encoded.repaired, encoded.failed, encoded.error)
        return encoded.batch

    def count(self, repaired: int, failed: int, error: str | None) -> None:
        """Count (and log once) the values encoding repaired and the records that failed."""
        if repaired:
            self.repaired += repaired
            self.problems.raised("repaired", "evidence values JSON cannot hold were repaired",
                                 level="warning")  # fmt: skip
        if failed:
            self.failed += failed
            self.problems.raised("unwritable", "an evidence event could not be built or "
                                 "written", error=error)  # fmt: skip

    def after_fork_in_child(self) -> None:
        """In a forked child: the parent's queued records stay the parent's; a fresh lock
        (one held at the fork would never be released) and fresh counts."""
        self.items.clear()
        self.lock = threading.Lock()
        self.taken = self.failed = self.repaired = 0
        self.prefix = os.urandom(6).hex()  # its own ids, not its parent's
