"""Who owns which segments of a spill dir that several processes share.

Each process is an :class:`Owner`: an id (its pid and random bits) that names its segments
``spool-<time>-<id>.jsonl``, and a lock file ``owner-<id>.lock`` it holds (``flock``) while it
lives. The kernel releases the lock when the process ends, however it ends (``SIGKILL``
included), so "the lock is free" means "the owner is gone": its segments may be adopted, by
one process only (taking the lock is exclusive). A lock file is created under a temporary
name, locked, then renamed into place, so that no process ever sees the lock file of a live
owner unlocked. Without ``fcntl`` (Windows) locks always succeed: give each process its own
directory there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Owner", "forget_stale", "owner_of", "release_taken", "segments", "take"]

SEGMENT = "spool-"
SUFFIX = ".jsonl"
_OWNER = "owner-"
_LOCK = ".lock"


def _try_lock(file: IO[bytes]) -> bool:
    """An exclusive ``flock`` on ``file`` without waiting; True if taken (or unsupported)."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _lock_path(directory: Path, owner: str) -> Path:
    return directory / f"{_OWNER}{owner}{_LOCK}"


class Owner:
    """This process in ``directory``: its id, and the lock it holds while it lives."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pid = os.getpid()
        self.id = f"{self.pid}x{os.urandom(4).hex()}"
        provisional = directory / f".{_OWNER}{self.id}{_LOCK}.tmp"
        self._lock: IO[bytes] | None = provisional.open("ab")
        _try_lock(self._lock)
        provisional.replace(_lock_path(directory, self.id))

    def segment_path(self, time_ns: int) -> Path:
        return self.directory / f"{SEGMENT}{time_ns:020d}-{self.id}{SUFFIX}"

    def release(self, *, remove: bool) -> None:
        """Let the lock go (the segments left become adoptable); ``remove`` the lock file
        when no segment is left."""
        if self._lock is None:
            return
        if remove:
            with suppress(OSError):
                _lock_path(self.directory, self.id).unlink()
        self._lock.close()
        self._lock = None

    def forget_in_child(self) -> None:
        """In a forked child: close the inherited descriptor without unlocking (an unlock
        would release the parent's lock, which the child shares)."""
        if self._lock is not None:
            with suppress(OSError):
                self._lock.close()
            self._lock = None


def owner_of(path: Path) -> str | None:
    """The owner id in ``spool-<time>-<owner>.jsonl`` (None for a name of another shape)."""
    middle = path.name[len(SEGMENT) : -len(SUFFIX)]
    _, dash, owner = middle.partition("-")
    return owner if dash and owner else None


def segments(directory: Path) -> Iterator[Path]:
    """The segment files in ``directory``, oldest first."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        if name.startswith(SEGMENT) and name.endswith(SUFFIX):
            yield directory / name


def take(directory: Path, owner: str) -> IO[bytes] | None:
    """The lock of ``owner`` if it is gone (its lock is free), held from now on; else None."""
    try:
        lock = _lock_path(directory, owner).open("ab")
    except OSError:
        return None
    if _try_lock(lock):
        return lock
    lock.close()
    return None


def release_taken(directory: Path, owner: str, lock: IO[bytes]) -> None:
    """Done with the segments of an adopted ``owner``: its lock file goes too."""
    with suppress(OSError):
        _lock_path(directory, owner).unlink()
    lock.close()


def forget_stale(directory: Path, keep: set[str]) -> None:
    """Delete the lock files of owners that are gone and left no segment (not in ``keep``)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(_OWNER) and name.endswith(_LOCK)):
            continue
        owner = name[len(_OWNER) : -len(_LOCK)]
        if owner not in keep and (lock := take(directory, owner)) is not None:
            release_taken(directory, owner, lock)
