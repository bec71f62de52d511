"""Evidence to an HTTP collector: one gzip NDJSON POST per batch, and what the answer means.

``HttpTracker`` sends, and classifies the answer; the dispatcher of the
:class:`~modelflags.Evidence` batches, retries, spills and counts (see
:mod:`modelflags.evidence.dispatcher`):

==========================================  ===========================================
answer                                      ``emit``
==========================================  ===========================================
2xx                                         returns: delivered
408, 429, 5xx, connection errors, timeouts  raises ``TrackerUnavailable`` (with the
                                            ``Retry-After`` delay, when given)
400, 413, 422                               raises ``BatchRejected`` (split: the batch's
                                            size or one of its events may be the cause)
any other answer (401, 403, 404, 3xx, ...)  raises ``BatchRejected`` (not split)
==========================================  ===========================================

A request never takes longer than the ``timeout`` the dispatcher passes (the time left
before ``close()``'s deadline) nor the tracker's own ``timeout``. The body of an answer is
read only up to 64 KiB and never logged; redirects are not followed; TLS certificates are
verified (httpx's default). The bearer token is read from ``token_env`` at each send, and
never stored or logged.

>>> tracker = HttpTracker("https://collector.example/events",
...                       token_env="COLLECTOR_TOKEN")  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import math
import os
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime

import httpx

from modelflags.evidence.codec import encode_lines
from modelflags.evidence.tracker import BatchRejected, Event, TrackerUnavailable

__all__ = ["HttpTracker"]

RETRYABLE = frozenset({408, 429})
"""4xx answers that mean "later": a request timeout and too many requests."""

SPLITTABLE = frozenset({400, 413, 422})
"""Refusals one event or the batch's size may cause: the batch is offered in halves."""

_MAX_ANSWER = 64 * 1024


class HttpTracker:
    """POSTs each batch to ``url`` as gzip-compressed JSON lines.

    ``headers`` are added to every request; ``token_env`` names an environment variable
    holding a bearer token; ``timeout`` bounds each request (seconds); ``transport`` is an
    httpx transport (tests, proxies, a custom TLS set-up). An invalid URL is a ValueError
    here, not a silent loss later.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        token_env: str | None = None,
        timeout: float = 10.0,
        compresslevel: int = 5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise ValueError(f"HttpTracker: invalid collector URL: {error}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"HttpTracker: the collector URL must be http(s)://host/..., "
                             f"not {parsed.scheme or 'no'} scheme")  # fmt: skip
        self.url = url
        self.timeout = timeout
        self.compresslevel = compresslevel
        self.where = f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
        """The collector without credentials, path or query: what messages name."""
        self._headers = {
            **(headers or {}),
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }
        self._token_env = token_env
        self._transport = transport
        self._pid = os.getpid()
        self._client = self._new_client()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, transport=self._transport, follow_redirects=False)

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        """POST the events; return once the collector accepted them, or raise."""
        if not events:
            return
        body = gzip.compress(encode_lines(events), compresslevel=self.compresslevel, mtime=0)
        limit = self.timeout if timeout is None else max(0.001, min(self.timeout, timeout))
        headers = self._request_headers()
        if self._pid != os.getpid():  # a forked child: the parent's connections stay its own
            # (not closed here: that would close them under the parent)
            self._pid, self._client = os.getpid(), self._new_client()
        started = time.monotonic()
        try:
            with self._client.stream(
                "POST", self.url, content=body, headers=headers, timeout=limit
            ) as response:
                _read_some(response, started + limit)
        except httpx.TimeoutException as error:
            raise TrackerUnavailable(f"{self.where}: no answer within {limit:.3g} s") from error
        except (httpx.TransportError, OSError) as error:
            raise TrackerUnavailable(f"{self.where}: {type(error).__name__}: {error}") from error
        self._classify(response)

    def _classify(self, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        message = f"{self.where}: HTTP {status}"
        if status in RETRYABLE or status >= 500:
            raise TrackerUnavailable(message, retry_after=_retry_after(response))
        raise BatchRejected(message, split=status in SPLITTABLE)

    def _request_headers(self) -> dict[str, str]:
        if self._token_env is None:
            return self._headers
        token = os.environ.get(self._token_env)
        if not token:  # a deployment mistake: keep the events until it is fixed
            raise TrackerUnavailable(f"the token variable {self._token_env} is not set")
        return {**self._headers, "Authorization": f"Bearer {token}"}

    def flush(self, timeout: float | None = None) -> None:
        """Nothing to do: a batch is delivered when ``emit`` returns."""

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


def _read_some(response: httpx.Response, deadline: float) -> None:
    """Read (and discard) a short answer so that the connection can be reused; the status
    is what counts, so an answer cut short is not an error."""
    read = 0
    try:
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > _MAX_ANSWER or time.monotonic() > deadline:
                return  # a long or slow answer: the connection is closed instead
    except (httpx.HTTPError, httpx.StreamError, OSError):
        return


def _retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` delay in seconds (a number or an HTTP date); None if absent or
    unreadable. The dispatcher caps it."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
