"""One edit of a flag file carried out, in the order every edit command follows.

Locate the file (:mod:`.flag_files`), compute the edit from its text, compare the source
before and after (:mod:`.comparison`) when the command shows a blast radius, and only then
write the file atomically, unless it is a dry run. An edit that changes nothing writes
nothing; one that fails anywhere before the write leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from modelflags.review.editing.atomic_write import write_atomically
from modelflags.review.editing.flag_files import FlagLocation

if TYPE_CHECKING:  # only the commands that compare import the diff machinery
    from modelflags.review.diff.report import DiffReport
    from modelflags.review.editing.comparison import Comparison

__all__ = ["EditOutcome", "FileEdit", "carry_out"]


class FileEdit(Protocol):
    """What an edit command computes: the new text of the file, and whether it differs."""

    @property
    def text(self) -> str: ...

    @property
    def changed(self) -> bool: ...


EditT = TypeVar("EditT", bound=FileEdit)


@dataclass(frozen=True)
class EditOutcome(Generic[EditT]):
    """An edit carried out: the edit, the comparison of before and after, and whether the
    file was written."""

    edit: EditT
    report: DiffReport | None
    """``modelflags diff`` of the source before and after (``None`` when not asked for, or
    when the edit changes nothing)."""
    written: bool


def carry_out(
    location: FlagLocation,
    make: Callable[[str], EditT],
    *,
    dry_run: bool,
    compare: Comparison | None = None,
) -> EditOutcome[EditT]:
    """Edit the file at ``location`` with ``make`` (its text → the edit), compare when
    ``compare`` is given, then write it unless ``dry_run`` or unchanged.

    Raises what ``make`` raises (:class:`~modelflags.errors.FlagFileError`, located), and
    :class:`~modelflags.errors.ModelFlagsError` when the file cannot be written.
    """
    old = location.read()
    edit = make(old)
    if not edit.changed:
        return EditOutcome(edit, None, written=False)
    report = None
    if compare is not None:
        report = compare.report(location.file, old, edit.text, location.others)
    if not dry_run:
        write_atomically(location.file, edit.text.encode("utf-8"))
    return EditOutcome(edit, report, written=not dry_run)
