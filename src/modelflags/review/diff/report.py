"""``modelflags diff`` as data: every flag added, removed or changed, with its blast radius.

:func:`diff_configs` compares two validated configs; :mod:`.rendering` turns the result
into the stable JSON shape documented in ``docs/diff.md`` or a review comment (Markdown).

>>> report = diff_configs(old_config, new_config, now=time.time())  # doctest: +SKIP
>>> [(f.key, f.status, f.blast_radius.moved) for f in report.flags]   # doctest: +SKIP
[('support_answer_model_route', 'changed', 0.4)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelflags.engine.compiled import compile_flags
from modelflags.review.diff.blast_radius import BlastRadius, blast_radius
from modelflags.review.diff.changes import (
    Change,
    SegmentChange,
    flag_changes,
    same_targeting,
    segment_changes,
)
from modelflags.schema.conditions import segments_used
from modelflags.schema.models import Flag, FlagFile

__all__ = ["STATUSES", "DiffReport", "FlagDiff", "Status", "diff_configs"]

Status = Literal["added", "removed", "changed"]
STATUSES: tuple[Status, ...] = ("changed", "added", "removed")
"""Every status, in the order the summary counts them."""


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
    """The ``--context`` attributes of the synthetic units; empty when none were given."""
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
    contexts: Sequence[Mapping[str, Any]] = (),
    samples: int = 100_000,
) -> DiffReport:
    """Compare two configs at time ``now`` (epoch seconds, for flags with a schedule).

    ``contexts`` (none: units without attributes) and ``samples`` describe the synthetic
    traffic used where a blast radius must be sampled (see
    :func:`~modelflags.review.diff.blast_radius.blast_radius`).
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
            flags.append(FlagDiff(key, status, flag.assignment.unit_name, (), None, before, after))
            continue
        used = segments_used([before], old.segments) | segments_used([after], new.segments)
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
        unit = after.assignment.unit_name
        flags.append(FlagDiff(key, "changed", unit, tuple(changes), radius, before, after))
    return DiffReport(
        old_name, new_name, now, tuple(contexts), tuple(flags), tuple(unchanged), segments
    )
