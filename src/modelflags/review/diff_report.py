"""``modelflags diff`` as data: every flag added, removed or changed, with its blast radius.

:func:`diff_configs` compares two validated configs; :func:`report_json` gives the stable
JSON shape documented in ``docs/diff.md``, :func:`report_text` a review comment (Markdown).

>>> report = diff_configs(old_config, new_config, now=time.time())    # doctest: +SKIP
>>> [(f.key, f.status, f.blast_radius.moved) for f in report.flags]   # doctest: +SKIP
[('support_answer_model_route', 'changed', 0.4)]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from modelflags.engine.compiled import compile_flags
from modelflags.review.blast_radius import BlastRadius, blast_radius
from modelflags.review.changes import (
    Change,
    SegmentChange,
    flag_changes,
    flag_segments,
    same_targeting,
    segment_changes,
)
from modelflags.schema.models import Flag, FlagFile

__all__ = ["DiffReport", "FlagDiff", "diff_configs", "report_json", "report_text"]

Status = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FlagDiff:
    """One flag that differs; ``blast_radius`` is set for changed flags (present on both sides)."""

    key: str
    status: Status
    unit: str
    """The assignment unit's name (``assignment.unit``, else ``assignment.key``, else
    ``targetingKey``), as events name it."""
    changes: tuple[Change, ...]
    blast_radius: BlastRadius | None
    old: Flag | None
    new: Flag | None


@dataclass(frozen=True)
class DiffReport:
    """Everything ``diff`` found between two versions of a flag source."""

    old_name: str
    new_name: str
    now: float
    contexts: tuple[Mapping[str, Any], ...]
    flags: tuple[FlagDiff, ...]
    """Added, removed and changed flags, by key."""
    unchanged: tuple[str, ...]
    segments: tuple[SegmentChange, ...]

    @property
    def has_changes(self) -> bool:
        """Whether any flag or segment differs (what ``--exit-code`` reports)."""
        return bool(self.flags or self.segments)


def diff_configs(
    old: FlagFile,
    new: FlagFile,
    *,
    now: float,
    old_name: str = "old",
    new_name: str = "new",
    contexts: Sequence[Mapping[str, Any]] = ({},),
    samples: int = 100_000,
) -> DiffReport:
    """Compare two configs at time ``now`` (epoch seconds, for flags with a schedule).

    ``contexts`` and ``samples`` describe the synthetic traffic used where a blast radius
    must be sampled (see :func:`~modelflags.review.blast_radius.blast_radius`).
    """
    segments = tuple(segment_changes(old, new))
    redefined = {change.name: change for change in segments}
    compiled_old, compiled_new = compile_flags(old, "old"), compile_flags(new, "new")
    flags: list[FlagDiff] = []
    unchanged: list[str] = []
    for key in sorted({*old.flags, *new.flags}):
        before, after = old.flags.get(key), new.flags.get(key)
        if before is None or after is None:
            flag = after or before
            assert flag is not None
            status: Status = "added" if before is None else "removed"
            flags.append(FlagDiff(key, status, _unit(flag), (), None, before, after))
            continue
        used = flag_segments(before, old.segments) | flag_segments(after, new.segments)
        changes = flag_changes(before, after) + [
            Change(f"segments.{name}", redefined[name].kind, redefined[name].old,
                   redefined[name].new)
            for name in sorted(used & redefined.keys())
        ]  # fmt: skip
        if not changes:
            unchanged.append(key)
            continue
        radius = blast_radius(
            compiled_old[key],
            compiled_new[key],
            now=now,
            same_targeting=same_targeting(key, before, after, old.segments, new.segments),
            contexts=contexts,
            samples=samples,
        )
        flags.append(FlagDiff(key, "changed", _unit(after), tuple(changes), radius, before, after))
    return DiffReport(
        old_name, new_name, now, tuple(contexts), tuple(flags), tuple(unchanged), segments
    )


def report_json(report: DiffReport) -> dict[str, Any]:
    """The stable JSON shape (keys in alphabetical order, shares rounded to 6 places)."""
    summary: dict[str, int] = {"unchanged": len(report.unchanged)}
    summary.update((s, sum(f.status == s for f in report.flags)) for s in _STATUSES)
    return {
        "contexts": [dict(context) for context in report.contexts],
        "flags": [_flag_json(flag) for flag in report.flags],
        "new": report.new_name,
        "now": datetime.fromtimestamp(report.now, timezone.utc).isoformat().replace("+00:00", "Z"),
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
    counts = {status: sum(f.status == status for f in report.flags) for status in _STATUSES}
    lines = [f"# Flag changes: {report.old_name} → {report.new_name}", ""]
    if not report.has_changes:
        return "\n".join([*lines, "No flag or segment changes.", ""])
    parts = [f"{counts[status]} {status}" for status in _STATUSES if counts[status]]
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


_STATUSES: tuple[Status, ...] = ("changed", "added", "removed")


def _radius_text(radius: BlastRadius, flag: FlagDiff) -> list[str]:
    units = _plural(flag.unit)
    whom = {
        "all": units,
        "reaching-split": f"{units} that reach the split",
        "synthetic": f"synthetic {units}",
    }[radius.population]
    about = "~" if radius.method == "sampled" else ""
    moves = sorted(
        ((a, b, share) for (a, b), share in radius.matrix.items() if a != b),
        key=lambda cell: (-cell[2], cell[0], cell[1]),
    )
    if moves:
        margin = f" (±{radius.margin * 100:.1f} points)" if radius.margin else ""
        cells = ", ".join(f"{a} → {b} {_pct(share)}" for a, b, share in moves)
        lines = [f"**Moves {about}{_pct(radius.moved)}{margin} of {whom}:** {cells}."]
    else:
        lines = [f"**No {whom} change variation.**"]
    if radius.value_changed > radius.moved + 1e-9:
        lines.append(f"{about}{_pct(radius.value_changed)} of {whom} are served a changed value.")
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
        "valueChanged": round(radius.value_changed, 6),
    }


def _rounded(shares: Mapping[str, float]) -> dict[str, float]:
    return {name: round(share, 6) for name, share in sorted(shares.items())}


def _unit(flag: Flag) -> str:
    return flag.assignment.unit or flag.assignment.key or "targetingKey"
