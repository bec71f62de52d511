"""The aggregate table: one flag's experiment as mergeable sufficient statistics.

``modelflags report`` computes every figure from this table alone (``docs/aggregates.md`` is
the contract). It is small (a few rows per arm, metric and latency bucket), whatever the
number of events, and partial tables from several files, days or machines combine exactly by
the merge rule: group by (section, segment, variation, metric, stat) and add the values,
except ``last_*`` stats, which take the maximum. :func:`merge` applies it; the accessors of
:class:`Aggregates` read the table the way the report needs it; :func:`read_aggregates` and
:func:`write_aggregates` keep it in Parquet, CSV or JSON lines files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "COLUMNS",
    "MAX_MALFORMED_LINES",
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
    _overall: Mapping[_Key, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cells = _fold(self.rows)
        object.__setattr__(self, "_cells", cells)
        # every segment together: the same cells with the segment left out
        merged = (Row(key[0], None, *key[2:], value) for key, value in cells.items())
        object.__setattr__(self, "_overall", _fold(merged))

    def _total(self, section: str, segment: str | None, variation: str | None,
               metric: str | None, stat: str) -> float:  # fmt: skip
        cells = self._overall if segment is None else self._cells
        return cells.get((section, segment, variation, metric, stat), 0.0)

    def _named(self, section: str) -> dict[str, float]:
        """The stats of a section whose rows have no segment, variation or metric."""
        return {
            key[4]: value
            for key, value in self._cells.items()
            if key[0] == section and key[1] is None and key[2] is None and key[3] is None
        }

    def input_counts(self) -> dict[str, float]:
        """The reader's counts: ``events``, ``duplicates``, ``torn_lines``, ``malformed``,
        ``other_flags``, ``outside_window``, ``no_unit``, ``assignments`` (empty for a warehouse
        table)."""
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
        cells = self._overall if segment is None else self._cells
        return {
            key[4]: value
            for key, value in cells.items()
            if key[0] == "sketch" and key[1] == segment and key[2] == variation
        }

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


def read_aggregates(path: str | os.PathLike[str]) -> Aggregates:
    """Read an aggregate table from a Parquet, CSV or JSON lines file (by its suffix), as
    written by :func:`write_aggregates` or by the warehouse SQL. A file that is not an
    aggregate table raises :class:`~modelflags.errors.ModelFlagsError`, one line naming the
    file and the line (or Parquet row) of the first bad row."""
    from modelflags.analysis.aggregate_files import read_table

    return read_table(path)


def write_aggregates(aggregates: Aggregates, path: str | os.PathLike[str]) -> None:
    """Write the table to a Parquet, CSV (with a header) or JSON lines file, by its suffix;
    reading it back gives the same table, malformed-event locations included."""
    from modelflags.analysis.aggregate_files import write_table

    write_table(aggregates, path)
