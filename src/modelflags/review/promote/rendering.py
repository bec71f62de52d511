"""What ``modelflags promote`` prints: the diff, the blast radius as ``modelflags diff``
renders it, and what the promotion removed, in words."""

from __future__ import annotations

from modelflags.review.diff.rendering import report_text
from modelflags.review.editing.file_edit import EditOutcome
from modelflags.review.promote.edit import PromoteEdit

__all__ = ["edit_text", "no_change_message"]


def edit_text(outcome: EditOutcome[PromoteEdit]) -> str:
    """The unified diff, the diff report and the summary (standard output)."""
    edit, report = outcome.edit, outcome.report
    text = edit.diff + "\n" + (report_text(report) if report is not None else "")
    return text + "".join(f"{line}\n" for line in _summary(edit))


def no_change_message(edit: PromoteEdit) -> str:
    """Why a promotion changed nothing (standard error)."""
    return f"flag '{edit.flag_key}' already serves '{edit.variation}' without a split"


def _summary(edit: PromoteEdit) -> list[str]:
    """What the promotion removed, in words."""
    removed = ", ".join(edit.removed_keys) or "nothing else"
    lines = [
        f"Promoted '{edit.variation}': default {edit.old_default} → {edit.variation}; "
        f"removed {removed}."
    ]
    if edit.removed_variations:
        losers = ", ".join(f"'{name}'" for name in edit.removed_variations)
        lines.append(f"Removed {losers}: nothing serves it any more (git revert brings it back).")
    if edit.experiment_key is not None:
        lines.append(f"Events no longer carry experiment key '{edit.experiment_key}'.")
    return lines
