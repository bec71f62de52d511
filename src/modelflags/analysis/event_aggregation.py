"""Evidence events → the aggregate table, in DuckDB, in one read of the files.

The events are read once (DuckDB's JSON and Parquet readers, in parallel, told exactly which
keys to parse) into a compact in-memory table: per event only what the statistics need, the
ids hashed to 64 bits, the variations as the arms' positions. Duplicates (an eventId read
twice) are dropped from it, then every unit is aggregated once, in one pass, into a row of
numbers (what few units need, apart, from their events alone: every aggregate of the main
pass is state held for each of millions of units); the table's rows come from those rows
(and, for outcome metrics and latencies, from the events of the units in the arms). The SQL
is in ``sql/duckdb_events.sql`` and ``sql/duckdb_aggregate.sql``; ``docs/aggregates.md`` is
the contract it implements.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from modelflags.analysis.aggregates import MAX_MALFORMED_LINES, Aggregates, Row
from modelflags.analysis.event_files import (
    EventFiles,
    find_event_files,
    line_numbers,
    torn_last_line,
)
from modelflags.errors import ModelFlagsError

__all__ = ["MEMORY_LIMIT", "aggregate_events", "sql_text"]

MEMORY_LIMIT = "1792MB"
"""DuckDB's memory limit: beyond it, tables and hash tables spill to a temporary directory."""

PROGRESS_BYTES = 256 << 20
"""Inputs at least this large report progress (a few seconds of reading)."""

GAMMA = (1 + 0.01) / (1 - 0.01)
"""The latency sketch's bucket ratio (relative accuracy 1%)."""

_KINDS = {1: "other_flags", 2: "outside_window", 3: "no_unit", 7: "assignments"}
_TYPES = {
    "event": "VARCHAR",
    "eventId": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "flagKey": "VARCHAR",
    "unitId": "VARCHAR",
    "assignedVariation": "VARCHAR",
    "variation": "VARCHAR",
    "reason": "VARCHAR",
    "inExperiment": "BOOLEAN",
    "configVersion": "VARCHAR",
    "fallbackUsed": "BOOLEAN",
    "latencyMs": "DOUBLE",
    "estimatedCost": "DOUBLE",
    "error": "BOOLEAN",
    "metrics": "JSON",
}
_EVENTS_TABLE = """CREATE OR REPLACE TEMP TABLE events (
    k UTINYINT, h UBIGINT, u UBIGINT, ts BIGINT, a USMALLINT, av VARCHAR, cv VARCHAR,
    err UTINYINT, fb UTINYINT, lat DOUBLE, cost DOUBLE, x VARCHAR)"""
_BAD = '("event" IS NULL OR "eventId" IS NULL OR "timestamp" IS NULL)'


def sql_text(name: str) -> str:
    """A SQL file shipped in the package (``sql/<name>``)."""
    return (resources.files("modelflags.analysis") / "sql" / name).read_text("utf-8")


def _statements() -> dict[str, str]:
    """The aggregation's statements, by the ``-- @name`` line that introduces each."""
    blocks = re.split(r"^-- @", sql_text("duckdb_aggregate.sql"), flags=re.MULTILINE)[1:]
    return {block.split("\n", 1)[0].strip(): block.split("\n", 1)[1] for block in blocks}


def _quote(text: str, mark: str = "'") -> str:
    return mark + text.replace(mark, mark * 2) + mark


def _json_source(files: Sequence[str], fmt: str, by: str | None, extra: str = "") -> str:
    """A read_json call that parses only the keys the aggregation reads."""
    types = dict(_TYPES)
    if by is not None:
        types["attributes"] = f"STRUCT({_quote(by, chr(34))} JSON)"
    columns = ", ".join(f"{_quote(key, chr(34))}: {_quote(kind)}" for key, kind in types.items())
    segment = f"attributes.{_quote(by, chr(34))}" if by is not None else "NULL::JSON"
    names = ", ".join(_quote(file) for file in files)
    return (
        f"(SELECT *, {segment} AS segment{extra} FROM read_json([{names}], "
        f"format = '{fmt}', records = true, columns = {{{columns}}}, ignore_errors = true, "
        "filename = true))"
    )


