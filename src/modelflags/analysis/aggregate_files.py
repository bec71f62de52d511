"""Aggregate tables in files: Parquet, CSV (with a header) and JSON lines, through DuckDB.

A table read from a file is checked row by row (a known section, text keys, a finite value),
so that a bad file is one error naming the file and the line (or Parquet row) of its first
bad row, never a traceback or a NaN in the report. Files keep the locations of the first
malformed events as ``input`` rows (:data:`MALFORMED_LINE`), so that reading a written table
gives it back whole.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelflags.analysis.aggregates import (
    COLUMNS,
    MAX_MALFORMED_LINES,
    SECTIONS,
    Aggregates,
    Row,
)
from modelflags.errors import ModelFlagsError

__all__ = ["FORMATS", "MALFORMED_LINE", "finite_value", "read_table", "write_table"]

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
"""File suffixes of aggregate tables, and the format each means."""

MALFORMED_LINE = "malformed_line"
"""In a file, the first malformed events' locations are ``input`` rows: the location in
``metric``, this stat, value 1 (so that files merge like tables)."""


def _format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ModelFlagsError(
            f"{path}: unknown aggregate table format (known suffixes: {known})"
        ) from None


def _sort_key(row: Row) -> tuple[Any, ...]:
    nullable = tuple((part is not None, part or "") for part in row.key[1:4])
    return (SECTIONS.index(row.section), *nullable, row.stat)


def write_table(aggregates: Aggregates, path: str | os.PathLike[str]) -> None:
    """``write_aggregates``: rows combined by the merge rule and sorted (section order, then
    keys), the malformed-event locations as ``input`` rows (see :data:`MALFORMED_LINE`)."""
    import duckdb

    target = Path(path)
    kind = _format(target)
    rows = sorted(aggregates.compact().rows, key=_sort_key)
    located = [
        Row("input", None, None, line, MALFORMED_LINE, 1.0) for line in aggregates.malformed_lines
    ]
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE t (section VARCHAR, segment VARCHAR, variation VARCHAR, "
            "metric VARCHAR, stat VARCHAR, value DOUBLE)"
        )
        values = [(*row.key, row.value) for row in [*rows, *located]]
        if values:
            con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", values)
        options = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER", "jsonl": "FORMAT json"}
        try:
            con.execute(f"COPY t TO {_literal(str(target))} ({options[kind]})")
        except duckdb.Error as error:
            raise ModelFlagsError(f"{target}: cannot write: {_first_line(error)}") from None


def read_table(path: str | os.PathLike[str]) -> Aggregates:
    """``read_aggregates``: every row checked, the first bad one reported with its place (a
    CSV file's first row is on its line 2; Parquet rows are numbered from 1)."""
    import duckdb

    source = Path(path)
    kind = _format(source)
    if not source.is_file():
        raise ModelFlagsError(f"{source}: no such file")
    name = _literal(str(source))
    queries = {
        "parquet": f"SELECT * FROM read_parquet({name})",
        "csv": f"SELECT * FROM read_csv({name}, header = true, all_varchar = true, "
        "allow_quoted_nulls = false, nullstr = ['', '\\N'], delim = ',', quote = '\"', "
        "escape = '\"')",
        "jsonl": f"SELECT * FROM read_json({name}, format = 'newline_delimited', records = true, "
        "columns = {" + ", ".join(f"{column}: 'JSON'" for column in COLUMNS) + "})",
    }
    with duckdb.connect() as con:
        try:
            result = con.execute(queries[kind])
            names = [column[0] for column in result.description or ()]
            found = result.fetchall()
        except duckdb.Error as error:
            raise ModelFlagsError(
                f"{source}: not an aggregate table: {_first_line(error)}"
            ) from None
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise ModelFlagsError(
            f"{source}: not an aggregate table: no column {', '.join(map(repr, missing))}"
        )
    first = {"parquet": 1, "csv": 2, "jsonl": 1}[kind]
    positions = [names.index(column) for column in COLUMNS]
    rows: list[Row] = []
    lines: list[str] = []
    for number, record in enumerate(found, start=first):
        place = f"{source} row {number}" if kind == "parquet" else f"{source}:{number}"
        cells = [
            None if record[i] is None else json.loads(record[i]) if kind == "jsonl" else record[i]
            for i in positions
        ]
        if kind == "csv" and (parsed := finite_value(cells[5])) is not None:
            cells[5] = parsed  # CSV holds text: a number written out
        row = _row(cells, place)
        if row.section == "input" and row.stat == MALFORMED_LINE and row.metric:
            lines.append(row.metric)
        else:
            rows.append(row)
    return Aggregates(tuple(rows), tuple(lines[:MAX_MALFORMED_LINES]))


def _row(cells: Sequence[Any], place: str) -> Row:
    """One row read from a file, checked: a known section, text keys, a finite value."""
    section, segment, variation, metric, stat, value = cells
    if section not in SECTIONS:
        raise ModelFlagsError(f"{place}: unknown section {section!r}")
    for column, text in (("segment", segment), ("variation", variation), ("metric", metric)):
        if text is not None and not isinstance(text, str):
            raise ModelFlagsError(f"{place}: {column} is not text: {text!r}")
    if not isinstance(stat, str) or not stat:
        raise ModelFlagsError(f"{place}: stat is not a name: {stat!r}")
    number = None if isinstance(value, str) else finite_value(value)
    if number is None:
        raise ModelFlagsError(f"{place}: value is not a finite number: {value!r}")
    return Row(section, segment, variation, metric, stat, number)


def finite_value(value: object) -> float | None:
    """``value`` as a finite float, or None (not a number, NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


_SPACES = re.compile(r"\s+")


def _first_line(error: BaseException) -> str:
    """A DuckDB error's message, on one line."""
    return _SPACES.sub(" ", str(error)).strip()
