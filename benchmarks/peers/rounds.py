"""Rows of one SDK from several rounds, combined into one row of the table.

With ``--rounds N`` the runner starts every SDK's process N times, in rotation (floors,
modelflags, flagd, ..., floors, modelflags, ...), so that a slow stretch of a shared machine
falls on every SDK rather than on whichever ran at that moment. The combined row's median and
min are taken over the batches of all its rounds, and it passes only if every round passed.
If an SDK's process failed in any round, every row of that SDK is shown as failed, with the
reason of the first failed round: a row measured in fewer rounds than the others would not
be comparable with them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["combine"]


def measured(row: dict[str, Any]) -> bool:
    return row.get("status") in ("ok", "WRONG")


def combine(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key, in the order the keys first appear (see the module doc)."""
    failures: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if measured(row):
            groups.setdefault(row["key"], []).append(row)
        else:
            failures.setdefault(row["sdk"], row)
    combined: list[dict[str, Any]] = []
    for group in groups.values():
        row = merge(group)
        failure = failures.get(row["sdk"])
        if failure is not None:
            where = f"round {failure['round']}: " if "round" in failure else ""
            row = {
                **{k: row[k] for k in ("sdk", "key", "label", "version", "order", "rounds")},
                "status": "failed",
                "reason": where + str(failure.get("reason", "no result")),
            }
        combined.append(row)
    with_rows = {row["sdk"] for row in combined}
    combined.extend(row for sdk, row in failures.items() if sdk not in with_rows)
    return combined


def merge(group: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one measured row as one row."""
    if len(group) == 1:
        return {**group[0], "rounds": 1}
    batches = [t for row in group for t in row["us_batches"]]
    wrong = [row for row in group if row["status"] == "WRONG"]
    first = wrong[0] if wrong else group[0]
    return {
        **first,
        "status": "WRONG" if wrong else "ok",
        "us_batches": batches,
        "us_median": statistics.median(batches),
        "us_min": min(batches),
        "round_medians": [row["us_median"] for row in group],
        "connections": {
            "allowed": sum(row["connections"]["allowed"] for row in group),
            "refused": sum(row["connections"]["refused"] for row in group),
            "refused_examples": [
                e for row in group for e in row["connections"]["refused_examples"]
            ][:5],
        },
        "rounds": len(group),
    }
