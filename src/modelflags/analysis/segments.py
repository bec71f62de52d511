"""Segment readouts (``--by ATTRIBUTE``): the arm table and the primary comparison per value.

Values are ranked by randomised units (most first, then by name); the first ``top`` are
shown one by one and the rest merged into ``(other)``. Merging is exact, because the
aggregate table holds sufficient statistics that add. Looking at many segments finds
differences by chance, so every primary p-value also gets its Holm-adjusted value
(``pValueHolm``), adjusted across all the segments' primary comparisons together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelflags.analysis import intervals, statistics
from modelflags.analysis.arms import arm_json, read_arm
from modelflags.analysis.comparisons import MetricComparison, compare
from modelflags.analysis.report_values import finite
from modelflags.analysis.table_view import TableView

__all__ = ["OTHER", "SegmentGroup", "segment_groups", "segment_readouts"]

OTHER = "(other)"
"""The name of the merged segment of every value beyond the top ones."""


@dataclass(frozen=True)
class SegmentGroup:
    """A segment as the report shows it: a value, or ``(other)`` with the values it merges."""

    value: str
    members: frozenset[str]
    units: float


def segment_groups(view: TableView, arms: Sequence[str], top: int) -> list[SegmentGroup]:
    """The ``top`` most frequent segment values, then ``(other)`` for the rest (if any)."""
    top = max(top, 0)
    ranked = sorted(view.segment_units(arms).items(), key=lambda item: (-item[1], item[0]))
    groups = [SegmentGroup(value, frozenset([value]), units) for value, units in ranked[:top]]
    rest = ranked[top:]
    if rest:
        groups.append(SegmentGroup(OTHER, frozenset(v for v, _ in rest), sum(u for _, u in rest)))
    return groups


def segment_readouts(
    view: TableView,
    attribute: str,
    weights: Mapping[str, float],
    *,
    control: str,
    metrics: Mapping[str, bool],
    primary: str | None,
    method: intervals.Method,
    top: int,
) -> list[dict[str, Any]]:
    """Per segment group: its arms and the primary comparison of each non-control arm."""
    groups = segment_groups(view, list(weights), top)
    readouts: list[dict[str, Any]] = []
    comparisons: list[list[MetricComparison]] = []
    for group in groups:
        seen = view.restricted(group.members)
        arms = [read_arm(seen, name, weight, list(metrics)) for name, weight in weights.items()]
        base = next(arm for arm in arms if arm.variation == control)
        found = []
        if primary is not None:
            binary = metrics.get(primary, False)
            found = [
                MetricComparison(
                    arm.variation,
                    primary,
                    True,
                    compare(base, arm, primary, binary=binary, method=method),
                )
                for arm in arms
                if arm.variation != control
            ]
        comparisons.append(found)
        readouts.append(
            {
                "attribute": attribute,
                "value": group.value,
                "arms": [arm_json(arm, metrics) for arm in arms],
            }
        )
    adjusted = iter(statistics.holm([c.result.p_value for found in comparisons for c in found]))
    for readout, found in zip(readouts, comparisons, strict=True):
        readout["comparisons"] = [
            {**c.as_json(), "pValueHolm": finite(next(adjusted))} for c in found
        ]
    return readouts