def _parquet_source(con: Any, files: Sequence[str], by: str | None, numbered: bool = False) -> str:
    """A read_parquet call whose columns are cast to the types of the JSON reader's."""
    names = ", ".join(_quote(file) for file in files)
    reader = f"read_parquet([{names}], union_by_name = true, filename = true" + (
        ", file_row_number = true)" if numbered else ")"
    )
    described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    schema = {name: kind for name, kind, *_ in described}

    def nested(name: str) -> str | None:
        kind = schema.get(name, "")
        if kind.startswith(("STRUCT", "MAP")):
            return f"to_json({_quote(name, chr(34))})"
        if kind in ("VARCHAR", "JSON"):
            # json() makes the text compact, as the JSON reader's (see duckdb_events.sql)
            return f"json(TRY_CAST({_quote(name, chr(34))} AS JSON))"
        return None

    columns = []
    for name, kind in _TYPES.items():
        quoted = _quote(name, chr(34))
        if name == "metrics":
            value = nested(name) or "NULL::JSON"
        elif name in schema:
            value = f"TRY_CAST({quoted} AS {kind})"
        else:
            value = f"NULL::{kind}"
        columns.append(f"{value} AS {quoted}")
    attributes = nested("attributes")
    if by is not None and attributes is not None:
        columns.append(f"json_extract({attributes}, {_quote('$.' + json.dumps(by))}) AS segment")
    else:
        columns.append("NULL::JSON AS segment")
    columns.append("filename")
    if numbered:
        columns.append("file_row_number")
    return f"(SELECT {', '.join(columns)} FROM {reader})"


def _sources(con: Any, files: EventFiles, by: str | None) -> Iterable[str]:
    if files.json_lines:
        yield _json_source(files.json_lines, "newline_delimited", by)
    if files.json:
        yield _json_source(files.json, "auto", by)
    if files.parquet:
        yield _parquet_source(con, files.parquet, by)


