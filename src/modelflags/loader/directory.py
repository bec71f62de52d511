"""A directory of flag files, read the way deployments write directories.

Hidden entries (names starting with ``.``) are skipped. A folder holding a ``..data``
symbolic link is a Kubernetes ConfigMap (or Secret, or projected) volume: the kubelet writes
each new generation of its files into a fresh hidden folder, then renames a ``..data_tmp``
link over ``..data``; the visible ``name.yaml`` entries are links to ``..data/name.yaml``.
Such a folder is read from the one generation ``..data`` names, checked again after the
read, so a read never mixes two generations and a swap is one change.

In any other folder a file that was read before and is gone now keeps the source stale (the
last good flags keep serving) until it has been gone for ``removal_grace`` seconds: a save by
delete-then-write or by move-then-write is not a removal, a deletion that lasts is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

from modelflags.errors import SourceError
from modelflags.loader.source import Snapshot, Source, is_flag_file, is_hidden
from modelflags.loader.yaml_document import MAX_FILE_BYTES

__all__ = ["ATOMIC_LINK", "REMOVAL_GRACE_SECONDS", "DirectorySource"]

ATOMIC_LINK = "..data"
"""The link a Kubernetes volume swaps atomically to publish a new generation of its files."""

REMOVAL_GRACE_SECONDS = 2.0
"""How long a file of a plain folder must stay gone before its flags are removed."""

_SCAN_ATTEMPTS = 5  # the directory changed under the reader: scan again at once, this often

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Listing:
    """One scan: each flag file's name below the source and the path it is read at, and the
    generation each ConfigMap-style folder (named below the source) showed."""

    files: tuple[tuple[str, str], ...]
    generations: tuple[tuple[str, str], ...]

    @property
    def names(self) -> frozenset[str]:
        """The names of the flag files found."""
        return frozenset(name for name, _ in self.files)

    def atomic(self, name: str) -> bool:
        """Whether the file ``name`` lies in a folder published by ``..data`` swaps."""
        return any(not root or name.startswith(root + "/") for root, _ in self.generations)


class _Moved(Exception):
    """A path vanished, or a generation was swapped, while the directory was being read."""


class DirectorySource(Source):
    """Every ``*.yaml`` and ``*.yml`` file below a directory, merged (sorted by path).

    Files are selected by :func:`~modelflags.loader.source.is_flag_file`; hidden entries
    are skipped; symbolic links to files are followed, links to directories are not
    descended into. ``clock`` (monotonic seconds) times ``removal_grace``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        removal_grace: float = REMOVAL_GRACE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.name = os.fspath(path)
        self.removal_grace = removal_grace
        self._clock = clock
        self._stamp: object = None
        self._digest: str | None = None
        self._known: frozenset[str] = frozenset()
        self._missing_since: dict[str, float] = {}

    def read(self) -> Snapshot:
        """The current contents; raises :class:`~modelflags.errors.SourceError` while the
        directory cannot be read or a file is missing within its grace."""
        return self._retry(self._read_once)

    def fetch(self) -> Snapshot | None:
        """The contents when changed, ``None`` when not; raises as :meth:`read` does."""
        return self._retry(self._fetch_once)

    def _retry(self, step: Callable[[], _T]) -> _T:
        """``step()``, scanned again at once while the directory changes under it."""
        for _ in range(_SCAN_ATTEMPTS):
            try:
                return step()
            except _Moved:
                continue
        raise SourceError(f"{self.name}: files kept changing while being read")

    def _read_once(self) -> Snapshot:
        listing, stamp = self._look()
        return self._take(listing, stamp)

    def _fetch_once(self) -> Snapshot | None:
        listing, stamp = self._look()
        if stamp == self._stamp:
            self._known, self._missing_since = listing.names, {}
            return None
        previous = self._digest
        snapshot = self._take(listing, stamp)
        return None if snapshot.digest == previous else snapshot

    def _look(self) -> tuple[_Listing, object]:
        """Scan, hold back a missing file within its grace, and stamp what was found (the
        generations, and each file's name, size, mtime and inode)."""
        listing = self._scan()
        self._hold_missing(listing.names, listing)
        stamp = (listing.generations, tuple((name, *_stat(real)) for name, real in listing.files))
        return listing, stamp

    def _take(self, listing: _Listing, stamp: object) -> Snapshot:
        """Read the files of ``listing`` and remember them as the contents last handed out."""
        contents = [_read(real) for _, real in listing.files]
        if self._generations(listing) != listing.generations:
            raise _Moved  # read across a swap: what was read may mix two generations
        snapshot = Snapshot(
            tuple((os.path.join(self.name, name), content)
                  for (name, _), content in zip(listing.files, contents, strict=True)),
            tuple(name for name, _ in listing.files),
        )  # fmt: skip
        self._known, self._missing_since = listing.names, {}
        self._stamp, self._digest = stamp, snapshot.digest
        return snapshot

    def _hold_missing(self, present: frozenset[str], listing: _Listing) -> None:
        """Raise while a file of a plain folder that was read before has been gone for less
        than ``removal_grace`` seconds (a ConfigMap generation without it is a removal)."""
        now = self._clock()
        missing = {name for name in self._known - present if not listing.atomic(name)}
        self._missing_since = {name: self._missing_since.get(name, now) for name in missing}
        held = sorted(name for name, since in self._missing_since.items()
                      if now - since < self.removal_grace)  # fmt: skip
        if held:
            more = f" (and {len(held) - 1} more)" if len(held) > 1 else ""
            raise SourceError(
                f"{os.path.join(self.name, held[0])}: missing{more}; its flags keep serving"
                f" unless it stays gone for {self.removal_grace:g} s"
            )

    def _scan(self) -> _Listing:
        files: list[tuple[str, str]] = []
        generations: list[tuple[str, str]] = []
        pending = [("", self.name)]
        while pending:
            relative, directory = pending.pop()
            generation = _generation(directory)
            if generation is not None:
                generations.append((relative, generation))
                directory = os.path.join(directory, generation)
            try:
                with os.scandir(directory) as found:
                    entries = [entry for entry in found if not is_hidden(entry.name)]
            except FileNotFoundError as error:
                if not relative and generation is None:
                    raise SourceError(f"{self.name}: no such directory") from error
                raise _Moved from error
            except OSError as error:
                raise SourceError(f"{self.name}: cannot list directory: {error}") from error
            for entry in entries:
                name = f"{relative}/{entry.name}" if relative else entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((name, entry.path))
                    elif is_flag_file(entry.name) and entry.is_file():
                        files.append((name, entry.path))
                except OSError as error:
                    raise SourceError(f"{entry.path}: {error.strerror}") from error
        files.sort(key=lambda file: PurePosixPath(file[0]).parts)
        generations.sort()
        return _Listing(tuple(files), tuple(generations))

    def _generations(self, listing: _Listing) -> tuple[tuple[str, str], ...]:
        """The generations the ConfigMap-style folders of ``listing`` show now."""
        return tuple(
            (relative, _generation(os.path.join(self.name, relative)) or "")
            for relative, _ in listing.generations
        )


def _generation(directory: str) -> str | None:
    """The folder ``directory/..data`` links to, when it is a link to a name beside it."""
    try:
        target = os.readlink(os.path.join(directory, ATOMIC_LINK))
    except OSError:
        return None
    return target if target and "/" not in target.rstrip("/") else None


def _stat(path: str) -> tuple[int, int, int]:
    try:
        st = os.stat(path)
    except FileNotFoundError as error:
        raise _Moved from error  # listed a moment ago: scan again
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
    return st.st_size, st.st_mtime_ns, st.st_ino


def _read(path: str) -> bytes:
    """At most one byte over the size limit (the loader reports the excess)."""
    try:
        with open(path, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as error:
        raise _Moved from error
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
