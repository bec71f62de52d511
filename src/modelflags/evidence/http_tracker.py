"""Evidence to an HTTP collector: gzip NDJSON batches, retries, a disk spill while it is down.

``HttpTracker`` POSTs batches of ``batch_size`` events (or fewer, once ``flush_interval`` has
passed since the oldest buffered one) as gzip-compressed JSON lines. Connection errors,
timeouts, 429 (``Retry-After`` honoured, capped at ``max_backoff``) and 5xx are retried with
exponential backoff and full jitter; any other 4xx is a rejection: counted ``failed``, never
retried. After ``max_retries`` retries the collector is *known down*: the batch and every
later one go straight to a :class:`~modelflags.evidence.spool.Spool` in ``spill_dir``
(``spilled``; without one they are ``dropped``), and the collector is probed with one attempt
at most every ``max_backoff`` seconds. Once a send succeeds the spool is replayed oldest
segment first, a segment removed only after the collector accepted all of it, so delivery is
at-least-once (the collector de-duplicates by ``eventId``); segments a previous process left
behind are replayed too. Memory stays bounded: the buffer never holds more than one batch.

Why this shape: the tracker runs on the Evidence dispatcher's background thread, so sending
synchronously is fine, and the application is never slowed by a slow or dead collector.
Problems are logged once per outage with structlog, and once on recovery; the bearer token is
read from ``token_env`` at send time and never stored or logged.

>>> tracker = HttpTracker("https://collector.example/events", token_env="COLLECTOR_TOKEN",
...                       spill_dir="/var/spool/modelflags")  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from enum import Enum

import httpx
import structlog

from modelflags.evidence.codec import encode_lines
from modelflags.evidence.spool import Spool
from modelflags.evidence.tracker import Event

__all__ = ["HttpTracker"]

log = structlog.get_logger("modelflags")


class _Result(Enum):
    SENT = "sent"  # the collector accepted the batch
    REJECTED = "rejected"  # a 4xx other than 429: retrying cannot help
    DOWN = "down"  # every attempt failed: the collector is unreachable or failing
    UNFINISHED = "unfinished"  # out of time (flush timeout) or interrupted by close()


def _backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0.0, min(cap, base * 2.0**attempt))


def _retry_after(response: httpx.Response, cap: float) -> float | None:
    """The ``Retry-After`` delay in seconds, capped; None if absent or an HTTP date."""
    try:
        return min(cap, max(0.0, float(response.headers["retry-after"])))
    except (KeyError, ValueError):
        return None


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


class HttpTracker:
    """Posts events to ``url`` in gzip NDJSON batches; spills to ``spill_dir`` while down.

    Counters (attributes, and :meth:`counters`): ``sent`` (events the collector accepted,
    replays included), ``spilled`` (written to the spool), ``dropped`` (lost: no spool, spool
    full, or emitted after close), ``failed`` (rejected with a 4xx), ``retries`` (attempts
    after a first one), ``spool_bytes`` (waiting on disk).
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        token_env: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        spill_dir: str | os.PathLike[str] | None = None,
        max_retries: int = 5,
        timeout: float = 10.0,
        backoff: float = 0.2,
        max_backoff: float = 30.0,
    ) -> None:
        self.url = url
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.max_retries = max(0, max_retries)
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sent = self.spilled = self.dropped = self.failed = self.retries = 0
        self._headers = {
            **(headers or {}),
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }
        self._token_env = token_env
        self._client = httpx.Client(timeout=timeout)
        self._buffer: list[Event] = []
        self._oldest: float | None = None  # when the oldest buffered event arrived
        self._down = False  # known down: spill directly, probe at most every max_backoff
        self._next_probe = 0.0
        self._problems: set[str] = set()
        self._spool: Spool | None = None
        try:
            self._spool = Spool(spill_dir) if spill_dir is not None else None
        except OSError as error:  # keep running; undeliverable events are dropped and counted
            self._problem("spill", "evidence spool not writable", error=repr(error))
        self._lock = threading.Lock()
        self._interrupt = threading.Event()  # set by close(): stop backing off
        self._closed = False

    @property
    def buffered(self) -> int:
        """Events held in memory, waiting for a full batch or ``flush_interval``."""
        return len(self._buffer)

    def counters(self) -> dict[str, int]:
        """``sent``, ``spilled``, ``dropped``, ``failed``, ``retries`` and ``spool_bytes``."""
        return {
            "sent": self.sent,
            "spilled": self.spilled,
            "dropped": self.dropped,
            "failed": self.failed,
            "retries": self.retries,
            "spool_bytes": self._spool.size if self._spool is not None else 0,
        }

    # -- the Tracker protocol ----------------------------------------------------------------

    def emit(self, events: Sequence[Event]) -> None:
        """Buffer events; send every full batch, and the rest once ``flush_interval`` passed."""
        with self._lock:
            if self._closed:
                self.dropped += len(events)
                self._problem("closed", "evidence emitted after HttpTracker.close; dropping")
                return
            start = 0
            while start < len(events):
                if self._oldest is None:
                    self._oldest = time.monotonic()
                room = self.batch_size - len(self._buffer)
                self._buffer.extend(events[start : start + room])
                start += room
                if len(self._buffer) >= self.batch_size:
                    self._send_buffer(None)
            if self._oldest is not None and time.monotonic() - self._oldest >= self.flush_interval:
                self._send_buffer(None)
            self._replay(None, max_segments=1)

    def flush(self, timeout: float | None = None) -> None:
        """Send the buffer, then replay the spool, for at most ``timeout`` seconds.

        What is not sent in time stays buffered (or is spilled, with a ``spill_dir``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return
        try:
            self._flush(deadline)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Flush for at most ``timeout`` seconds, spill (or drop) the rest, close the client."""
        if self._closed:
            return
        deadline = time.monotonic() + self.timeout
        self._interrupt.set()  # an emit backing off in another thread gives up
        locked = self._lock.acquire(timeout=self.timeout)
        try:
            if locked:
                self._interrupt.clear()
                self._flush(deadline)
                if self._buffer:
                    batch, self._buffer, self._oldest = self._buffer, [], None
                    self._undeliverable(batch)
            self._closed = True
            self._client.close()
        finally:
            if locked:
                self._lock.release()

    # -- delivery (called with the lock held) ------------------------------------------------

    def _flush(self, deadline: float | None) -> None:
        if self._buffer:
            batch = self._buffer
            if not self._send_buffer(deadline):
                if self._spool is not None:
                    self._undeliverable(batch)
                else:
                    self._buffer, self._oldest = batch, time.monotonic()
        self._replay(deadline, max_segments=None)

    def _send_buffer(self, deadline: float | None) -> bool:
        """Hand the buffer to the collector (or spool); False if it ran out of time."""
        batch, self._buffer, self._oldest = self._buffer, [], None
        if not self._may_try():
            self._undeliverable(batch)
            return True
        result = self._post(batch, deadline)
        if result is _Result.UNFINISHED:
            if deadline is None:  # interrupted by close() in another thread
                self._undeliverable(batch)
                return True
            return False
        if result is _Result.DOWN:
            self._undeliverable(batch)
        return True

    def _replay(self, deadline: float | None, max_segments: int | None) -> None:
        try:
            self._replay_segments(deadline, max_segments)
        except OSError as error:
            self._problem("replay", "evidence spool not readable", error=repr(error))

    def _replay_segments(self, deadline: float | None, max_segments: int | None) -> None:
        """Re-send spooled segments oldest first; remove each only once all of it was taken."""
        replayed = 0
        while self._spool and self._may_try():  # while down, the first post is the probe
            if max_segments is not None and replayed >= max_segments:
                return
            oldest = self._spool.oldest()
            if oldest is None:
                return
            path, events = oldest
            for start in range(0, len(events), self.batch_size):
                result = self._post(events[start : start + self.batch_size], deadline)
                if result is _Result.DOWN or result is _Result.UNFINISHED:
                    return  # the segment stays; its sent part is re-sent later (at-least-once)
            self._spool.remove(path)
            replayed += 1

    def _may_try(self) -> bool:
        """Up, or down long enough that one probing attempt is due."""
        return not self._down or time.monotonic() >= self._next_probe

    def _undeliverable(self, batch: list[Event]) -> None:
        """Spill a batch that cannot be sent now, or drop it and count it."""
        if self._spool is not None:
            try:
                if self._spool.append(batch):
                    self.spilled += len(batch)
                    return
                self._problem("spool-full", "evidence spool is full; dropping events")
            except OSError as error:
                self._problem("spill", "evidence spool not writable", error=repr(error))
        self.dropped += len(batch)

    def _post(self, batch: Sequence[Event], deadline: float | None) -> _Result:
        """POST one batch with retries; counts ``sent``/``failed``; tracks the known-down state."""
        body = gzip.compress(encode_lines(batch), compresslevel=5, mtime=0)
        attempts = 1 if self._down else self.max_retries + 1
        error = ""
        for attempt in range(attempts):
            remaining = _remaining(deadline)
            if remaining is not None and remaining <= 0:
                return _Result.UNFINISHED
            if attempt:
                self.retries += 1
            wait: float | None = None
            try:
                response = self._client.post(
                    self.url,
                    content=body,
                    headers=self._request_headers(),
                    timeout=self.timeout if remaining is None else min(self.timeout, remaining),
                )
            except Exception as exc:  # transport errors, timeouts, a closed client: all retried
                error = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status < 300:
                    self.sent += len(batch)
                    self._recovered()
                    return _Result.SENT
                if status != 429 and status < 500:
                    self.failed += len(batch)
                    self._problem(f"rejected-{status}", "evidence rejected", status=status)
                    return _Result.REJECTED
                error = f"HTTP {status}"
                wait = _retry_after(response, self.max_backoff)
            if attempt + 1 < attempts:
                wait = _backoff(attempt, self.backoff, self.max_backoff) if wait is None else wait
                remaining = _remaining(deadline)
                if remaining is not None and wait >= remaining:
                    return _Result.UNFINISHED
                if self._interrupt.wait(wait):
                    return _Result.UNFINISHED
        self._down = True
        self._next_probe = time.monotonic() + self.max_backoff
        self._problem(
            "down",
            "evidence collector unavailable; "
            + ("spilling" if self._spool is not None else "dropping"),
            error=error,
        )
        return _Result.DOWN

    def _request_headers(self) -> dict[str, str]:
        if self._token_env is None:
            return self._headers
        token = os.environ.get(self._token_env)
        if not token:
            self._problem("token", "evidence token variable is not set", variable=self._token_env)
            return self._headers
        return {**self._headers, "Authorization": f"Bearer {token}"}

    # -- logging: once per problem, once on recovery ------------------------------------------

    def _problem(self, key: str, message: str, **details: object) -> None:
        if key not in self._problems:
            self._problems.add(key)
            log.error(message, collector=self._where(), **details)

    def _recovered(self) -> None:
        self._down = False
        if self._problems - {"closed", "token"}:
            log.info("evidence collector recovered", collector=self._where())
            self._problems &= {"closed", "token"}

    def _where(self) -> str:
        """The collector without credentials, query or path, for logs."""
        try:
            parsed = httpx.URL(self.url)
        except Exception:
            return "<invalid url>"
        return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
