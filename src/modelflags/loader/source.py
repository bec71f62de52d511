"""What every flag source is: a :class:`Source` hands out :class:`Snapshot` values and has a
lifecycle.

A source is read once with :meth:`Source.read` (the contents, always) and then polled with
:meth:`Source.fetch` (the contents when they changed, ``None`` when they did not): the first
read cannot come back empty-handed, by its type. :meth:`Source.close` releases whatever the
source holds open (a URL source's connection pool) and is a no-op for sources that hold
nothing, so callers close every source the same way, or use it as a context manager::

    with open_source("flags/") as source:
        snapshot = source.read()

The kinds of source (file, directory, URL, inline text) and :func:`open_source` are in
:mod:`modelflags.loader.sources`.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import TracebackType
from typing import TypeVar

__all__ = ["Snapshot", "Source", "SourceSpec", "is_flag_file", "is_hidden"]

_SUFFIXES = (".yaml", ".yml")


def is_hidden(name: str) -> bool:
    """Whether a directory source skips an entry of this name: it starts with ``.``.

    This skips the kubelet's ``..data`` link and ``..2026_11_29_...`` generation folders,
    version control folders and the temporary files many editors and tools save through.
    """
    return name.startswith(".")


def is_flag_file(name: str) -> bool:
    """Whether a directory source reads a file of this name: its suffix is ``.yaml`` or
    ``.yml`` and it is not hidden.

    The suffix is matched as :attr:`pathlib.PurePath.suffix` reads it, case-sensitively.
    ``diff --git`` selects a revision's files by the same rule.

    >>> names = ("a.yaml", "a.yml", "a.YAML", ".yaml", "a.yaml.bak", ".a.yaml")
    >>> [is_flag_file(name) for name in names]
    [True, True, False, False, False, False]
    """
    return not is_hidden(name) and PurePosixPath(name).suffix in _SUFFIXES


@dataclass(frozen=True)
class Snapshot:
    """The contents of a source at one moment: (display name, bytes) per file, in order.

    ``names`` are the files' names relative to the source (``team/a.yaml`` in a directory,
    the empty string for a single file or a URL): the ``configVersion`` hashes these, so
    replicas mounting the same files at different paths agree. ``None`` hashes the display
    names (snapshots assembled by hand, such as a git revision's files).
    """

    files: tuple[tuple[str, bytes], ...]
    names: tuple[str, ...] | None = None

    @property
    def digest(self) -> str:
        """The ``configVersion`` of everything loaded from this snapshot: the first 12 hex
        digits of a SHA-256 over, for each file in order, its name's UTF-8 bytes, a NUL byte
        and the SHA-256 of its contents."""
        names = self.names if self.names is not None else tuple(n for n, _ in self.files)
        h = hashlib.sha256()
        for name, (_, content) in zip(names, self.files, strict=True):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            h.update(hashlib.sha256(content).digest())
        return h.hexdigest()[:12]


_S = TypeVar("_S", bound="Source")


class Source(ABC):
    """A place flag files are read from: a file, a directory, a URL, or text in memory.

    Subclasses implement :meth:`read` and :meth:`fetch`, set :attr:`name`, and override
    :meth:`close` and :meth:`after_fork` when they hold something open. Both reading methods
    raise :class:`~modelflags.errors.SourceError` when the source cannot be read.
    """

    name: str
    """How the source is named in messages (the path or URL it was opened with)."""

    is_remote: bool = False
    """Whether reading crosses the network (sets the default polling interval)."""

    @abstractmethod
    def read(self) -> Snapshot:
        """The current contents, changed or not; the next :meth:`fetch` compares with them."""

    @abstractmethod
    def fetch(self) -> Snapshot | None:
        """The contents when they changed since the last :meth:`read` or :meth:`fetch`,
        ``None`` when they did not (the first call of a source never read returns them)."""

    def close(self) -> None:  # noqa: B027 (a no-op unless overridden, on purpose)
        """Release what the source holds open. A no-op unless a subclass holds something;
        a closed source may be read again (it opens what it needs anew)."""

    def after_fork(self) -> None:  # noqa: B027 (a no-op unless overridden, on purpose)
        """In the child of a ``fork``: stop sharing what the parent holds open (a no-op
        unless a subclass holds something the parent keeps using)."""

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


SourceSpec = str | os.PathLike[str] | Source
"""What names a flag source: a path (file or directory), an ``http(s)://`` URL, or a
:class:`Source` already made."""
