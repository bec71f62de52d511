"""Writing all of a byte string to a file opened without a buffer (``buffering=0``).

The JSONL tracker and the spool append encoded lines with one raw ``write`` per batch, so that
a batch is never left half in a Python buffer. A raw write may take only part of what it is
given (a signal, a nearly full disk), so both write through :func:`write_all`, which writes the
rest until none is left, and turns a write that takes nothing into an :class:`OSError`, which
both already handle (the tracker is unavailable; the spool seals the segment).
"""

from __future__ import annotations

from typing import IO

__all__ = ["write_all"]


def write_all(file: IO[bytes], data: bytes) -> None:
    """Write every byte of ``data`` to the raw ``file``, in as many writes as it takes.

    Raises OSError (naming the file) when a write takes nothing, and whatever the write raises.
    """
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(f"{getattr(file, 'name', 'file')}: nothing could be written")
        view = view[written:]
