"""Events ↔ JSON lines, fast and forgiving; :class:`Batch`, events encoded once.

Writing uses pydantic-core's Rust serializer, one call per event (a whole batch in one call
is faster only until its output has to be cut into lines). Values JSON cannot hold are
written as their ``str()`` and NaN/infinity as ``null``. When the fast path refuses an
event (a lone surrogate, a value that contains itself, bytes that are not UTF-8, nesting
deeper than 64, a ``str()`` that raises), that event alone is **repaired**: text is
backslash-escaped, a cycle or a too-deep value becomes a short text, so no event is lost for
one odd attribute and never its batch. Reading skips lines that do not parse: the torn last
line a crash leaves behind, or garbage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

from pydantic_core import to_json

from modelflags.evidence.tracker import Event

__all__ = [
    "Batch",
    "decode_lines",
    "encode",
    "encode_lines",
    "fallback_text",
    "read_events",
]

MAX_DEPTH = 64
"""Containers nested deeper than this are written as their text."""


def fallback_text(value: Any) -> str:
    """What a value JSON cannot hold is written as: its ``str()``."""
    return str(value)


def _text(value: Any) -> str:
    try:
        return _clean(str(value))
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _clean(text: str) -> str:
    """``text`` without lone surrogates (UTF-8 cannot hold them): they become ``\\udc80``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _plain(value: Any, depth: int, path: set[int]) -> Any:
    """``value`` made of JSON types only: the repair of what the fast path refused."""
    if isinstance(value, str):
        return _clean(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if not isinstance(value, Mapping | list | tuple | set | frozenset):
        return _text(value)
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__} nested deeper than {MAX_DEPTH}>"
    if id(value) in path:
        return f"<{type(value).__name__} that contains itself>"
    path.add(id(value))
    try:
        if isinstance(value, Mapping):
            return {_text(key): _plain(item, depth + 1, path) for key, item in value.items()}
        return [_plain(item, depth + 1, path) for item in value]
    finally:
        path.discard(id(value))


def encode(event: Event) -> bytes | None:
    """One event as compact JSON bytes (no newline), repaired if it has to be.

    None only if even the repaired event cannot be written (then it is dropped alone).
    """
    try:
        return to_json(event, inf_nan_mode="null", fallback=fallback_text)
    except Exception:
        pass
    try:
        return to_json(_plain(event, 0, set()), inf_nan_mode="null")
    except Exception:
        return None


class Batch(Sequence[Event]):
    """Events as JSON lines, encoded once: what the dispatcher hands a tracker.

    A tracker that writes JSON takes :attr:`data` (through :func:`encode_lines`); one that
    keeps dicts iterates the batch, and gets the events decoded from the lines when it first
    asks: what was written, exactly (repairs, nulls for NaN, lists for tuples included).
    """

    __slots__ = ("_events", "_length", "data")

    def __init__(self, data: bytes, count: int) -> None:
        self.data = data
        self._length = count
        self._events: list[Event] | None = None

    @classmethod
    def encode(cls, items: Sequence[Event | bytes]) -> tuple[Batch, int, int]:
        """A batch of ``items``: events, and lines already written (bytes, without their
        newline); with how many events were repaired, and how many dropped (events that
        could not be written even repaired)."""
        if not items:
            return cls(b"", 0), 0, 0
        try:
            lines = [
                item if type(item) is bytes
                else to_json(item, inf_nan_mode="null", fallback=fallback_text)
                for item in items
            ]  # fmt: skip
        except Exception:  # one event (at least) needs a repair: find it, keep the others
            return cls._encode_one_by_one(items)
        return cls(b"\n".join(lines) + b"\n", len(lines)), 0, 0

    @classmethod
    def _encode_one_by_one(cls, items: Sequence[Event | bytes]) -> tuple[Batch, int, int]:
        lines: list[bytes] = []
        repaired = dropped = 0
        for item in items:
            if isinstance(item, bytes):
                lines.append(item)
                continue
            try:
                lines.append(to_json(item, inf_nan_mode="null", fallback=fallback_text))
            except Exception:
                line = encode(item)
                if line is None:
                    dropped += 1
                    continue
                repaired += 1
                lines.append(line)
        data = b"\n".join(lines) + b"\n" if lines else b""
        return cls(data, len(lines)), repaired, dropped

    @classmethod
    def of_lines(cls, lines: Sequence[bytes]) -> Batch:
        """A batch of JSON lines (each ending in a newline), as read from the spool."""
        return cls(b"".join(lines), len(lines))

    def lines(self) -> list[bytes]:
        """The JSON lines, each ending in a newline."""
        return self.data.splitlines(keepends=True)

    def rest(self, settled: int) -> Batch:
        """The batch without its first ``settled`` events."""
        return self if settled <= 0 else Batch.of_lines(self.lines()[settled:])

    def halves(self) -> tuple[Batch, Batch]:
        """The first and the second half (for a batch too large, or holding a bad event)."""
        middle = self._length // 2
        lines = self.lines()
        return Batch.of_lines(lines[:middle]), Batch.of_lines(lines[middle:])

    def events(self) -> list[Event]:
        """The events as dicts, decoded from the lines when first asked for."""
        if self._events is None:
            self._events = decode_lines(self.data)
        return self._events

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        return self.events()[index]


def encode_lines(events: Sequence[Event]) -> bytes:
    """Events as JSON lines, each ending in a newline (a :class:`Batch`'s own bytes)."""
    if isinstance(events, Batch):
        return events.data
    return Batch.encode(list(events))[0].data


def _whole_number(text: str) -> int | str:
    """A JSON integer; its text when it has more digits than ``int()`` reads (Python's
    limit against slow conversions, ``sys.get_int_max_str_digits()``), which the writer's
    serializer has none of."""
    try:
        return int(text)
    except ValueError:
        return text


def decode_lines(data: bytes) -> list[Event]:
    """The events in JSON-lines bytes; lines that are not a JSON object are skipped (every
    line the codec writes is one: an integer too long for ``int()`` is read as its text)."""
    events: list[Event] = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            try:
                event = json.loads(line, parse_int=_whole_number)
            except ValueError:
                continue
        if isinstance(event, dict):
            events.append(event)
    return events


def read_events(paths: Iterable[str | Path]) -> Iterator[Event]:
    """Every event in JSONL files (rotated files included as given), skipping torn lines."""
    for path in paths:
        with Path(path).open("rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break  # a torn last line: the writer crashed mid-write
                yield from decode_lines(line)
