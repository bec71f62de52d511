"""The aggregate table: one flag's experiment as mergeable sufficient statistics.

``modelflags report`` computes every figure from this table alone (``docs/aggregates.md`` is
the contract). It is small (a few rows per arm, metric and latency bucket), whatever the
number of events, and partial tables from several files, days or machines combine exactly by
the merge rule: group by (section, segment, variation, metric, stat) and add the values,
except ``last_*`` stats, which take the maximum. :func:`merge` applies it; the accessors of
:class:`Aggregates` read the table the way the report needs it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelflags.errors import ModelFlagsError

__all__ = [
    "COLUMNS",
    "FORMATS",
    "MEASURES",
    "MISSING",
    "SECTIONS",
    "Aggregates",
    "Row",
    "merge",
    "read_aggregates",
    "write_aggregates",
]

COLUMNS = ("section", "segment", "variation", "metric", "stat", "value")
"""The table's columns, in order."""

SECTIONS = ("input", "population", "version", "arm", "metric", "sketch")
"""What a row is about (see the contract for each section's stats)."""

MEASURES = ("error", "fallback", "latency_ms", "cost")
"""The request-level measures of ``arm`` rows (ratios Σs/Σc per arm)."""

MISSING = "(missing)"
"""The segment of units whose ``--by`` attribute is absent (and a missing config version)."""

MAX_MALFORMED_LINES = 10
"""How many ``file:line`` locations of malformed events a table keeps."""

_Key = tuple[str, "str | None", "str | None", "str | None", str]


@dataclass(frozen=True)
class Row:
    """One statistic: ``value`` of ``stat`` for (section, segment, variation, metric)."""

    section: str
    segment: str | None
    variation: str | None
    metric: str | None
    stat: str
    value: float

    @property
    def key(self) -> _Key:
        """What the merge rule groups by: every column but the value."""
        return (self.section, self.segment, self.variation, self.metric, self.stat)


def _combine(stat: str, old: float, new: float) -> float:
    """The merge rule for one stat: ``last_*`` takes the maximum, everything else adds."""
    return max(old, new) if stat.startswith("last_") else old + new


def _fold(rows: Iterable[Row]) -> dict[_Key, float]:
    """Rows with equal keys combined by the merge rule, in order of first appearance."""
    folded: dict[_Key, float] = {}
    for row in rows:
        key = row.key
        folded[key] = _combine(row.stat, folded[key], row.value) if key in folded else row.value
    return folded