def _moment(value: float | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _connect(spill: str) -> Any:
    import duckdb

    con = duckdb.connect(
        config={
            "threads": os.cpu_count() or 1,
            "memory_limit": MEMORY_LIMIT,
            "preserve_insertion_order": False,
            "temp_directory": spill,
        }
    )
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _locate(con: Any, files: EventFiles, path: str, count: int) -> list[str]:
    """``file:line`` of the first ``count`` malformed events of one file (read once more,
    on one thread, so that events come in file order)."""
    if path in files.parquet:
        source = _parquet_source(con, [path], None, numbered=True)
        found = con.execute(
            f"SELECT file_row_number + 1 FROM {source} WHERE {_BAD} "
            f"ORDER BY file_row_number LIMIT {count}"
        ).fetchall()
        return [f"{path}:row {row}" for (row,) in found]
    fmt = "auto" if path in files.json else "newline_delimited"
    source = _json_source([path], fmt, None)
    con.execute("SET threads = 1")
    try:
        found = con.execute(
            f"SELECT n FROM (SELECT row_number() OVER () AS n, {_BAD} AS bad FROM {source}) "
            f"WHERE bad ORDER BY n LIMIT {count}"
        ).fetchall()
    finally:
        con.execute(f"SET threads = {os.cpu_count() or 1}")
    return [f"{path}:{line}" for line in line_numbers(path, [n for (n,) in found])]


def _bad_events(con: Any, files: EventFiles) -> tuple[int, int, list[str]]:
    """(torn lines, malformed events, the first malformed events' places)."""
    torn = malformed = 0
    places: list[str] = []
    bad = con.execute("SELECT av, count(*) FROM events WHERE k = 0 GROUP BY av ORDER BY av")
    for path, count in bad.fetchall():
        cut = int(path not in files.parquet and torn_last_line(path))
        torn += cut
        malformed += count - cut
        if count - cut and len(places) < MAX_MALFORMED_LINES:
            wanted = min(count - cut, MAX_MALFORMED_LINES - len(places))
            places.extend(_locate(con, files, path, wanted))
    return torn, malformed, places


def _aggregate(con: Any, arms: int, by_segment: bool) -> tuple[list[Row], int]:
    """The table's rows (all but ``input``) from the events, and how many duplicates."""
    statements = _statements()
    con.execute(statements["duplicates"])
    (duplicates,) = con.execute("SELECT coalesce(sum(extra), 0) FROM duplicated").fetchone()
    if duplicates:
        con.execute(statements["deduplicate"])
    named = ", ".join(f"count(*) FILTER (WHERE k = 6 AND a = {i})" for i in range(1, arms + 1))
    segment = "substr(min(x) FILTER (WHERE k = 4), 17)" if by_segment else "CAST(NULL AS VARCHAR)"
    con.execute(statements["units"].replace("{{named}}", named).replace("{{segment}}", segment))
    con.execute(statements["rare_units"])
    con.execute(statements["arm_units"])
    con.execute(statements["metric_units"])
    rows = [Row(*found) for found in con.execute(statements["rows"]).fetchall()]
    return rows, int(duplicates)


def aggregate_events(
    paths: Iterable[str | os.PathLike[str]],
    flag_key: str,
    arms: Sequence[str],
    *,
    since: float | datetime | None = None,
    until: float | datetime | None = None,
    config_version: str | None = None,
    by: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Aggregates:
    """The aggregate table of ``flag_key``'s experiment from event files and directories.

    ``arms`` are the split's variations; ``since`` (inclusive) and ``until`` (exclusive) bound
    the events' timestamps (epoch seconds or datetimes; naive means UTC); ``config_version``
    keeps exposures served under it (and outcomes under it or without one); ``by`` names the
    exposure attribute (under ``attributes``) whose value segments the arms. ``progress``
    receives a few lines of text for inputs large enough to take seconds. A missing path or
    an unreadable file raises :class:`~modelflags.errors.ModelFlagsError`.
    """
    import duckdb

    files = find_event_files(paths)
    size = files.size()
    say = progress if progress is not None and size >= PROGRESS_BYTES else (lambda _text: None)
    started = time.monotonic()
    say(f"reading {len(files.all)} event file(s), {size / 1e6:,.0f} MB")
    with tempfile.TemporaryDirectory(prefix="modelflags-") as spill:
        con = _connect(spill)
        try:
            for name, value, kind in (
                ("flag_key", flag_key, "VARCHAR"),
                ("arms", list(arms), "VARCHAR[]"),
                ("since", _moment(since), "TIMESTAMPTZ"),
                ("until", _moment(until), "TIMESTAMPTZ"),
                ("config_version", config_version, "VARCHAR"),
                ("by_segment", by is not None, "BOOLEAN"),
                ("log_gamma", math.log(GAMMA), "DOUBLE"),
            ):
                con.execute(f"SET VARIABLE {name} = CAST(? AS {kind})", [value])
            con.execute(_EVENTS_TABLE)
            scan = sql_text("duckdb_events.sql")
            for source in _sources(con, files, by):
                con.execute(scan.replace("{{source}}", source))
            counts = dict(con.execute("SELECT k, count(*) FROM events GROUP BY k").fetchall())
            torn, malformed, places = _bad_events(con, files)
            say(f"read {sum(counts.values()):,} events in {time.monotonic() - started:.1f} s")
            rows, duplicates = _aggregate(con, len(arms), by is not None)
        except duckdb.Error as error:
            raise ModelFlagsError(f"cannot read events: {' '.join(str(error).split())}") from None
        finally:
            con.close()
    counted = {
        "events": sum(counts.values()),
        "duplicates": duplicates,
        "torn_lines": torn,
        "malformed": malformed,
        **{name: counts.get(k, 0) for k, name in _KINDS.items()},
    }
    table = [Row("input", None, None, None, stat, float(n)) for stat, n in counted.items()]
    say(f"aggregated in {time.monotonic() - started:.1f} s")
    return Aggregates((*table, *rows), tuple(places))
