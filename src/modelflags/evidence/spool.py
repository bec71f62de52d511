"""A disk queue of events: where events wait while they cannot be delivered.

Events are appended as JSON lines to numbered segment files in one directory; readers take
the oldest segment whole and delete it only after the events were delivered (at-least-once:
a crash between delivery and deletion re-sends a segment, which readers de-duplicate by
``eventId``). A torn last line from a crash is skipped. Thread-safe.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from modelflags.evidence.codec import decode_lines, encode_lines
from modelflags.evidence.tracker import Event

__all__ = ["Spool"]

_PREFIX = "spool-"
_SUFFIX = ".jsonl"


class Spool:
    """Segment files ``spool-000000000001.jsonl``, ... in ``directory``.

    ``segment_bytes`` bounds one segment; ``max_bytes`` bounds the whole spool (appends
    beyond it are refused and counted by the caller as dropped).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        segment_bytes: int = 4 * 1024 * 1024,
        max_bytes: int = 1024 * 1024 * 1024,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        existing = self._segments()
        self._next = (_number(existing[-1]) + 1) if existing else 1
        self._size = sum(path.stat().st_size for path in existing)
        self._current: Path | None = None  # the segment appends go to; older ones are sealed

    def _segments(self) -> list[Path]:
        return sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"))

    @property
    def size(self) -> int:
        """Bytes waiting on disk."""
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def append(self, events: Sequence[Event]) -> bool:
        """Write events to the newest segment; False when the spool is full (nothing written)."""
        data = encode_lines(events)
        with self._lock:
            if self._size + len(data) > self.max_bytes:
                return False
            path = self._current
            if path is None or path.stat().st_size + len(data) > self.segment_bytes:
                path = self._current = self.directory / f"{_PREFIX}{self._next:012d}{_SUFFIX}"
                self._next += 1
            with path.open("ab") as f:
                f.write(data)
            self._size += len(data)
            return True

    def oldest(self) -> tuple[Path, list[Event]] | None:
        """The oldest segment and its events (a torn last line skipped), or None if empty.

        Call :meth:`remove` with the path once its events are delivered.
        """
        with self._lock:
            segments = self._segments()
            if not segments:
                return None
            path = segments[0]
            if path == self._current:  # seal it: appends start a new segment
                self._current = None
            data = path.read_bytes()
        return path, decode_lines(data)

    def remove(self, path: Path) -> None:
        """Forget a delivered segment."""
        with self._lock:
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                return
            self._size = max(0, self._size - size)


def _number(path: Path) -> int:
    return int(path.name[len(_PREFIX) : -len(_SUFFIX)])
