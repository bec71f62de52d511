"""``JsonlProcessTracker``: JSON lines appended by a writer process of the tracker's own.

Encoding an exposure and writing it costs about as much CPU as recording it, and in one
process both share one interpreter lock: together they cap delivery near 200,000 events/s
on a 2-core machine. This tracker moves the encoding and the write to a child process
(:mod:`modelflags.evidence.jsonl_writer`), so the application's process only records and
sends its queued records through a pipe in large pickled messages; the file, its rotation
and fsync are the :class:`~modelflags.evidence.jsonl_tracker.JsonlTracker`'s, run there.

The dispatcher still owns delivery. It sends records (:meth:`send`), several messages in
flight, and counts an event ``delivered`` only when the writer confirms it was written
(:meth:`confirmed`). When the writer fails (a write error, a crash, no answer within
``timeout``), every event not yet confirmed goes back to the dispatcher, which encodes it in
the application's process and keeps it like any batch the destination did not take (spool or
memory, retried with backoff); a new writer is started for the next message. Events a writer
wrote but could not confirm before it died are written twice: readers de-duplicate by
``eventId``.

Records holding anything but plain values (a ``datetime``, an enum, an object whose ``str()``
is written) are encoded in the application's process, as :class:`JsonlTracker` would, and
sent as lines. Batches offered through :meth:`emit` (replayed from the spool or held for a
retry) are sent as lines too, and wait for their receipt. A process forked from the
application (a pre-forking server's worker) starts a writer of its own at its first message.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from modelflags.evidence.codec import encode_lines
from modelflags.evidence.delivery import Confirmations, Receipt
from modelflags.evidence.exposure_lines import ExposureLines
from modelflags.evidence.intake import Ids, Record, encode_records
from modelflags.evidence.jsonl_tracker import Fsync, checked_fsync
from modelflags.evidence.jsonl_writer import HEADER, MAX_RECEIPT, plain_loads
from modelflags.evidence.problems import describe
from modelflags.evidence.tracker import Event, TrackerUnavailable

__all__ = ["JsonlProcessTracker"]

EXIT_WAIT = 1.0
"""Seconds ``close()`` waits for the writer to finish before it is killed."""


class _PlainPickler(pickle.Pickler):
    """Pickles plain values only: anything the writer's unpickler would refuse raises."""

    def reducer_override(self, obj: Any) -> Any:  # not called for plain values
        raise pickle.PicklingError(f"not a plain value: {type(obj).__name__}")


def _plain_pickle(value: Any) -> bytes | None:
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:  # (a deep value: RecursionError)
        return None
    return buffer.getvalue()


_BOOT = """\
import sys
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
if sys.argv[1] not in sys.path:
    sys.path.insert(0, sys.argv[1])
from modelflags.evidence.jsonl_writer import main
sys.exit(main(int(sys.argv[2])))
"""
"""The writer's start: this modelflags (its folder first on the path, unless it is there
already, as for an installed package), not the working folder's modules; the receipts'
pipe named by its number."""


class _Writer:
    """One running writer process and the pipe ends to it. ``environment`` is what it
    inherits (the application's, without the variable holding the hashing key)."""

    def __init__(self, options: bytes, environment: dict[str, str]) -> None:
        package = str(Path(__file__).resolve().parents[2])  # the folder holding modelflags
        answers, receipts = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, package, str(receipts)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(receipts,),
                env=environment,
            )  # fmt: skip
        except BaseException:
            os.close(answers)
            raise
        finally:
            os.close(receipts)  # the writer's end
        assert self.process.stdin is not None
        self.input: IO[bytes] = self.process.stdin
        self.output = answers
        self.pid = os.getpid()  # the process that started it
        self.unread = b""
        try:
            _widen(self.input.fileno())
            os.set_blocking(self.input.fileno(), False)
            os.set_blocking(answers, False)
            self.write(HEADER.pack(len(options)) + options, time.monotonic() + EXIT_WAIT)
        except BaseException:
            self.stop(0.0)
            raise

    def write(self, data: bytes, deadline: float | None) -> None:
        """All of ``data`` into the pipe; TrackerUnavailable past ``deadline``. SIGPIPE is
        blocked in the calling thread (an application may have restored its default, which
        ends the process): a writer gone is an error here."""
        view, fd = memoryview(data), self.input.fileno()
        if _BLOCK_SIGPIPE:
            signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCK_SIGPIPE)
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                if not _ready(fd, select.POLLOUT, _left(deadline)):
                    raise TrackerUnavailable("writer process took no events in time") from None
            except OSError as error:  # a broken pipe: the writer is gone
                raise TrackerUnavailable(f"writer process gone ({describe(error)})") from None

    def read(self, wait: float | None) -> list[Receipt]:
        """The receipts that arrived, waiting up to ``wait`` seconds for the first."""
        fd = self.output
        if wait != 0 and not _ready(fd, select.POLLIN, wait):
            return []
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return []
        if not data:
            raise TrackerUnavailable(f"writer process exited ({self.process.poll()})")
        self.unread += data
        receipts = []
        while len(self.unread) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.unread)
            if size > MAX_RECEIPT:
                raise TrackerUnavailable("writer process answered what is not a receipt")
            if len(self.unread) < HEADER.size + size:
                break
            frame = self.unread[HEADER.size : HEADER.size + size]
            self.unread = self.unread[HEADER.size + size :]
            receipt = _receipt(frame)
            if receipt is None:
                raise TrackerUnavailable("writer process answered what is not a receipt")
            receipts.append(receipt)
        return receipts

    def stop(self, wait: float) -> None:
        """Close its input, give it ``wait`` seconds to finish, then kill it (and give up
        waiting for it after a second more: it is reaped later)."""
        with contextlib.suppress(OSError):
            self.input.close()
        with contextlib.suppress(OSError):
            os.close(self.output)
        if self.pid != os.getpid():  # a forked copy: the writer is the parent's
            return
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(EXIT_WAIT)


