"""Where flag files come from: a file, a directory of files, an HTTP(S) URL, or inline text;
and the one way to open a source by name (:func:`open_source`) or read it once
(:func:`read_source`).

Change detection is cheap: ``stat`` for files (size, mtime and inode, then a content hash so
a touch without an edit is no change), ETag and If-None-Match for URLs
(:mod:`modelflags.loader.url_source`). Directories (hidden entries, ConfigMap volumes, files
that go missing for a moment) are read by :mod:`modelflags.loader.directory`. What every
source is (:class:`~modelflags.loader.source.Source`, its lifecycle, and the
:class:`~modelflags.loader.source.Snapshot` it hands out) is in
:mod:`modelflags.loader.source`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from modelflags.errors import SourceError
from modelflags.loader.directory import DirectorySource
from modelflags.loader.source import Snapshot, Source, SourceSpec, is_flag_file, is_hidden
from modelflags.loader.yaml_document import MAX_FILE_BYTES

if TYPE_CHECKING:
    from modelflags.loader.url_source import UrlSource

__all__ = [
    "MAX_FILE_BYTES",
    "DirectorySource",
    "FileSource",
    "InlineSource",
    "Snapshot",
    "Source",
    "SourceSpec",
    "UrlSource",
    "is_flag_file",
    "is_hidden",
    "open_source",
    "read_source",
]

_URL_SCHEMES = ("http://", "https://")


class FileSource(Source):
    """One YAML file on disk (a symbolic link, such as a ConfigMap key, is followed)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = os.fspath(path)
        self._stamp: tuple[int, int, int] | None = None
        self._digest: str | None = None

    def read(self) -> Snapshot:
        return self._read_at(_stat(self.path))

    def fetch(self) -> Snapshot | None:
        stamp = _stat(self.path)
        if stamp == self._stamp:
            return None
        previous = self._digest
        snapshot = self._read_at(stamp)
        return None if snapshot.digest == previous else snapshot

    def _read_at(self, stamp: tuple[int, int, int]) -> Snapshot:
        """Read the file, remembering ``stamp`` (taken before the read) and the contents."""
        snapshot = Snapshot(((self.name, _read(self.path)),), ("",))
        self._stamp, self._digest = stamp, snapshot.digest
        return snapshot


class InlineSource(Source):
    """Flag YAML held in memory (tests, notebooks): its contents never change."""

    def __init__(self, text: str, *, name: str = "<inline>") -> None:
        self.name = name
        self._snapshot = Snapshot(((name, text.encode()),), ("",))
        self._handed_out = False

    def read(self) -> Snapshot:
        self._handed_out = True
        return self._snapshot

    def fetch(self) -> Snapshot | None:
        return None if self._handed_out else self.read()


def open_source(spec: SourceSpec) -> Source:
    """The source for a path (file or directory) or an ``http(s)://`` URL; a :class:`Source`
    is returned as it is. Nothing is read yet; raises :class:`SourceError` for a path that
    does not exist.

    The caller owns what it opened: close it, or use it in a ``with`` block.
    """
    if isinstance(spec, Source):
        return spec
    text = os.fspath(spec)
    if text.startswith(_URL_SCHEMES):
        from modelflags.loader.url_source import UrlSource

        return UrlSource(text)
    path = Path(text)
    if path.is_dir():
        return DirectorySource(path)
    if path.is_file():
        return FileSource(path)
    raise SourceError(f"{text}: no such file or directory")


def read_source(spec: SourceSpec) -> Snapshot:
    """The contents of a source, read once (``validate``, ``diff``, :func:`load_flags`).

    A path or URL is opened for this read and closed after it, so nothing is left open. A
    :class:`Source` given is read and left open: whoever made it closes it. Raises
    :class:`SourceError` when the source cannot be read.
    """
    if isinstance(spec, Source):
        return spec.read()
    with open_source(spec) as source:
        return source.read()


def __getattr__(name: str) -> object:
    """``UrlSource`` is importable from here, but ``httpx`` is imported on first use only."""
    if name == "UrlSource":
        from modelflags.loader.url_source import UrlSource

        return UrlSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _stat(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
    return st.st_size, st.st_mtime_ns, st.st_ino


def _read(path: Path) -> bytes:
    """At most one byte over the size limit (the loader reports the excess)."""
    try:
        with path.open("rb") as f:
            content = f.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
    return content
