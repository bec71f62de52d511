"""An edit compared before and after exactly as ``modelflags diff`` compares two sources:
changed fields and blast radius, for the commands that show them (``ramp``, ``promote``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelflags.review.diff.report import DiffReport, diff_configs
from modelflags.review.editing.edited_source import load_with

__all__ = ["Comparison", "edit_report"]


@dataclass(frozen=True)
class Comparison:
    """How to compare a source before and after an edit, as ``modelflags diff`` does: the time
    schedules are read at, and the synthetic units used when the blast radius is sampled."""

    now: float
    contexts: Sequence[Mapping[str, Any]] = ()
    samples: int = 100_000

    def report(
        self, file: str, old: str, new: str, others: Sequence[tuple[str, bytes]]
    ) -> DiffReport:
        """:func:`edit_report` of ``file`` going from ``old`` to ``new`` text."""
        return edit_report(
            file, old, new, others, now=self.now, contexts=self.contexts, samples=self.samples
        )


def edit_report(
    file: str,
    old: str,
    new: str,
    others: Sequence[tuple[str, bytes]],
    *,
    now: float,
    contexts: Sequence[Mapping[str, Any]] = (),
    samples: int = 100_000,
) -> DiffReport:
    """``modelflags diff`` of the source before and after an edit of ``file``: changed fields
    and blast radius (raises :class:`FlagFileError` when the old version does not load)."""
    before = load_with(file, old, others).config
    after = load_with(file, new, others).config
    return diff_configs(
        before,
        after,
        now=now,
        old_name=f"{file} (before)",
        new_name=f"{file} (after)",
        contexts=contexts,
        samples=samples,
    )
