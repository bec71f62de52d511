"""A disk queue of encoded events: where events wait while they cannot be delivered.

Events are appended as JSON lines to segment files named by their creation time, so the
oldest segment is replayed first. The dispatcher reads the head segment a batch at a time
(:meth:`Spool.head`) and commits what the destination settled (:meth:`Spool.commit`); a
segment is deleted only once all of it was settled, so a crash re-sends at most the part
of one segment already delivered (at-least-once: readers de-duplicate by ``eventId``). A
torn last line from a crash is skipped.

Several processes may share one directory (the workers of one server): each appends to
segments of its own and replays them, and adopts the segments of processes that are gone
(see :mod:`modelflags.evidence.spool_owners`). A forked child becomes an owner of its own
instead of writing to its parent's files.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from modelflags.evidence import spool_owners
from modelflags.evidence.codec import Batch
from modelflags.evidence.raw_writes import write_all
from modelflags.evidence.spool_owners import Owner

__all__ = ["Spool"]

_live: weakref.WeakSet[Spool] = weakref.WeakSet()  # for the fork hook below


@dataclass
class _Segment:
    path: Path
    owner: str
    count: int  # events not yet committed
    size: int  # bytes on disk


class Spool:
    """Segment files ``spool-<time>-<owner>.jsonl`` in ``directory``.

    ``segment_bytes`` bounds one segment (the most read into memory at once);
    ``max_bytes`` bounds what this process keeps waiting (appends beyond it are refused;
    the caller counts them as dropped). Appends are thread-safe; reading and committing
    belong to one thread (the dispatcher's).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        segment_bytes: int = 1024 * 1024,
        max_bytes: int = 1024 * 1024 * 1024,
    ) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.max_bytes = max_bytes
        self.appended = 0  # events this process appended, ever
        self.adopted = 0  # events found in segments of owners that are gone
        self.consumed = 0  # events of this process's own segments committed, ever
        self._lock = threading.Lock()
        self._segments: list[_Segment] = []  # oldest first: own and adopted
        self._adopted_locks: dict[str, IO[bytes]] = {}
        self._head_lines: list[bytes] | None = None  # the head segment's lines, read once
        self._head_pos = 0
        self._start_owner()
        _live.add(self)

    def _start_owner(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._owner = Owner(self.directory)
        self.owner = self._owner.id
        self._current: IO[bytes] | None = None  # the file appends go to ...
        self._current_segment: _Segment | None = None  # ... and its segment

    def _check_fork(self) -> None:
        """In a forked child: leave the parent's files to the parent; become a new owner.

        The inherited descriptors are closed without unlocking (an unlock would release the
        parent's lock, which the child shares).
        """
        if os.getpid() == self._owner.pid:
            return
        self._owner.forget_in_child()
        for file in [self._current, *self._adopted_locks.values()]:
            if file is not None:
                with suppress(OSError):
                    file.close()
        self._segments, self._adopted_locks, self._current_segment = [], {}, None
        self._head_lines, self._head_pos = None, 0
        self.appended = self.adopted = self.consumed = 0
        self._start_owner()

    # -- counts ------------------------------------------------------------------------------

    @property
    def events(self) -> int:
        """Events waiting on disk: this process's and those it adopted."""
        return sum(segment.count for segment in self._segments)

    @property
    def adopted_waiting(self) -> int:
        """Events waiting in segments adopted from owners that are gone."""
        return sum(segment.count for segment in self._segments if segment.owner != self.owner)

    @property
    def size(self) -> int:
        """Bytes waiting on disk (this process's and adopted segments)."""
        return sum(segment.size for segment in self._segments)

    def __bool__(self) -> bool:
        return any(segment.count for segment in self._segments)

    # -- writing -----------------------------------------------------------------------------

    def append(self, batch: Batch) -> bool:
        """Write a batch's lines to this process's newest segment; False when the spool is
        full (nothing written). Raises OSError when the disk refuses (nothing kept)."""
        if not len(batch):
            return True
        with self._lock:
            self._check_fork()
            if self.size + len(batch.data) > self.max_bytes:
                return False
            segment = self._current_segment
            if segment is None or segment.size + len(batch.data) > self.segment_bytes:
                segment = self._new_segment()
            assert self._current is not None
            try:
                write_all(self._current, batch.data)
            except OSError:
                self._seal(truncate_to=segment.size)  # no torn line left in the segment
                raise
            segment.count += len(batch)
            segment.size += len(batch.data)
            self.appended += len(batch)
            return True

    def _new_segment(self) -> _Segment:
        self._seal()
        path = self._owner.segment_path(time.time_ns())
        self._current = path.open("ab", buffering=0)
        segment = self._current_segment = _Segment(path, self.owner, 0, 0)
        self._segments.append(segment)
        return segment

    def _seal(self, truncate_to: int | None = None) -> None:
        """Stop appending to the current segment (the next append starts a new one)."""
        self._current_segment = None
        if self._current is None:
            return
        with suppress(OSError):
            if truncate_to is not None:
                self._current.truncate(truncate_to)
            self._current.close()
        self._current = None

    # -- reading (the dispatcher's thread) ---------------------------------------------------

    def head(self, limit: int) -> Batch | None:
        """The oldest events not yet committed, at most ``limit`` (None when empty).

        Reading the segment appends go to seals it: later appends start a new one.
        """
        with self._lock:
            self._check_fork()
            while self._segments:
                segment = self._segments[0]
                if self._head_lines is None:
                    if segment is self._current_segment:
                        self._seal()
                    self._head_lines, self._head_pos = _read_lines(segment.path), 0
                    segment.count = len(self._head_lines)  # what is really there
                if self._head_pos < len(self._head_lines):
                    lines = self._head_lines[self._head_pos : self._head_pos + limit]
                    return Batch.of_lines(lines)
                self._drop_head()
            return None

    def commit(self, count: int) -> None:
        """The first ``count`` events of the last :meth:`head` were settled (delivered or
        failed): they are not offered again; a segment settled to its end is deleted."""
        if count <= 0:
            return
        with self._lock:
            if self._head_lines is None or not self._segments:
                return
            segment = self._segments[0]
            self._head_pos += count
            segment.count = max(0, segment.count - count)
            if segment.owner == self.owner:
                self.consumed += count
            if self._head_pos >= len(self._head_lines):
                self._drop_head()

    def _drop_head(self) -> None:
        segment = self._segments.pop(0)
        self._head_lines, self._head_pos = None, 0
        with suppress(OSError):
            segment.path.unlink()
        if segment.owner != self.owner and not any(
            other.owner == segment.owner for other in self._segments
        ):
            self._release_adopted(segment.owner)

    # -- adopting what other processes left --------------------------------------------------

    def adopt(self) -> int:
        """Take over the segments of owners that are gone (their lock is free), oldest first
        among this process's own; the number of events adopted."""
        with self._lock:
            self._check_fork()
            found: dict[str, list[Path]] = {}
            for path in spool_owners.segments(self.directory):
                owner = spool_owners.owner_of(path)
                if owner is not None and owner != self.owner and owner not in self._adopted_locks:
                    found.setdefault(owner, []).append(path)
            events = 0
            for owner, paths in found.items():
                lock = spool_owners.take(self.directory, owner)
                if lock is None:
                    continue  # alive (or being adopted by another process)
                self._adopted_locks[owner] = lock
                for path in paths:
                    try:
                        data = path.read_bytes()
                    except OSError:
                        continue
                    self._segments.append(_Segment(path, owner, data.count(b"\n"), len(data)))
                    events += data.count(b"\n")
            spool_owners.forget_stale(self.directory, {self.owner, *found, *self._adopted_locks})
            if events:
                head = self._segments[0] if self._head_lines is not None else None
                rest = sorted(self._segments[1 if head else 0 :], key=lambda s: s.path.name)
                self._segments = [head, *rest] if head is not None else rest
            self.adopted += events
            return events

    def _trim_head(self) -> None:
        """Rewrite a partly delivered head segment without its delivered lines (atomically),
        so that the process that adopts it sends and counts only what is left."""
        if self._head_lines is None or not self._head_pos or not self._segments:
            return
        segment = self._segments[0]
        rest = self._head_lines[self._head_pos :]
        staged = segment.path.with_name(f".{segment.path.name}.tmp")
        try:
            staged.write_bytes(b"".join(rest))
            staged.replace(segment.path)
        except OSError:  # the delivered part is sent again: at-least-once
            with suppress(OSError):
                staged.unlink()
            return
        segment.size = sum(map(len, rest))
        self._head_lines, self._head_pos = rest, 0

    def _release_adopted(self, owner: str) -> None:
        lock = self._adopted_locks.pop(owner, None)
        if lock is not None:
            spool_owners.release_taken(self.directory, owner, lock)

    def close(self) -> None:
        """Stop appending and release the locks: what is left is adopted by the next process
        that opens this directory."""
        with self._lock:
            if os.getpid() != self._owner.pid:
                return
            self._seal()
            self._trim_head()
            for owner in list(self._adopted_locks):
                if any(segment.owner == owner for segment in self._segments):
                    self._adopted_locks.pop(owner).close()
                else:
                    self._release_adopted(owner)
            left = any(segment.owner == self.owner for segment in self._segments)
            self._owner.release(remove=not left)


def _unlock_in_child() -> None:
    """A forked child gets fresh locks: one held by a parent's thread at the fork would
    never be released in the child. (The rest happens at the child's first use.)"""
    for spool in list(_live):
        spool._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unlock_in_child)


def _read_lines(path: Path) -> list[bytes]:
    """A segment's complete lines, each ending in a newline; blank lines left out.

    A segment deleted meanwhile (by hand) reads as empty; other errors are raised.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = data.splitlines(keepends=True)
    if lines and not lines[-1].endswith(b"\n"):
        lines.pop()  # torn by a crash mid-write
    return [line for line in lines if line.strip()]