@dataclass(frozen=True)
class Aggregates:
    """An aggregate table: its rows, and where the first malformed events were found.

    Rows with equal keys may repeat (a concatenation of partial tables); every accessor reads
    them combined by the merge rule. A ``segment`` argument of ``None`` means every segment
    together: without ``--by`` the table has no other; with it, the arms' overall figures.
    Statistics the table has no row for read as 0 (sums and counts; a ``last_*`` time of 0
    means never).
    """

    rows: tuple[Row, ...] = ()
    malformed_lines: tuple[str, ...] = ()
    _cells: Mapping[_Key, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cells", _fold(self.rows))

    def _total(self, section: str, segment: str | None, variation: str | None,
               metric: str | None, stat: str) -> float:  # fmt: skip
        if segment is not None:
            return self._cells.get((section, segment, variation, metric, stat), 0.0)
        total = 0.0
        for (sec, _seg, var, met, name), value in self._cells.items():
            if sec == section and var == variation and met == metric and name == stat:
                total = _combine(stat, total, value)
        return total

    def _named(self, section: str) -> dict[str, float]:
        return {key[4]: value for key, value in self._cells.items() if key[0] == section}

    def input_counts(self) -> dict[str, float]:
        """The reader's counts: ``events``, ``duplicates``, ``torn_lines``, ``malformed``,
        ``other_flags``, ``outside_window``, ``no_unit`` (empty for a warehouse table)."""
        return self._named("input")

    def population(self) -> dict[str, float]:
        """Units and events left out of the arms: ``reason:<REASON>`` (units never
        randomised), ``multiple_assignments``, ``unknown_variation``, ``orphan_outcomes``,
        ``variation_mismatch``."""
        return self._named("population")

    def versions(self) -> dict[str, dict[str, float]]:
        """Per config version: ``units``, ``exposures`` and ``last_seen`` (epoch seconds)."""
        found: dict[str, dict[str, float]] = {}
        for (section, _seg, _var, metric, stat), value in self._cells.items():
            if section == "version" and metric is not None:
                found.setdefault(metric, {})[stat] = value
        return found

    def segments(self) -> tuple[str, ...]:
        """The ``--by`` values that have randomised units, sorted (empty without ``--by``)."""
        return tuple(sorted({k[1] for k in self._cells if k[0] == "arm" and k[1] is not None}))

    def variations(self) -> tuple[str, ...]:
        """The arms that have randomised units, sorted."""
        return tuple(sorted({k[2] for k in self._cells if k[0] == "arm" and k[2] is not None}))

    def metrics(self) -> tuple[str, ...]:
        """The outcome metrics recorded by any randomised unit, sorted."""
        return tuple(sorted({k[3] for k in self._cells if k[0] == "metric" and k[3] is not None}))

    def arm_stat(self, segment: str | None, variation: str, metric: str | None, stat: str) -> float:
        """An ``arm`` statistic: ``metric`` None for ``units``, ``exposures``,
        ``exposures_sq``, ``units_with_outcome``, ``last_exposure``, ``last_outcome``; a
        request-level measure (:data:`MEASURES`) for ``sum``, ``sum_sq``, ``count``,
        ``count_sq``, ``cross``."""
        return self._total("arm", segment, variation, metric, stat)

    def metric_stat(self, segment: str | None, variation: str, metric: str, stat: str) -> float:
        """An outcome metric's ``sum``, ``sum_sq``, ``units`` or ``nonbinary`` in one arm."""
        return self._total("metric", segment, variation, metric, stat)

    def sketch(self, segment: str | None, variation: str) -> dict[str, float]:
        """The arm's latency sketch: bucket key (``b<i>`` or ``zero``) → count."""
        buckets: dict[str, float] = {}
        for (section, seg, var, _met, stat), value in self._cells.items():
            if section == "sketch" and var == variation and (segment is None or seg == segment):
                buckets[stat] = buckets.get(stat, 0.0) + value
        return buckets

    def compact(self) -> Aggregates:
        """The same table with every key once (rows combined by the merge rule)."""
        return Aggregates(
            tuple(Row(*key, value) for key, value in self._cells.items()), self.malformed_lines
        )


def merge(*tables: Aggregates) -> Aggregates:
    """Partial tables combined into one by the merge rule (exact: every stat is a sum or a
    maximum); the first :data:`MAX_MALFORMED_LINES` malformed-event locations are kept."""
    lines: list[str] = []
    for table in tables:
        lines.extend(line for line in table.malformed_lines if line not in lines)
    rows = tuple(row for table in tables for row in table.rows)
    return Aggregates(rows, tuple(lines[:MAX_MALFORMED_LINES])).compact()


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


def write_aggregates(aggregates: Aggregates, path: str | Path) -> None:
    """Write the table to ``path`` as Parquet, CSV (with a header) or JSONL, by its suffix.

    Rows are combined by the merge rule and sorted; the malformed-event locations become
    ``input`` rows (see :data:`MALFORMED_LINE`), so reading the file back gives the same table.
    """
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


def read_aggregates(path: str | Path) -> Aggregates:
    """Read an aggregate table written by :func:`write_aggregates` or by the warehouse SQL.

    A file that is not a valid table raises :class:`~modelflags.errors.ModelFlagsError` with
    one line naming the file (and the line, or Parquet row, of the first bad row).
    """
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
    first = {"parquet": 1, "csv": 2, "jsonl": 1}[kind]  # a CSV's first row is on line 2
    positions = [names.index(column) for column in COLUMNS]
    rows: list[Row] = []
    lines: list[str] = []
    for number, record in enumerate(found, start=first):
        place = f"{source} row {number}" if kind == "parquet" else f"{source}:{number}"
        cells = [
            None if record[i] is None else json.loads(record[i]) if kind == "jsonl" else record[i]
            for i in positions
        ]
        if kind == "csv" and (number := finite_value(cells[5])) is not None:
            cells[5] = number  # CSV holds text: a number written out
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
