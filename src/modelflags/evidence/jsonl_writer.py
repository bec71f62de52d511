"""The writer process of a :class:`~modelflags.evidence.jsonl_process.JsonlProcessTracker`.

Started by the tracker (``python -c`` with this module's :func:`main` and the number of the
pipe receipts go to), never by hand. It reads frames from standard input: first its options
(the file, rotation, fsync, and how exposures are written), then messages, in order:

* ``("records", records, prefix, first)``: queued records as the request path made them,
  with their event ids (:class:`~modelflags.evidence.intake.Ids`), encoded here
  exactly as the application's process would
  (:func:`~modelflags.evidence.intake.encode_records`) and appended to the file;
* ``("lines", data, count, repaired, failed)``: lines encoded by the application's process;
* ``("flush",)``: fsync, as :meth:`JsonlTracker.flush`.

Each message is answered by one :class:`~modelflags.evidence.delivery.Receipt` once its
lines are written, on a pipe of its own (not standard output, where anything may print). A
write that fails is answered with the error and ends the process: the tracker then reports
the writer unavailable, and the dispatcher keeps every event not yet confirmed. At the end
of its input (the application closed the tracker, or died) it writes what it was sent and
exits; once nobody reads its receipts (the application died), it stops answering and goes
on writing. It ignores SIGINT and SIGTERM, which a terminal
or a supervisor may send to the application's whole process group, so that it lives exactly
as long as its input. A reader thread drains the pipe while the main thread encodes, so the
application's process is rarely kept waiting on a full pipe.

Frames are a 4-byte little-endian length and a pickle. Records are unpickled without any
class (:class:`PlainUnpickler`): the tracker sends only plain values this way.
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import signal
import struct
import sys
import threading
from typing import IO, Any

from modelflags.evidence.codec import Batch
from modelflags.evidence.delivery import Receipt
from modelflags.evidence.intake import Ids, encode_records
from modelflags.evidence.jsonl_tracker import JsonlTracker

__all__ = ["HEADER", "MAX_RECEIPT", "PlainUnpickler", "main", "plain_loads", "read_frame"]

MAX_RECEIPT = 1 << 16
"""Bytes a receipt's frame may have: a longer one is not a receipt."""

HEADER = struct.Struct("<I")
"""A frame's length, before its pickle."""


class PlainUnpickler(pickle.Unpickler):
    """Reads plain values only (None, bools, numbers, text, bytes, lists, tuples, dicts,
    sets): a frame naming any class or function is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a record refers to {module}.{name}")


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's pickle, or None at the end of the input."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


def plain_loads(frame: bytes) -> Any:
    """A frame's plain value (see :class:`PlainUnpickler`)."""
    return PlainUnpickler(io.BytesIO(frame)).load()


def _answer(out: IO[bytes] | None, receipt: Receipt) -> IO[bytes] | None:
    """Send a receipt; the pipe to send the next one on (None: nobody reads them now)."""
    if out is None:
        return None
    data = pickle.dumps(tuple(receipt), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        out.write(HEADER.pack(len(data)) + data)
        out.flush()
    except OSError:  # the application is gone: what it sent is still written
        return None
    return out


def _handle(message: tuple[Any, ...], tracker: JsonlTracker, build: Any) -> Receipt:
    kind = message[0]
    if kind == "records":
        _, records, prefix, first = message
        encoded = encode_records(records, build, Ids(prefix, first))
        if encoded.batch:
            tracker.emit(encoded.batch)
        return Receipt(len(encoded.batch), encoded.repaired, encoded.failed)
    if kind == "lines":
        _, data, count, repaired, failed = message
        if data:
            tracker.emit(Batch(data, count))
        return Receipt(count, repaired, failed)
    tracker.flush()
    return Receipt()


def main(receipts: int) -> int:
    """Write what the application sends until its end, answering on the pipe ``receipts``
    (a file descriptor); 1 when a write failed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a reader gone is an OSError, not an exit
    source = sys.stdin.buffer
    out: IO[bytes] | None = os.fdopen(receipts, "wb")
    options = read_frame(source)
    if options is None:
        return 0
    path, rotate_bytes, fsync, lines = pickle.loads(options)
    tracker = JsonlTracker(path, rotate_bytes=rotate_bytes, fsync=fsync)
    frames: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def drain() -> None:
        while (frame := read_frame(source)) is not None:
            frames.put(frame)
        frames.put(None)

    threading.Thread(target=drain, name="modelflags-writer-input", daemon=True).start()
    while (frame := frames.get()) is not None:
        try:
            receipt = _handle(plain_loads(frame), tracker, lines.line)
        except Exception as error:
            _answer(out, Receipt(error=f"{type(error).__name__}: {error}"))
            return 1
        out = _answer(out, receipt)
    tracker.close()
    return 0
