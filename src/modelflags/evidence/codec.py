"""Events ↔ JSON lines, fast and forgiving.

Writing uses pydantic-core's Rust serializer (several times faster than ``json.dumps``);
values JSON cannot hold are written as their ``str()`` and NaN/infinity as ``null``, so an
odd attribute never loses the event. Reading skips lines that do not parse: the torn last
line a crash leaves behind, or garbage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic_core import to_json

from modelflags.evidence.tracker import Event

__all__ = ["decode_lines", "encode", "encode_lines", "read_events"]


def _fallback(value: Any) -> Any:
    return str(value)


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _plain(value: Any) -> Any:
    """``value`` made of JSON types only (the slow path for what the fast one refuses)."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, Mapping):
        return {_text(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return _text(value)


def encode(event: Event) -> bytes:
    """One event as compact JSON bytes (no newline)."""
    try:
        return to_json(event, inf_nan_mode="null", fallback=_fallback)
    except Exception:  # bytes that are not UTF-8, a str() that raises: keep the event
        return to_json(_plain(event), inf_nan_mode="null")


def encode_lines(events: Sequence[Event]) -> bytes:
    """Events as JSON lines, each ending in a newline."""
    if not events:
        return b""
    return b"\n".join([encode(event) for event in events]) + b"\n"  # no per-line concat


def decode_lines(data: bytes) -> list[Event]:
    """The events in JSON-lines bytes; lines that are not a JSON object are skipped."""
    events: list[Event] = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
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
