"""Event files: which files an events argument names, and where their bad lines are.

``modelflags report`` reads JSONL files (plain or gzip), ``.json`` files (JSON lines or one
JSON array) and Parquet files, given one by one or as directories searched recursively
(hidden files and directories skipped). The reader counts malformed events in bulk; this
module turns those counts into places for people (``file:line``) only when there are some,
and tells a torn last line (a writer that crashed mid-line) from a malformed one.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path

from modelflags.errors import ModelFlagsError

__all__ = ["EventFiles", "find_event_files", "line_numbers", "torn_last_line"]

_JSON_LINES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".gz")
_JSON = (".json", ".json.gz")
_PARQUET = (".parquet",)
_TAIL = 1 << 20  # a torn line longer than this is reported as malformed instead


@dataclass(frozen=True)
class EventFiles:
    """The files to read, by how they are read."""

    json_lines: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    parquet: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.json_lines, *self.json, *self.parquet)

    def size(self) -> int:
        """Total bytes on disk (for progress messages)."""
        return sum(os.path.getsize(path) for path in self.all)


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(_JSON):
        return "json"
    if lower.endswith(_JSON_LINES):
        return "json_lines"
    if lower.endswith(_PARQUET):
        return "parquet"
    return None


def _walk(directory: Path) -> Iterator[Path]:
    """Files under ``directory``, recursively, in name order, without hidden entries."""
    for entry in sorted(directory.iterdir(), key=lambda path: path.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.is_file() and _kind(entry.name):
            yield entry


def find_event_files(paths: Iterable[str | os.PathLike[str]]) -> EventFiles:
    """The event files named by ``paths``: files (read whatever their name: Parquet by its
    suffix, JSON otherwise) and directories (every ``*.jsonl``, ``*.jsonl.gz``, ``*.json``,
    ``*.gz`` and ``*.parquet`` inside, recursively). A path that does not exist raises
    :class:`~modelflags.errors.ModelFlagsError`."""
    found: dict[str, list[str]] = {"json_lines": [], "json": [], "parquet": []}
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = list(_walk(path))
        elif path.is_file():
            files = [path]
        else:
            raise ModelFlagsError(f"{path}: no such file or directory")
        for file in files:
            name = str(file)
            if name not in seen:
                seen.add(name)
                found[_kind(file.name) or "json_lines"].append(name)
    return EventFiles(*(tuple(found[kind]) for kind in ("json_lines", "json", "parquet")))


def _open(path: str) -> BufferedIOBase:
    return gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb")


def torn_last_line(path: str) -> bool:
    """Whether the file's last line was cut short: it has no newline and is not JSON.

    A last line without a newline that parses is a complete event (some writers omit the
    final newline). Plain files are read from the end; gzip files are decompressed.
    """
    if path.lower().endswith(".gz"):
        tail = b""
        with _open(path) as stream:
            while chunk := stream.read(_TAIL):
                tail = (tail + chunk)[-_TAIL:]
    else:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            stream.seek(max(0, stream.tell() - _TAIL))
            tail = stream.read()
    if not tail or tail.endswith(b"\n"):
        return False
    last = tail.rsplit(b"\n", 1)[-1]
    if not last.strip():
        return False
    try:
        json.loads(last)
    except ValueError:
        return True
    return False


def line_numbers(path: str, ordinals: Sequence[int]) -> list[int]:
    """The 1-based line numbers of the given 1-based event ordinals (events are the file's
    non-blank lines, the way the JSON reader counts them)."""
    wanted = sorted(set(ordinals))
    found: list[int] = []
    if not wanted:
        return found
    ordinal = 0
    with _open(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            ordinal += 1
            if ordinal == wanted[len(found)]:
                found.append(number)
                if len(found) == len(wanted):
                    break
    return found
