"""The one table of a peer run, rendered from its result rows (the lines of results.jsonl).

Each measured row shows its median and min microseconds per evaluation, its candidate share,
its check, and three ratios of its median, each to a reference measured in the same run:
floor 2 (bare Python), floor 1 (the OpenFeature client over a provider with no targeting) and
modelflags (its OpenFeature provider). A ratio whose reference is missing or failed is shown
as ``n/a``, never computed from nothing. Lines under the table give the modelflags/floor-1
ratio measured inside one process, and the reason for every row that failed or answered
wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["REFERENCES", "check_text", "notes", "ratio", "render"]

# (column heading, key of the reference row)
REFERENCES = (("x floor 2", "floor2"), ("x floor 1", "floor1"), ("x modelflags", "modelflags"))

HEAD = ("row", "version", "us/eval median", "us/eval min", "candidate share")
TAIL = ("check",)


def measured(row: dict[str, Any]) -> bool:
    return row.get("status") in ("ok", "WRONG") and isinstance(row.get("us_median"), float)


def reference_medians(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Median of every reference row that passed its check."""
    keys = {key for _, key in REFERENCES}
    return {
        row["key"]: row["us_median"]
        for row in rows
        if row.get("key") in keys and row.get("status") == "ok" and row["us_median"] > 0
    }


def ratio(value: float, reference: float | None) -> str:
    if reference is None or reference <= 0:
        return "n/a"
    return f"{value / reference:.2f}x"


def check_text(row: dict[str, Any]) -> str:
    status = row.get("status", "failed")
    if not measured(row):
        return f"{status}: {row.get('reason', 'no result')}"
    check = row["check"]
    parts = [status]
    if check["excluded"]:
        parts.append(f"excl {check['excluded_fallback']}/{check['excluded']}")
    if check["wrong"]:
        parts.append(f"wrong {check['wrong']}")
    if check["unstable"]:
        parts.append(f"unstable {check['unstable']}")
    connections = row.get("connections", {})
    if connections.get("allowed"):
        parts.append(f"loopback conn {connections['allowed']}")
    if connections.get("refused"):
        parts.append(f"refused conn {connections['refused']}")
    return ", ".join(parts)


def cells(row: dict[str, Any], references: dict[str, float]) -> list[str]:
    if not measured(row):
        blank = ["-"] * (len(HEAD) - 2 + len(REFERENCES))
        return [row.get("label", row.get("key", "?")), row.get("version", "-"), *blank,
                check_text(row)]  # fmt: skip
    share = row["check"]["candidate_share"]
    median = row["us_median"]
    return [
        row["label"],
        row["version"],
        f"{median:.2f}",
        f"{row['us_min']:.2f}",
        "n/a (fixed)" if share is None else f"{share:.2%}",
        *(ratio(median, references.get(key)) for _, key in REFERENCES),
        check_text(row),
    ]


def render(rows: Sequence[dict[str, Any]], *, markdown: bool = True) -> str:
    """The table, rows sorted by their ``order``, as markdown or aligned plain text."""
    ordered = sorted(rows, key=lambda r: (r.get("order", 999), r.get("key", "")))
    references = reference_medians(ordered)
    heading = [*HEAD, *(title for title, _ in REFERENCES), *TAIL]
    body = [cells(row, references) for row in ordered]
    numeric = set(range(2, len(HEAD) + len(REFERENCES)))
    if markdown:
        lines = ["| " + " | ".join(heading) + " |"]
        lines.append(
            "|" + "|".join("---:" if i in numeric else "---" for i in range(len(heading))) + "|"
        )
        lines.extend("| " + " | ".join(line) + " |" for line in body)
        return "\n".join(lines)
    widths = [max(len(line[i]) for line in [heading, *body]) for i in range(len(heading))]

    def aligned(line: list[str]) -> str:
        return "  ".join(
            text.rjust(widths[i]) if i in numeric else text.ljust(widths[i])
            for i, text in enumerate(line)
        ).rstrip()

    return "\n".join([aligned(heading), aligned(["-" * w for w in widths]), *map(aligned, body)])


def notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Sentences under the table: the in-process ratio, and why rows failed."""
    by_key = {row.get("key"): row for row in rows}
    out: list[str] = []
    ours, paired = by_key.get("modelflags"), by_key.get("floor1-paired")
    if ours and paired and ours.get("status") == "ok" and paired.get("status") == "ok":
        out.append(
            f"modelflags / floor 1 in one process, batches interleaved: "
            f"{ratio(ours['us_median'], paired['us_median'])} "
            f"({ours['us_median']:.2f} against {paired['us_median']:.2f} us/eval)"
        )
    for row in rows:
        if len(row.get("round_medians", ())) > 1:
            medians = ", ".join(f"{m:.2f}" for m in row["round_medians"])
            out.append(f"{row['label']}: median of each round {medians} us/eval")
    for row in rows:
        if row.get("status") == "WRONG":
            out.append(f"{row['label']}: WRONG: {json.dumps(row['check'])}")
        elif not measured(row):
            out.append(f"{row.get('label', row.get('key'))}: failed: {row.get('reason')}")
    return out
