"""Events appended to a JSON-lines file: the simplest durable tracker.

Append-only; each batch is one ``write`` of whole lines. When the file passes
``rotate_bytes`` it is renamed to ``NAME.1.jsonl``, ``NAME.2.jsonl``, ... (the highest
number is the newest rotated file) and a new file is started. ``fsync`` says when data is
forced to disk: ``"never"`` (the OS decides; fastest), ``"flush"`` (on every flush and
close) or ``"always"`` (after every batch). Readers (:func:`read_events`) skip a torn last
line left by a crash.

A write that fails (a full disk, a path that cannot be written) raises
:class:`~modelflags.evidence.tracker.TrackerUnavailable`: the dispatcher keeps the batch and
offers it again later, so an operator who frees the disk loses nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Literal

from modelflags.evidence.codec import encode_lines
from modelflags.evidence.raw_writes import write_all
from modelflags.evidence.tracker import Event, TrackerUnavailable

__all__ = ["Fsync", "JsonlTracker", "StdoutTracker", "checked_fsync", "rotated_files"]

Fsync = Literal["never", "flush", "always"]


def checked_fsync(value: Fsync) -> Fsync:
    """``value`` if it is an fsync policy; a ValueError naming the three otherwise."""
    if value not in ("never", "flush", "always"):
        raise ValueError(f"fsync must be 'never', 'flush' or 'always', not {value!r}")
    return value


class JsonlTracker:
    """Appends events to ``path`` as JSON lines (parent folders are created)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        rotate_bytes: int | None = 256 * 1024 * 1024,
        fsync: Fsync = "flush",
    ) -> None:
        self.path = Path(path)
        self.rotate_bytes = rotate_bytes
        self.fsync = checked_fsync(fsync)
        self._file: IO[bytes] | None = None
        self._size = 0

    def _open(self) -> IO[bytes]:
        if self._file is None:
            # Here, not in __init__: a path that cannot be written fails emit (retried and
            # logged by the dispatcher) instead of the application's start-up.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Unbuffered: a failed write (a full disk) fails this batch's emit, where the
            # dispatcher keeps it, instead of a later flush that loses events silently.
            file = self.path.open("ab", buffering=0)
            if file.tell() and not _ends_with_newline(self.path):
                file.write(b"\n")  # end a torn last line, or the next event joins it
            self._file, self._size = file, file.tell()
        return self._file

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        """Append the events as one write; raise TrackerUnavailable if the file refuses."""
        try:
            self._write(encode_lines(events))
        except OSError as error:
            raise TrackerUnavailable(f"{type(error).__name__}: {error}") from error

    def _write(self, data: bytes) -> None:
        file = self._open()
        if (
            self.rotate_bytes is not None
            and self._size
            and self._size + len(data) > self.rotate_bytes
        ):
            self._rotate()
            file = self._open()
        try:
            write_all(file, data)
        except OSError:
            self._file = None  # reopen next time: _open ends the torn line first
            file.close()
            raise
        self._size += len(data)
        if self.fsync == "always":
            os.fsync(file.fileno())

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        self._file = None
        rotated = rotated_files(self.path)  # numbered after the newest: never overwrite one
        number = _rotation_number(self.path, rotated[-1]) + 1 if rotated else 1
        self.path.rename(self.path.with_name(f"{self.path.stem}.{number}{self.path.suffix}"))

    def flush(self, timeout: float | None = None) -> None:
        if self._file is not None and self.fsync != "never":
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _rotation_number(live: Path, candidate: Path) -> int:
    """N of ``NAME.N.jsonl`` (-1 when ``candidate`` is not a rotated file of ``live``)."""
    number = candidate.name[len(live.stem) + 1 : len(candidate.name) - len(live.suffix)]
    return int(number) if number.isdigit() else -1


def rotated_files(path: str | os.PathLike[str]) -> list[Path]:
    """The rotated files of a JSONL path, oldest first (not including the live file)."""
    live = Path(path)
    found = []
    for candidate in live.parent.glob(f"{live.stem}.*{live.suffix}"):
        number = _rotation_number(live, candidate)
        if number >= 0:
            found.append((number, candidate))
    return [candidate for _, candidate in sorted(found)]


class StdoutTracker:
    """Events as JSON lines on standard output (or another binary stream)."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        try:
            self.stream.write(encode_lines(events))
        except (OSError, ValueError) as error:  # a closed pipe or stream
            raise TrackerUnavailable(f"{type(error).__name__}: {error}") from error

    def flush(self, timeout: float | None = None) -> None:
        self.stream.flush()

    def close(self) -> None:
        self.flush()
