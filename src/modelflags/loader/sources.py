"""Where flag files come from: a file, a directory of files, or an HTTP(S) URL.

A source hands out :class:`Snapshot` values: the raw bytes of every file, and ``None`` when
nothing changed since the last fetch. Change detection is cheap: ``stat`` for files (size,
mtime and inode, then a content hash so a touch without an edit is no change), ETag and
If-None-Match for URLs. Directories (hidden entries, ConfigMap volumes, files that go
missing for a moment) are read by :mod:`modelflags.loader.directory`.
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
    "is_hidden",
    "open_source",
]

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
    """One YAML file on disk (a symbolic link, such as a ConfigMap key, is followed)."""

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
        return Snapshot(((self.name, content),), ("",))


class UrlSource:
    """A flag file served over HTTP(S), polled with ETag / If-None-Match."""

    is_remote = True

    def __init__(
        self, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.name = url
        self._timeout, self._headers = timeout, headers
        self._client = self._new_client()
        self._etag: str | None = None
        self._digest: bytes | None = None

    def _new_client(self) -> httpx.Client:
        # No redirects: a flag URL that moves is a configuration change, not the server's call.
        return httpx.Client(timeout=self._timeout, headers=self._headers, follow_redirects=False)

    def fetch(self) -> Snapshot | None:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        try:
            with self._client.stream("GET", self.url, headers=headers) as response:
                status, etag = response.status_code, response.headers.get("ETag")
                if status == 304:
                    return None
                if status != 200:
                    moved = response.headers.get("Location")
                    where = f" to {moved} (redirects are not followed)" if moved else ""
                    raise SourceError(f"{self.url}: HTTP {status}{where}")
                content = _read_bounded(response)
        except httpx.HTTPError as error:
            raise SourceError(f"{self.url}: {type(error).__name__}: {error}") from error
        if content is None:
            raise SourceError(f"{self.url}: the body is over the {MAX_FILE_BYTES:,}-byte limit")
        self._etag = etag
        digest = hashlib.sha256(content).digest()
        if digest == self._digest:
            return None
        self._digest = digest
        return Snapshot(((self.url, content),), ("",))

    def after_fork(self) -> None:
        """In a forked child: open a connection pool of its own (the parent's connections
        are left to the parent: closing them here could end the parent's TLS sessions)."""
        self._client = self._new_client()

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
        return Snapshot(((self.name, self._content),), ("",))


def _read_bounded(response: httpx.Response) -> bytes | None:
    """The body, read in chunks and abandoned past :data:`MAX_FILE_BYTES` (None then)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


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
    """At most one byte over the size limit (the loader reports the excess)."""
    try:
        with path.open("rb") as f:
            content = f.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror}") from error
    return content


# Last: the directory source is built on the names above (a module of its own for its size).
from modelflags.loader.directory import DirectorySource  # noqa: E402
