"""A flag file served over HTTP(S), polled with ETag / If-None-Match.

A module of its own so that only a process that reads a URL imports ``httpx``. The source
opens its connection pool on first use and :meth:`UrlSource.close` closes it (a later read
opens a new one), so a one-shot read through :func:`~modelflags.loader.sources.read_source`
leaves no connection behind.
"""

from __future__ import annotations

import httpx

from modelflags.errors import SourceError
from modelflags.loader.source import Snapshot, Source
from modelflags.loader.yaml_document import MAX_FILE_BYTES

__all__ = ["UrlSource"]

NOT_MODIFIED = 304


class UrlSource(Source):
    """A flag file served over HTTP(S). Redirects are not followed: a flag URL that moves is a
    configuration change, not the server's call.

    ``transport`` replaces the network (``httpx.MockTransport`` in tests).
    """

    is_remote = True

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.name = url
        self._timeout, self._headers, self._transport = timeout, headers, transport
        self._client: httpx.Client | None = None
        self._etag: str | None = None
        self._digest: str | None = None

    def read(self) -> Snapshot:
        content = self._get(None)
        if content is None:  # a server may answer 304 only to If-None-Match
            raise SourceError(f"{self.url}: HTTP 304 to a request without If-None-Match")
        return self._keep(content)

    def fetch(self) -> Snapshot | None:
        content = self._get(self._etag)
        if content is None:
            return None
        previous = self._digest
        snapshot = self._keep(content)
        return None if snapshot.digest == previous else snapshot

    def close(self) -> None:
        """Close the HTTP connection pool (a later read opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def after_fork(self) -> None:
        """In a forked child: open a connection pool of its own on the next read (the
        parent's connections are left to the parent: closing them here could end the
        parent's TLS sessions)."""
        self._client = None

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self._timeout, headers=self._headers, follow_redirects=False,
                transport=self._transport,
            )  # fmt: skip
        return self._client

    def _keep(self, content: bytes) -> Snapshot:
        snapshot = Snapshot(((self.url, content),), ("",))
        self._digest = snapshot.digest
        return snapshot

    def _get(self, etag: str | None) -> bytes | None:
        """The body of a 200 answer, or ``None`` for 304 Not Modified (to If-None-Match:
        ``etag``, when one is given). Keeps the answer's ETag for the next fetch."""
        headers = {"If-None-Match": etag} if etag else {}
        try:
            with self._http.stream("GET", self.url, headers=headers) as response:
                status, etag = response.status_code, response.headers.get("ETag")
                if status == NOT_MODIFIED:
                    return None
                if status != httpx.codes.OK:
                    moved = response.headers.get("Location")
                    where = f" to {moved} (redirects are not followed)" if moved else ""
                    raise SourceError(f"{self.url}: HTTP {status}{where}")
                content = _read_bounded(response)
        except httpx.HTTPError as error:
            raise SourceError(f"{self.url}: {type(error).__name__}: {error}") from error
        if content is None:
            raise SourceError(f"{self.url}: the body is over the {MAX_FILE_BYTES:,}-byte limit")
        self._etag = etag
        return content


def _read_bounded(response: httpx.Response) -> bytes | None:
    """The body, read in chunks and abandoned past :data:`MAX_FILE_BYTES` (None then)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