def _receipt(frame: bytes) -> Receipt | None:
    """A receipt frame, read as plain values and checked field by field (None: not one)."""
    try:
        receipt = Receipt(*plain_loads(frame))
    except Exception:
        return None
    counts = receipt[:3]
    if not all(type(count) is int and count >= 0 for count in counts):
        return None
    return receipt if receipt.error is None or type(receipt.error) is str else None


def _ready(fd: int, event: int, wait: float | None) -> bool:
    """Whether ``fd`` is ready for ``event`` within ``wait`` seconds (None: no limit).
    ``poll``, not ``select``: a busy server's descriptors go past 1024."""
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(None if wait is None else wait * 1000.0))


_BLOCK_SIGPIPE = {signal.SIGPIPE} if hasattr(signal, "pthread_sigmask") else set()


PIPE_BYTES = 1 << 19
"""The pipe to the writer is widened to this on Linux, so that a message (4,096 records are
about 300 KB) goes in one write, which gives up the interpreter lock once, not once per
64 KiB (each time, the application's thread may keep the lock for a switch interval). It
counts against the user's pipe quota (``fs.pipe-user-pages-soft``, 64 MiB by default)."""


def _widen(fd: int) -> None:
    """Widen a pipe to PIPE_BYTES where the system allows it (Linux); else leave it."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class JsonlProcessTracker:
    """Appends events to ``path`` as JSON lines from a writer process (see the module).

    ``rotate_bytes`` and ``fsync`` are :class:`JsonlTracker`'s. ``timeout`` bounds the wait
    for the writer: a message it has not confirmed within that many seconds (or a pipe it
    does not drain) makes it unavailable, and it is killed. ``send_size`` is the most
    records in one message (the dispatcher's batch for this tracker), ``window`` the most
    messages in flight.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        rotate_bytes: int | None = 256 * 1024 * 1024,
        fsync: Fsync = "flush",
        timeout: float = 10.0,
        send_size: int = 4096,
        window: int = 8,
    ) -> None:
        self.path = Path(path)
        self.rotate_bytes = rotate_bytes
        self.fsync = checked_fsync(fsync)
        self.timeout = timeout
        self.send_size = max(1, send_size)
        self.window = max(1, window)
        self._lines = ExposureLines(())  # until the dispatcher's are sent
        self._writer: _Writer | None = None
        self._sent: deque[tuple[bool, float]] = deque()  # per message: records?, when sent
        self._receipts: list[Receipt] = []  # of records messages, not yet confirmed
        self._lost: TrackerUnavailable | None = None  # the failure records in flight met

    # -- the dispatcher's pipeline ---------------------------------------------------------

    def send(
        self, records: list[Record], ids: Ids, lines: ExposureLines, timeout: float | None
    ) -> None:
        """Hand ``records`` to the writer (their exposures written by ``lines`` under
        ``ids``); never raises: a failure is told by :meth:`confirmed`, and nothing is sent
        after a failure it has not told yet."""
        self._lines = lines
        if self._lost is not None:
            return
        data = _plain_pickle(("records", records, *ids))
        if data is None:  # values the writer must not unpickle: encoded here
            encoded = encode_records(records, lines.line, ids)
            data = pickle.dumps(("lines", encoded.batch.data, len(encoded.batch),
                                 encoded.repaired, encoded.failed))  # fmt: skip
        self._send(data, True, timeout)

    def confirmed(self, wait: float | None) -> Confirmations:
        """The receipts of the records messages that arrived, waiting up to ``wait``
        seconds for one while any is outstanding (None: until one comes, or the writer is
        overdue); with the failure, if the writer failed (it is stopped; the next message
        starts another)."""
        if self._lost is None and self._sent:
            deadline = None if wait is None else time.monotonic() + wait
            self._collect(lambda: bool(self._receipts) or not self._sent, deadline)
        confirmations = Confirmations(self._receipts, self._lost)
        self._receipts, self._lost = [], None
        return confirmations

    def after_fork_in_child(self) -> None:
        """In a forked child: the writer is the parent's; this process starts its own."""
        if self._writer is not None:
            self._writer.stop(0.0)
        self._writer, self._lost = None, None
        self._sent.clear()
        self._receipts = []

    # -- the Tracker protocol: batches offered whole ---------------------------------------

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        """Append the events (sent as lines) and wait until they are written; raise
        TrackerUnavailable if the writer cannot write them."""
        data = encode_lines(events)
        self._sync(pickle.dumps(("lines", data, len(events), 0, 0)), timeout, overdue_fails=True)

    def flush(self, timeout: float | None = None) -> None:
        """fsync the file (as :class:`JsonlTracker`), once every message sent is written."""
        if self._writer is not None and self.fsync != "never":
            self._sync(pickle.dumps(("flush",)), timeout, overdue_fails=False)

    def close(self) -> None:
        """Stop the writer: it exits once it has written what it was sent (up to
        ``EXIT_WAIT`` seconds), or at once when an answer is still outstanding."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop(0.0 if self._sent else EXIT_WAIT)

    # -- the writer ------------------------------------------------------------------------

    def _sync(self, data: bytes, timeout: float | None, *, overdue_fails: bool) -> None:
        """Send a message and wait for every receipt; raise TrackerUnavailable if the writer
        failed, or gave no answer in time (then, if ``overdue_fails``, it is stopped: the
        dispatcher offers the same events again). Receipts of records messages are kept for
        :meth:`confirmed`."""
        limit = self.timeout if timeout is None else min(self.timeout, timeout)
        deadline = time.monotonic() + limit
        failure = self._send(data, False, timeout) or self._collect(lambda: not self._sent,
                                                                    deadline)  # fmt: skip
        if failure is None and self._sent:
            failure = TrackerUnavailable(f"writer process gave no answer in {limit:g} s")
            if overdue_fails:
                self._fail(failure)
        if failure is not None:
            raise failure

    def _send(self, data: bytes, records: bool, timeout: float | None) -> TrackerUnavailable | None:
        """Send one message (started a writer if none runs); the failure, if it failed."""
        limit = self.timeout if timeout is None else min(self.timeout, timeout)
        deadline = time.monotonic() + limit
        self._sent.append((records, time.monotonic()))
        try:
            writer = self._writer
            if writer is not None and writer.pid != os.getpid():  # forked: the parent's
                writer.stop(0.0)
                writer = None
            if writer is None:
                options = (str(self.path), self.rotate_bytes, self.fsync, self._lines)
                key_env = self._lines.privacy.key_env if self._lines.privacy else None
                environment = {k: v for k, v in os.environ.items() if k != key_env}
                self._writer = writer = _Writer(
                    pickle.dumps(options, pickle.HIGHEST_PROTOCOL), environment
                )
            writer.write(HEADER.pack(len(data)) + data, deadline)
        except TrackerUnavailable as error:
            return self._fail(error)
        except Exception as error:  # the writer could not be started
            return self._fail(TrackerUnavailable(f"writer process: {describe(error)}"))
        return None

    def _collect(
        self, done: Callable[[], bool], deadline: float | None
    ) -> TrackerUnavailable | None:
        """Read receipts until ``done()`` or ``deadline``; the failure, if the writer failed
        (an error in a receipt, an exit, or a message unanswered for ``timeout`` seconds)."""
        while not done():
            writer = self._writer
            if writer is None:
                return self._fail(TrackerUnavailable("writer process not running"))
            overdue = self._sent[0][1] + self.timeout
            until = overdue if deadline is None else min(deadline, overdue)
            try:
                receipts = writer.read(_left(until))
            except TrackerUnavailable as error:
                return self._fail(error)
            except Exception as error:  # (a pipe closed under it)
                return self._fail(TrackerUnavailable(f"writer process: {describe(error)}"))
            for receipt in receipts:
                if receipt.error is not None:
                    return self._fail(TrackerUnavailable(f"writer process: {receipt.error}"))
                if self._sent.popleft()[0]:
                    self._receipts.append(receipt)
            if receipts:
                continue
            now = time.monotonic()
            if now >= overdue:
                return self._fail(
                    TrackerUnavailable(f"writer process gave no answer in {self.timeout:g} s")
                )
            if deadline is not None and now >= deadline:
                return None
        return None

    def _fail(self, error: TrackerUnavailable) -> TrackerUnavailable:
        """The writer failed: it is stopped, and every message not answered failed with it
        (records messages learn it from :meth:`confirmed`)."""
        if self._lost is None and any(records for records, _ in self._sent):
            self._lost = error
        self._sent.clear()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop(0.0)
        return error
