"""``modelflags diff`` rendered: the stable JSON shape and the review comment (Markdown).

Both read a :class:`~modelflags.review.diff.report.DiffReport` and nothing else; the JSON
shape is documented key by key in ``docs/diff.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from modelflags.review.diff.blast_radius import BlastRadius
from modelflags.review.diff.changes import Change
from modelflags.review.diff.report import STATUSES, DiffReport, FlagDiff
from modelflags.review.timestamps import utc_text
from modelflags.schema.models import Flag

__all__ = ["report_json", "report_text"]


def report_json(report: DiffReport) -> dict[str, Any]:
    """The stable JSON shape (keys in alphabetical order, shares rounded to 6 places)."""
    summary: dict[str, int] = {"unchanged": len(report.unchanged)}
    summary.update((s, sum(f.status == s for f in report.flags)) for s in STATUSES)
    return {
        "contexts": [dict(context) for context in report.contexts],
        "flags": [_flag_json(flag) for flag in report.flags],
        "new": report.new_name,
        "now": utc_text(report.now),
        "old": report.old_name,
        "segments": [
            {"kind": s.kind, "name": s.name, "new": s.new, "old": s.old, "usedBy": list(s.used_by)}
            for s in report.segments
        ],
        "summary": dict(sorted(summary.items())),
        "unchanged": list(report.unchanged),
    }


def report_text(report: DiffReport) -> str:
    """A review comment in Markdown: a heading per flag, its changes, its blast radius."""
    counts = {status: sum(f.status == status for f in report.flags) for status in STATUSES}
    lines = [f"# Flag changes: {report.old_name} → {report.new_name}", ""]
    if not report.has_changes:
        return "\n".join([*lines, "No flag or segment changes.", ""])
    parts = [f"{counts[status]} {status}" for status in STATUSES if counts[status]]
    lines += [", ".join([*parts, f"{len(report.unchanged)} unchanged"]) + ".", ""]
    for flag in report.flags:
        lines += [f"## `{flag.key}`: {flag.status}", ""]
        if flag.status != "changed":
            lines += [f"- {_outline(flag.new or flag.old)}", ""]
            continue
        lines += [f"- {_change_text(change)}" for change in flag.changes] + [""]
        if flag.blast_radius is not None:
            lines += _radius_text(flag.blast_radius, flag)
    if report.segments:
        lines += ["## Segments", ""]
        for segment in report.segments:
            users = ", ".join(f"`{key}`" for key in segment.used_by) or "no flag"
            change = _change_text(Change(f"{segment.name}", segment.kind, segment.old, segment.new))
            lines.append(f"- {change}; used by {users}")
        lines.append("")
    if report.unchanged:
        lines += ["Unchanged: " + ", ".join(f"`{key}`" for key in report.unchanged) + ".", ""]
    return "\n".join(lines)


def _radius_text(radius: BlastRadius, flag: FlagDiff) -> list[str]:
    units = _plural(flag.unit)
    whom = {
        "all": units,
        "reaching-split": f"{units} that reach the split",
        "synthetic": f"synthetic {units}",
    }[radius.population]
    about = "~" if radius.method == "sampled" else ""
    lines = _state_lines(radius, "unit" if flag.unit == "targetingKey" else flag.unit)
    moves = sorted(
        ((a, b, share) for (a, b), share in radius.matrix.items() if a != b),
        key=lambda cell: (-cell[2], cell[0], cell[1]),
    )
    if moves:
        margin = f" (±{radius.margin * 100:.1f} points)" if radius.margin else ""
        cells = ", ".join(f"{a} → {b} {_pct(share)}" for a, b, share in moves)
        lines.append(f"**Moves {about}{_pct(radius.moved)}{margin} of {whom}:** {cells}.")
    else:
        lines.append(f"**No {whom} change variation.**")
    if abs(radius.value_changed - radius.moved) > 1e-9:
        why = (
            "" if radius.value_changed > radius.moved
            else " (some move between variations with the same value)"
        )  # fmt: skip
        lines.append(
            f"{about}{_pct(radius.value_changed)} of {whom} are served a changed value{why}."
        )
    if radius.population == "reaching-split":
        lines.append(
            f"Exclusions, rules and eligibility are unchanged: the {units} they decide "
            "keep their variation."
        )
    lines += ["", *_matrix_table(radius, flag), ""]
    lines.append(f"Method: {radius.method} ({radius.detail}).")
    if radius.decided_by:
        steps = sorted({*radius.decided_by["old"], *radius.decided_by["new"]})
        lines.append(
            "Decided by (old → new): "
            + ", ".join(
                f"{step} {_pct(radius.decided_by['old'].get(step, 0))} → "
                f"{_pct(radius.decided_by['new'].get(step, 0))}"
                for step in steps
            )
            + "."
        )
    lines += [f"Note: {note}." for note in radius.notes]
    return [*lines, ""]


def _state_lines(radius: BlastRadius, unit: str) -> list[str]:
    """A version that is off serves one variation to every unit: said first, and plainly."""
    before, after = radius.serves_everyone.get("old"), radius.serves_everyone.get("new")
    if before is not None and after is not None:
        was = f" (was `{before}`)" if before != after else ""
        return [f"**The flag is off in both versions: every {unit} gets `{after}`{was}.**"]
    if after is not None:
        return [f"**Switches the flag off: every {unit} now gets `{after}`.**"]
    if before is not None:
        return [f"**Switches the flag on:** every {unit} got `{before}` before."]
    return []


def _matrix_table(radius: BlastRadius, flag: FlagDiff) -> list[str]:
    order = list(dict.fromkeys([*(flag.old.variations if flag.old else ()),
                                *(flag.new.variations if flag.new else ())]))  # fmt: skip
    rows = [v for v in order if radius.old_shares.get(v, 0) > 0]
    columns = [v for v in order if radius.new_shares.get(v, 0) > 0]
    table = [
        "| old ↓ new → | " + " | ".join(columns) + " | old share |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for a in rows:
        cells = [_pct(radius.matrix[(a, b)]) if (a, b) in radius.matrix else "·" for b in columns]
        table.append(f"| {a} | " + " | ".join(cells) + f" | {_pct(radius.old_shares[a])} |")
    shares = " | ".join(_pct(radius.new_shares[b]) for b in columns)
    return [*table, f"| new share | {shares} | |"]


def _change_text(change: Change) -> str:
    if change.kind == "added":
        return f"`{change.field}` added: {_value(change.new)}"
    if change.kind == "removed":
        return f"`{change.field}` removed (was {_value(change.old)})"
    return f"`{change.field}`: {_value(change.old)} → {_value(change.new)}"


def _outline(flag: Flag | None) -> str:
    if flag is None:
        return ""
    parts = [f"variations {', '.join(flag.variations)}", f"default `{flag.default}`"]
    if flag.state == "off":
        parts.insert(0, "off")
    if flag.split:
        parts.append("split " + ", ".join(f"{k} {w}" for k, w in flag.split.items()))
    if flag.coverage < 100:
        parts.append(f"coverage {flag.coverage:g}%")
    if flag.rules:
        parts.append(f"{len(flag.rules)} rule{'s' if len(flag.rules) > 1 else ''}")
    return "; ".join(parts)


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
    return f"`{text if len(text) <= 120 else text[:117] + '...'}`"


def _pct(share: float) -> str:
    if share <= 0:
        return "0%"
    if share < 0.0005:
        return "<0.1%"
    return f"{share * 100:.1f}%"


def _plural(unit: str) -> str:
    if unit == "targetingKey":
        return "units"
    if unit.endswith(("s", "x", "ch", "sh")):
        return f"{unit}es"
    if unit.endswith("y") and unit[-2:-1] not in "aeiou":
        return f"{unit[:-1]}ies"
    return f"{unit}s"


def _flag_json(flag: FlagDiff) -> dict[str, Any]:
    return {
        "blastRadius": _radius_json(flag.blast_radius) if flag.blast_radius else None,
        "changes": [
            {"field": c.field, "kind": c.kind, "new": c.new, "old": c.old} for c in flag.changes
        ],
        "key": flag.key,
        "status": flag.status,
        "unit": flag.unit,
    }


def _radius_json(radius: BlastRadius) -> dict[str, Any]:
    return {
        "decidedBy": {side: _rounded(steps) for side, steps in radius.decided_by.items()},
        "detail": radius.detail,
        "margin": round(radius.margin, 6),
        "matrix": [
            {"from": a, "share": round(share, 6), "to": b}
            for (a, b), share in sorted(radius.matrix.items())
        ],
        "method": radius.method,
        "moved": round(radius.moved, 6),
        "newShares": _rounded(radius.new_shares),
        "notes": list(radius.notes),
        "oldShares": _rounded(radius.old_shares),
        "population": radius.population,
        "samples": radius.samples,
        "servesEveryone": dict(sorted(radius.serves_everyone.items())),
        "valueChanged": round(radius.value_changed, 6),
    }


def _rounded(shares: Mapping[str, float]) -> dict[str, float]:
    return {name: round(share, 6) for name, share in sorted(shares.items())}
