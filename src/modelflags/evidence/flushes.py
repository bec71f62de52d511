"""``Flushes``: the ``flush()`` calls waiting, and the truth each is told.

A flush is done once every event recorded before it was settled: taken from the queue (the
dispatcher counts what it takes, so "all that were queued at the call" is a number), then
delivered or failed, not waiting in memory for a retry nor on disk in the spool (the spool
counts what this process appended and what of it was consumed, in order). It returns True
only if no event was lost (failed or dropped) since the previous flush completed: a flush
after which the application's events are gone says so.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from modelflags.evidence.spool import Spool

__all__ = ["Flushes", "Waiter"]


@dataclass
class Waiter:
    """One ``flush()`` call."""

    target: int  # events taken from the queue once all those queued at the call were
    deadline: float | None  # monotonic
    mark: int | None = None  # spool appends once they were all taken
    ok: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class Flushes:
    """The waiting ``flush()`` calls of one dispatcher."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[Waiter] = []
        self._completing: list[Waiter] = []  # ready, told once the tracker has synced
        self._lost_mark = 0  # events lost when a flush last completed

    def __bool__(self) -> bool:
        return bool(self._waiters)

    def add(self, target: int, timeout: float | None) -> Waiter:
        waiter = Waiter(target, None if timeout is None else time.monotonic() + timeout)
        with self._lock:
            self._waiters.append(waiter)
        return waiter

    def give_up(self, waiter: Waiter) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def ready(self, taken: int, held: bool, spool: Spool | None) -> list[Waiter]:
        """Take out the waiters whose events are all settled (``held``: some taken events
        are still in memory, held for a retry or not yet confirmed), to :meth:`complete`
        once the tracker has synced (:meth:`release_all` still reaches them meanwhile)."""
        ready = []
        with self._lock:
            for waiter in self._waiters:
                # (events still in memory may yet go to the spool: marked once they left)
                if waiter.mark is None and taken >= waiter.target and not held:
                    waiter.mark = spool.appended if spool is not None else 0
                if waiter.mark is not None and not held and _spool_settled(spool, waiter.mark):
                    ready.append(waiter)
            for waiter in ready:
                self._waiters.remove(waiter)
            self._completing += ready
        return ready

    def time_left(self, waiters: list[Waiter]) -> float | None:
        """The least time any of ``waiters`` will still wait (None: no limit)."""
        deadlines = [waiter.deadline for waiter in waiters if waiter.deadline is not None]
        return None if not deadlines else max(0.0, min(deadlines) - time.monotonic())

    def complete(self, waiters: list[Waiter], synced: bool, lost: int) -> None:
        """Tell ``waiters`` the truth: True if synced and nothing was lost meanwhile."""
        ok = synced and lost == self._lost_mark
        self._lost_mark = lost
        with self._lock:
            told = [waiter for waiter in waiters if waiter in self._completing]
            for waiter in told:
                self._completing.remove(waiter)
                waiter.ok = ok
                waiter.done.set()

    def clean_since_last(self, lost: int) -> bool:
        """Nothing was lost since the last flush completed."""
        return lost == self._lost_mark

    def release_all(self) -> None:
        """Wake every waiter: nothing more will be delivered (they are told False)."""
        with self._lock:
            waiters = self._waiters + self._completing
            self._waiters, self._completing = [], []
        for waiter in waiters:
            waiter.done.set()


def _spool_settled(spool: Spool | None, mark: int) -> bool:
    """Everything this process had appended by ``mark`` was consumed, and nothing adopted
    (older still) waits."""
    return spool is None or (spool.consumed >= mark and not spool.adopted_waiting)
