"""Where flag files come from: a file, a directory of files, or an HTTP(S) URL.

A source hands out :class:`Snapshot` values: the raw bytes of every file, and ``None`` when
nothing changed since the last fetch. Change detection is cheap: ``stat`` for files (size
and mtime, then a content hash so a touch without an edit is no change), ETag and
If-None-Match for URLs.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

import httpx

from modelflags.errors import SourceError
from modelflags.loader.yaml_document import MAX_FILE_BYTES

__all__ = [
    "DirectorySource",
    "FileSource",
    "InlineSource",
    "Snapshot",
    "Source",
    "UrlSource",
    "is_flag_file",
    "open_source",
]

_SUFFIXES = (".yaml", ".yml")


def is_flag_file(name: str) -> bool:
    """Whether a directory source reads a file of this name: its suffix is ``.yaml`` or ``.yml``.

    The suffix is matched as :attr:`pathlib.PurePath.suffix` reads it, case-sensitively, so a
    file named only ``.yaml`` has no suffix and is not read. ``diff --git`` selects a
    revision's files by the same rule.

    >>> [is_flag_file(name) for name in ("a.yaml", "a.yml", "a.YAML", ".yaml", "a.yaml.bak")]
    [True, True, False, False, False]
    """
    return PurePosixPath(name).suffix in _SUFFIXES


@dataclass(frozen=True)
class Snapshot:
    """The contents of a source at one moment: (display name, bytes) per file, in order."""

    files: tuple[tuple[str, bytes], ...]

    @property
    def digest(self) -> str:
        """A short content hash: the ``configVersion`` of everything loaded from it."""
        h = hashlib.sha256()
        for name, content in self.files:
            h.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
        return h.hexdigest()[:12]


class Source(Protocol):
    """A place flag files are read from."""

    @property
    def name(self) -> str:
        """How the source is named in messages."""
        ...

    @property
    def is_remote(self) -> bool:
        """Whether fetching crosses the network (sets the default polling interval)."""
        ...

    def fetch(self) -> Snapshot | None:
        """The current contents, or ``None`` when unchanged since the last fetch.

        Raises :class:`~modelflags.errors.SourceError` when the source cannot be read.
        """
        ...


class FileSource:
    """One YAML file on disk."""

    is_remote = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = os.fspath(path)
        self._stamp: tuple[int, int, int] | None = None
        self._digest: bytes | None = None

    def fetch(self) -> Snapshot | None:
        stamp = _stat(self.path)
        if stamp == self._stamp:
            return None
        content = _read(self.path)
        digest = hashlib.sha256(content).digest()
        self._stamp = stamp
        if digest == self._digest:
            return None
        self._digest = digest
        return Snapshot(((self.name, content),))


class DirectorySource:
    """Every ``*.yaml`` and ``*.yml`` file below a directory, merged (sorted by path).

    Files are selected by :func:`is_flag_file`; symbolic links to files are followed, links
    to directories are not descended into.
    """

    is_remote = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = os.fspath(path)
        self._stamp: tuple[tuple[str, int, int, int], ...] | None = None
        self._digest: str | None = None

    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in self.path.rglob("*") if is_flag_file(p.name) and p.is_file())
        except OSError as error:
            raise SourceError(f"{self.name}: cannot list directory: {error}") from error

    def fetch(self) -> Snapshot | None:
        files = self._files()
        stamp = tuple((str(p), *_stat(p)) for p in files)
        if stamp == self._stamp:
            return None
        snapshot = Snapshot(tuple((os.path.join(self.name, p.relative_to(self.path)), _read(p))
                                  for p in files))  # fmt: skip
        self._stamp = stamp
        if snapshot.digest == self._digest:
            return None
        self._digest = snapshot.digest
        return snapshot


class UrlSource:
    """A flag file served over HTTP(S), polled with ETag / If-None-Match."""

    is_remote = True

    def __init__(
        self, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.name = url
        self._client = httpx.Client(timeout=timeout, headers=headers, follow_redirects=True)
        self._etag: str | None = None
        self._digest: bytes | None = None

    def fetch(self) -> Snapshot | None:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        try:
            response = self._client.get(self.url, headers=headers)
        except httpx.HTTPError as error:
            raise SourceError(f"{self.url}: {type(error).__name__}: {error}") from error
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            raise SourceError(f"{self.url}: HTTP {response.status_code}")
        content = response.content
        if len(content) > MAX_FILE_BYTES:
            raise SourceError(f"{self.url}: {len(content):,} bytes is over the limit")
        self._etag = response.headers.get("ETag")
        digest = hashlib.sha256(content).digest()
        if digest == self._digest:
            return None
        self._digest = digest
        return Snapshot(((self.url, content),))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


class InlineSource:
    """Flag YAML held in memory (tests, notebooks): its contents never change."""

    is_remote = False

    def __init__(self, text: str, *, name: str = "<inline>") -> None:
        self.name = name
        self._content = text.encode()
        self._fetched = False

    def fetch(self) -> Snapshot | None:
        if self._fetched:
            return None
        self._fetched = True
        return Snapshot(((self.name, self._content),))


def open_source(spec: str | os.PathLike[str] | Source) -> Source:
    """The source for a path (file or directory) or an ``http(s)://`` URL."""
    if not isinstance(spec, str | os.PathLike):
        return spec
    text = os.fspath(spec)
    if text.startswith(("http://", "https://")):
        return UrlSource(text)
    path = Path(text)
    if path.is_dir():
        return DirectorySource(path)
    if path.is_file():
        return FileSource(path)
    raise SourceError(f"{text}: no such file or directory")


def _stat(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
    return st.st_size, st.st_mtime_ns, st.st_ino


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            content = f.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
    return content
