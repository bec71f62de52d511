"""Read access to the aggregate table for the report: every figure is looked up here.

The table (see the aggregate table documentation) holds mergeable sufficient statistics keyed
by ``(section, segment, variation, metric, stat)``. A :class:`TableView` indexes it once and
answers look-ups for the whole experiment or for a chosen set of segment values: the
statistics of several segments add (``last_*`` stats take the maximum), which is how the
report gets both its overall arm table and the "(other)" segment from a ``--by`` table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modelflags.analysis.aggregates import Aggregates

__all__ = ["Row", "TableView"]

Row = tuple[str, "str | None", "str | None", "str | None", str, float]
"""One row: section, segment, variation, metric, stat, value."""

_Key = tuple[str, "str | None", "str | None", str]  # section, variation, metric, stat


def _fold(stat: str, values: Iterable[float]) -> float:
    """The merge rule: ``last_*`` stats take the maximum, every other stat adds."""
    collected = [v for v in values if math.isfinite(v)]
    if not collected:
        return 0.0
    return max(collected) if stat.startswith("last_") else math.fsum(collected)


@dataclass(frozen=True)
class TableView:
    """An indexed aggregate table, optionally restricted to some segment values.

    ``only`` is ``None`` for every segment (the whole experiment), else the set of segment
    values whose rows count. Rows without a segment (``input``, ``population``, ``version``)
    are never restricted.
    """

    cells: Mapping[_Key, Mapping[str | None, float]] = field(repr=False)
    only: frozenset[str | None] | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[Row]) -> TableView:
        """Index rows, merging duplicate keys by the merge rule (so partial tables combine)."""
        grouped: dict[_Key, dict[str | None, list[float]]] = {}
        for section, segment, variation, metric, stat, value in rows:
            key = (str(section), variation, metric, str(stat))
            grouped.setdefault(key, {}).setdefault(segment, []).append(float(value))
        cells = {
            key: {segment: _fold(key[3], values) for segment, values in by_segment.items()}
            for key, by_segment in grouped.items()
        }
        return cls(cells)

    @classmethod
    def from_aggregates(cls, aggregates: Aggregates) -> TableView:
        """Index an :class:`~modelflags.analysis.aggregates.Aggregates` (its rows)."""
        return cls.from_rows(
            (r.section, r.segment, r.variation, r.metric, r.stat, r.value) for r in aggregates.rows
        )

    def restricted(self, segments: Iterable[str | None]) -> TableView:
        """The same table seen through some segment values only."""
        return TableView(self.cells, frozenset(segments))

    def value(
        self, section: str, variation: str | None, metric: str | None, stat: str
    ) -> float | None:
        """The merged value of one statistic, or ``None`` when the table has no such row."""
        by_segment = self.cells.get((section, variation, metric, stat))
        if not by_segment:
            return None
        chosen = [
            value
            for segment, value in by_segment.items()
            if self.only is None or segment is None or segment in self.only
        ]
        return _fold(stat, chosen) if chosen else None

    def number(self, section: str, variation: str | None, metric: str | None, stat: str) -> float:
        """Like :meth:`value`, with 0 for a missing row (counts and sums)."""
        found = self.value(section, variation, metric, stat)
        return 0.0 if found is None else found

    def stats(self, section: str, variation: str | None, metric: str | None) -> dict[str, float]:
        """Every stat of one (section, variation, metric), e.g. a latency sketch's buckets."""
        found: dict[str, float] = {}
        for sec, var, met, stat in self.cells:
            if sec == section and var == variation and met == metric:
                value = self.value(sec, var, met, stat)
                if value is not None:
                    found[stat] = value
        return found

    def names(self, section: str, *, variation: str | None = None) -> list[str]:
        """The metrics named by a section's rows (sorted), e.g. outcome metrics or versions."""
        return sorted(
            {
                met
                for sec, var, met, _ in self.cells
                if sec == section and met is not None and (variation is None or var == variation)
            }
        )

    def prefixed(self, section: str, prefix: str) -> dict[str, float]:
        """Stats of a section (variation and metric null) whose name starts with ``prefix``,
        keyed by the rest of the name: e.g. ``population`` / ``reason:`` → reason counts."""
        return {
            stat[len(prefix) :]: self.number(sec, None, None, stat)
            for sec, var, met, stat in sorted(self.cells, key=lambda key: key[3])
            if sec == section and var is None and met is None and stat.startswith(prefix)
        }

    def has_section(self, section: str) -> bool:
        """Whether any row of ``section`` exists (a warehouse table may leave ``input`` out)."""
        return any(key[0] == section for key in self.cells)

    def segment_units(self, arms: Iterable[str]) -> dict[str, float]:
        """Randomised units per segment value (over ``arms``), for ranking segments."""
        arms = set(arms)
        units: dict[str, float] = {}
        for (section, variation, metric, stat), by_segment in self.cells.items():
            if section != "arm" or metric is not None or stat != "units" or variation not in arms:
                continue
            for segment, value in by_segment.items():
                if segment is not None:
                    units[segment] = units.get(segment, 0.0) + value
        return units
