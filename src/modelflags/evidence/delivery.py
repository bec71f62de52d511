"""Offering one batch to a tracker, what came of it, and when to try again.

:class:`Pipelined` is the other way a tracker may take events: records sent in large messages
to a writer of its own, several in flight, each confirmed by a :class:`Receipt` once written.

:func:`offer` turns a tracker's answer into an :class:`Outcome`: a settled prefix of the
batch (delivered, or failed for good) and, when the tracker was unavailable, the error that
says so; everything after the prefix is offered again later, in order. A rejected batch is
offered again in halves, down to single events, so one bad event fails alone. The rules for
exceptions a tracker raises are in :mod:`modelflags.evidence.tracker`.

:class:`Backoff` says when to try again after the tracker was unavailable: exponential with
"equal jitter" (between half and all of ``base * 2**failures``, capped), or the destination's
``Retry-After`` (capped too: a hostile collector cannot park delivery for a day).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from modelflags.evidence.codec import Batch
from modelflags.evidence.problems import Problems, describe
from modelflags.evidence.tracker import BatchRejected, Tracker, TrackerUnavailable

if TYPE_CHECKING:
    from modelflags.evidence.exposure_lines import ExposureLines
    from modelflags.evidence.intake import Ids, Record

__all__ = ["Backoff", "Confirmations", "Outcome", "Pipelined", "Receipt", "offer"]


@dataclass
class Outcome:
    """What became of a batch: a settled prefix, and the outage that stopped it, if any."""

    delivered: int = 0
    failed: int = 0
    unavailable: TrackerUnavailable | None = None

    @property
    def settled(self) -> int:
        """Events at the front of the batch that need no more offers."""
        return self.delivered + self.failed


def offer(tracker: Tracker, batch: Batch, timeout: float | None, problems: Problems) -> Outcome:
    """Offer ``batch`` to ``tracker``; refused parts are offered again in halves."""
    outcome = Outcome()
    parts = [batch]
    while parts:
        part = parts.pop()
        split = True
        try:
            tracker.emit(part, timeout=timeout)
        except TrackerUnavailable as error:
            outcome.unavailable = error
            return outcome
        except OSError as error:  # a full disk, a broken pipe: may pass
            outcome.unavailable = TrackerUnavailable(describe(error))
            return outcome
        except BatchRejected as error:
            split = error.split
            problems.raised("rejected", "evidence destination rejected events",
                            error=describe(error))  # fmt: skip
        except Exception as error:  # a tracker bug: maybe one event sets it off
            problems.raised("tracker-error", "tracker failed to take events",
                            error=describe(error))  # fmt: skip
        else:
            outcome.delivered += len(part)
            continue
        if split and len(part) > 1:
            first, second = part.halves()
            parts += [second, first]
        else:
            outcome.failed += len(part)
    return outcome


class Receipt(NamedTuple):
    """A writer's answer to one message: how many of its events were written
    (``delivered``), repaired and failed (could not be built or written), and the error that
    stopped the writer (then nothing of the message was written)."""

    delivered: int = 0
    repaired: int = 0
    failed: int = 0
    error: str | None = None


@dataclass
class Confirmations:
    """Receipts of the messages sent, in order, and, when the writer failed, why: every
    message after the receipts was then not written."""

    receipts: list[Receipt] = field(default_factory=list)
    unavailable: TrackerUnavailable | None = None


@runtime_checkable
class Pipelined(Protocol):
    """A tracker that is sent queued records, not encoded batches, and confirms them later
    (:class:`~modelflags.evidence.jsonl_process.JsonlProcessTracker`). The dispatcher counts
    an event delivered only on its receipt; when the writer fails, every event not yet
    confirmed is encoded in the application's process and kept, as for an unavailable
    tracker. Batches waiting for a retry are still offered whole (``emit``)."""

    send_size: int
    """The most records in one message."""
    window: int
    """The most messages in flight."""

    def send(
        self, records: list[Record], ids: Ids, lines: ExposureLines, timeout: float | None
    ) -> None:
        """Hand ``records`` over (``lines`` writes their exposures, under ``ids``); never
        raises."""
        ...

    def confirmed(self, wait: float | None) -> Confirmations:
        """The receipts that arrived, waiting up to ``wait`` seconds for one (None: as long
        as the tracker's own limit allows), and the failure, if the writer failed."""
        ...

    def after_fork_in_child(self) -> None:
        """In a forked child: what is in flight is the parent's."""
        ...


class Backoff:
    """When the tracker may be offered events again, after it was unavailable."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0  # consecutive unavailable answers
        self.next_try = 0.0  # monotonic time before which the tracker is left alone

    def waiting(self, now: float) -> bool:
        """True while the tracker must be left alone."""
        return now < self.next_try

    def failed(self, retry_after: float | None) -> float:
        """One more unavailable answer; returns the delay until the next try."""
        if retry_after is not None:
            delay = min(self.cap, max(0.0, retry_after))
        else:
            step = min(self.cap, self.base * 2.0 ** min(self.failures, 30))
            delay = step / 2 + random.uniform(0.0, step / 2)
        self.failures += 1
        self.next_try = time.monotonic() + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self.next_try = 0, 0.0
