"""The two sides of a diff, loaded and validated: ``OLD NEW``, or ``--git REV [PATHS]``.

Both sides are always loaded, so that an invalid side does not hide the other's problems:
:class:`~modelflags.errors.FlagFileError` carries the located issues of both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelflags.errors import FlagFileError, Issue, SourceError
from modelflags.loader import load
from modelflags.loader.config import load_snapshot
from modelflags.loader.sources import Snapshot, read_source
from modelflags.review.diff.git_revision import revision_snapshot
from modelflags.review.diff.report import DiffReport, diff_configs
from modelflags.schema.models import FlagFile

__all__ = [
    "DEFAULT_PATHS",
    "diff_paths",
    "load_or_empty",
    "load_pair",
    "load_revision_and_work_tree",
    "load_sources",
    "working_tree_snapshot",
]


DEFAULT_PATHS = ("flags/",)
"""What ``diff --git REV`` compares when no path is given."""


def diff_paths(
    paths: Sequence[str],
    *,
    revision: str | None = None,
    now: float,
    contexts: Sequence[Mapping[str, Any]] = (),
    samples: int = 100_000,
) -> DiffReport:
    """``modelflags diff``: ``paths`` are OLD and NEW, or with ``revision`` the paths (default
    ``flags/``) compared at that git revision against the working tree. Each side is named as
    given (``REV:PATHS`` for the revision). Raises as :func:`load_sources` and
    :func:`load_revision_and_work_tree` do."""
    if revision is not None:
        paths = list(paths) or list(DEFAULT_PATHS)
        old, new = load_revision_and_work_tree(revision, paths)
        names = (f"{revision}:{' '.join(paths)}", " ".join(paths))
    else:
        old, new = load_sources(paths[0], paths[1])
        names = (paths[0], paths[1])
    return diff_configs(
        old,
        new,
        now=now,
        old_name=names[0],
        new_name=names[1],
        contexts=contexts,
        samples=samples,
    )


def load_sources(old: str, new: str) -> tuple[FlagFile, FlagFile]:
    """The configs of two flag sources (files, directories or URLs), for ``diff OLD NEW``.

    Raises :class:`FlagFileError` with the issues of both sides when either is invalid, and
    :class:`SourceError` when one cannot be read.
    """
    return load_pair(lambda: load(old).config, lambda: load(new).config)


def load_revision_and_work_tree(revision: str, paths: Sequence[str]) -> tuple[FlagFile, FlagFile]:
    """The configs under ``paths`` at ``revision`` and on disk, for ``diff --git``.

    A path absent on one side contributes no flags there. Raises :class:`FlagFileError` with
    the located issues of both sides when either is invalid, and :class:`SourceError` when a
    path is absent from both or git fails.
    """
    old, absent_old = revision_snapshot(revision, paths)
    new, absent_new = working_tree_snapshot(paths)
    for path in absent_old:
        if path in absent_new:
            raise SourceError(f"{path}: not found at {revision} nor in the working tree")
    return load_pair(lambda: load_or_empty(old), lambda: load_or_empty(new))


def working_tree_snapshot(paths: Sequence[str]) -> tuple[Snapshot, tuple[str, ...]]:
    """The flag files under ``paths`` on disk (relative to the current directory), and the
    paths that do not exist."""
    files: list[tuple[str, bytes]] = []
    absent: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            absent.append(path)
            continue
        files.extend(read_source(path).files)
    return Snapshot(tuple(dict(files).items())), tuple(absent)  # a file named twice: once


def load_or_empty(snapshot: Snapshot) -> FlagFile:
    """Validate a snapshot into a config; no files at all is the empty config.

    Raises :class:`FlagFileError` with located issues when a file is invalid.
    """
    if not snapshot.files:
        return FlagFile(version=1)
    return load_snapshot(snapshot).config


def load_pair(
    old: Callable[[], FlagFile], new: Callable[[], FlagFile]
) -> tuple[FlagFile, FlagFile]:
    """Load both sides of a diff, reporting the issues of both when both are invalid."""
    issues: list[Issue] = []
    configs: list[FlagFile] = []
    for side in (old, new):
        try:
            configs.append(side())
        except FlagFileError as error:
            issues.extend(error.issues)
    if issues:
        raise FlagFileError(issues)
    return configs[0], configs[1]
