"""What ``modelflags rollback`` prints: the unified diff of the edit, or why nothing changed."""

from __future__ import annotations

from modelflags.review.rollback.edit import RollbackEdit

__all__ = ["edit_text", "no_change_message"]


def edit_text(edit: RollbackEdit) -> str:
    """The unified diff of the file (standard output)."""
    return edit.diff


def no_change_message(edit: RollbackEdit) -> str:
    """Why a rollback changed nothing (standard error)."""
    return f"flag '{edit.flag_key}' is already off serving '{edit.variation}'; no change"
