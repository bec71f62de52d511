"""``Backlog``: the events that wait while the tracker is unavailable.

Events wait oldest first. With a spool (a ``spill_dir``) they wait on disk, so memory stays
bounded however long the outage, and a batch that will not be offered now is appended to it;
without one, one batch is held in memory for the retry, and what cannot wait is counted as
dropped. The oldest waiting batch is always offered first, so delivery stays in order. The
dispatcher's thread is the only user, under the dispatcher's lock (an abandoning ``close()``
takes the same lock to account for what is left).
"""

from __future__ import annotations

from typing import Literal

from modelflags.evidence.codec import Batch
from modelflags.evidence.problems import Problems, describe
from modelflags.evidence.spool import Spool

__all__ = ["Backlog", "Source"]

Source = Literal["queue", "held", "spool"]
"""Where an offered batch came from: ``"queue"``, ``"held"`` (memory) or ``"spool"`` (disk)."""


class Backlog:
    """The held batch and the spool; counts what it ``spilled`` to disk and ``dropped``."""

    def __init__(self, spool: Spool | None, problems: Problems) -> None:
        self.spool = spool
        self.problems = problems
        self.held: Batch | None = None  # no spool: the oldest batch, waiting for a retry
        self.spilled = self.dropped = 0

    def oldest(self, batch_size: int) -> tuple[Batch, Source] | None:
        """The oldest waiting batch (up to ``batch_size`` events from disk), or None."""
        if self.held is not None:
            return self.held, "held"
        if self.spool is not None and (head := self.spool.head(batch_size)):
            return head, "spool"
        return None

    def set_aside(self, batch: Batch) -> None:
        """A batch that will not be offered now: to the spool, or counted as dropped."""
        if not batch:
            return
        if self.spool is not None:
            try:
                if self.spool.append(batch):
                    self.spilled += len(batch)
                    return
                self.problems.raised("spool-full", "evidence spool is full; dropping events")
            except OSError as error:
                self.problems.raised("spool", "evidence spool cannot be written",
                                     error=describe(error))  # fmt: skip
        self.dropped += len(batch)

    def set_aside_held(self) -> None:
        """The held batch goes to the spool, or is counted as dropped."""
        held, self.held = self.held, None
        if held is not None:
            self.set_aside(held)

    def settled(self, source: Source, settled: int) -> None:
        """The first ``settled`` events of a batch from ``source`` need no more offers."""
        if source == "spool":
            assert self.spool is not None
            self.spool.commit(settled)
        elif source == "held":
            self.held = None

    def keep(self, batch: Batch, source: Source, settled: int) -> None:
        """What the unavailable tracker did not settle waits: the rest of a batch from disk
        stays there (it was not committed); any other is set aside, or held."""
        if source == "spool":
            return  # the rest stays on disk: it was not committed
        rest = batch.rest(settled)
        if self.spool is not None:
            self.set_aside(rest)
        elif rest:
            self.held = rest  # the oldest events: offered first once the backoff ends
