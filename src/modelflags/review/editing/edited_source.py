"""An edited flag file among the other files of its source, validated together with them, so
that a segment defined in another file still resolves."""

from __future__ import annotations

from collections.abc import Sequence

from modelflags.errors import FlagFileError, Issue
from modelflags.loader import load_snapshot
from modelflags.loader.config import LoadedConfig
from modelflags.loader.sources import Snapshot

__all__ = ["load_with", "validate_edit"]


def validate_edit(
    file: str,
    text: str,
    others: Sequence[tuple[str, bytes]],
    *,
    command: str,
    where: tuple[int, int] = (0, 0),
) -> LoadedConfig:
    """Load ``text`` as ``file`` together with ``others``. When it does not validate, raise a
    :class:`FlagFileError` whose first issue (``COMMAND-invalid``, placed at ``where``) says so,
    followed by every located issue found."""
    try:
        return load_with(file, text, others)
    except FlagFileError as error:
        message = f"after {command}, the file would not validate: {error.issues[0]}"
        issue = Issue(f"{command}-invalid", message, f"fix the file first, then {command}")
        raise FlagFileError([issue.at(file, *where), *error.issues]) from error


def load_with(file: str, text: str, others: Sequence[tuple[str, bytes]]) -> LoadedConfig:
    """The source of ``others`` with ``file`` holding ``text``, loaded and validated (raises
    :class:`FlagFileError` with every located issue)."""
    return load_snapshot(_with(file, text, others))


def _with(file: str, text: str, others: Sequence[tuple[str, bytes]]) -> Snapshot:
    """The source's files with ``file`` holding ``text``."""
    return Snapshot((*((n, c) for n, c in others if n != file), (file, text.encode("utf-8"))))
