"""Who is in the analysis, how fresh each arm's data is, and what the reader saw.

These parts of the report are bookkeeping read straight from the aggregate table:

- ``population``: randomised units (the units in the arms), units that never entered the
  split by the reason of their first exposure, and the units and events left out
  (several arms, an unknown arm, outcomes without an exposure, outcomes naming another arm);
- ``health``: per arm, the last exposure and outcome and the share of units with an outcome;
- ``configVersions``: units and exposures per config version, latest first;
- ``input``: what the event reader counted and skipped (``null`` when the table came from a
  warehouse query that does not count it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelflags.analysis.arms import Arm
from modelflags.analysis.report_values import count, rfc3339, share
from modelflags.analysis.table_view import TableView

__all__ = ["health_json", "input_json", "population_json", "versions_json"]

_INPUT = {
    "events": "events",
    "duplicates": "duplicates",
    "tornLines": "torn_lines",
    "malformed": "malformed",
    "otherFlags": "other_flags",
    "outsideWindow": "outside_window",
    "noUnit": "no_unit",
    "assignments": "assignments",
}


def population_json(view: TableView, arms: Sequence[Arm]) -> dict[str, Any]:
    """Randomised units and every count of units or events left out of the analysis."""

    def counted(stat: str) -> int | float | None:
        return count(view.number("population", None, None, stat))

    return {
        "randomized": count(sum(arm.units for arm in arms)),
        "byReason": {
            reason: count(units) for reason, units in view.prefixed("population", "reason:").items()
        },
        "multipleAssignments": counted("multiple_assignments"),
        "unknownVariation": counted("unknown_variation"),
        "orphanOutcomes": counted("orphan_outcomes"),
        "variationMismatch": counted("variation_mismatch"),
    }


def health_json(arms: Sequence[Arm]) -> dict[str, Any]:
    """Per arm: when data last arrived, and how many units have an outcome."""
    return {
        "arms": {
            arm.variation: {
                "lastExposure": rfc3339(arm.last_exposure),
                "lastOutcome": rfc3339(arm.last_outcome),
                "outcomeCoverage": share(arm.units_with_outcome, arm.units),
            }
            for arm in arms
        }
    }


def versions_json(view: TableView) -> list[dict[str, Any]]:
    """Units, exposures and last exposure per config version, the latest version first."""
    versions = [
        {
            "configVersion": name,
            "units": count(view.number("version", None, name, "units")),
            "exposures": count(view.number("version", None, name, "exposures")),
            "lastSeen": rfc3339(view.value("version", None, name, "last_seen")),
            "_order": view.number("version", None, name, "last_seen"),
        }
        for name in view.names("version")
    ]
    versions.sort(key=lambda row: (-float(row["_order"] or 0.0), str(row["configVersion"])))
    for row in versions:
        del row["_order"]
    return versions


def input_json(view: TableView, malformed_lines: Sequence[str]) -> dict[str, Any]:
    """The reader's counts (``null`` each when the table has no ``input`` rows at all)."""
    present = view.has_section("input")
    counts: dict[str, Any] = {
        key: count(view.number("input", None, None, stat)) if present else None
        for key, stat in _INPUT.items()
    }
    counts["malformedLines"] = list(malformed_lines)
    order = [
        "events",
        "duplicates",
        "tornLines",
        "malformed",
        "malformedLines",
        "otherFlags",
        "outsideWindow",
        "noUnit",
        "assignments",
    ]
    return {key: counts[key] for key in order}
