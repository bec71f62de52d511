"""Flag sources at a git revision, and in the working tree, for ``diff --git REV [PATHS]``.

Git runs in the current directory (or ``cwd``), as git itself would, and paths are relative
to it. A path that is a directory reads every ``*.yaml``/``*.yml`` file below it, sorted as
:class:`~modelflags.loader.DirectorySource` sorts them; a path that is a file reads that file.
Files from a revision are named ``REV:path`` in messages, so a located error says which side
of the diff it is on: ``HEAD:flags/support.yaml:14:7: [unknown-variation] ...``.

A path absent on one side is not an error (the diff then lists its flags as added or
removed); a path absent on both sides, a revision git cannot resolve, or a directory outside
a repository raise :class:`~modelflags.errors.SourceError` with git's reason.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from modelflags.errors import FlagFileError, Issue, SourceError
from modelflags.loader.config import load_snapshot
from modelflags.loader.sources import Snapshot, open_source
from modelflags.schema.models import FlagFile

__all__ = [
    "load_or_empty",
    "load_pair",
    "load_revision_and_work_tree",
    "revision_snapshot",
    "working_tree_snapshot",
]

_SUFFIXES = (".yaml", ".yml")
_ABSENT = ("does not exist in", "exists on disk, but not in")


def revision_snapshot(
    revision: str, paths: Sequence[str], *, cwd: str | os.PathLike[str] | None = None
) -> tuple[Snapshot, tuple[str, ...]]:
    """The flag files under ``paths`` at ``revision``, and the paths absent there.

    Raises :class:`SourceError` when ``cwd`` is not in a git work tree, when git is not
    installed, or when ``revision`` does not name a commit.
    """
    _git(["rev-parse", "--is-inside-work-tree"], cwd)
    if revision.startswith("-"):
        raise SourceError(f"unknown revision '{revision}'")
    try:
        resolved = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd)
    except SourceError:
        message = f"unknown revision '{revision}' (not a commit in this repository)"
        raise SourceError(message) from None
    commit = resolved.decode().strip()
    files: list[tuple[str, bytes]] = []
    absent: list[str] = []
    for path in paths:
        found = _path_blobs(commit, path, cwd)
        if found is None:
            absent.append(path)
            continue
        contents = _read_blobs([sha for _, sha in found], cwd)
        files.extend(
            (f"{revision}:{name}", data) for (name, _), data in zip(found, contents, strict=True)
        )
    return Snapshot(_unique(files)), tuple(absent)


def working_tree_snapshot(paths: Sequence[str]) -> tuple[Snapshot, tuple[str, ...]]:
    """The flag files under ``paths`` on disk (relative to the current directory)."""
    files: list[tuple[str, bytes]] = []
    absent: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            absent.append(path)
            continue
        snapshot = open_source(path).fetch()
        assert snapshot is not None  # a first fetch always returns the contents
        files.extend(snapshot.files)
    return Snapshot(_unique(files)), tuple(absent)


def load_or_empty(snapshot: Snapshot) -> FlagFile:
    """Validate a snapshot into a config; no files at all is the empty config.

    Raises :class:`~modelflags.errors.FlagFileError` with located issues when a file is
    invalid.
    """
    if not snapshot.files:
        return FlagFile(version=1)
    return load_snapshot(snapshot).config


def _path_blobs(
    commit: str, path: str, cwd: str | os.PathLike[str] | None
) -> list[tuple[str, str]] | None:
    """(display path, blob id) of the flag files at ``commit:path``; None when absent."""
    spec = f"{commit}:{_relative(path, cwd)}"
    result = _run(["cat-file", "-t", spec], cwd)
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace")
        if any(marker in reason for marker in _ABSENT):
            return None
        raise SourceError(f"{path}: {_reason(reason)}")
    kind = result.stdout.decode().strip()
    sha = _git(["rev-parse", spec], cwd).decode().strip()
    if kind == "blob":
        return [(path, sha)]
    if kind != "tree":
        return None
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", sha], cwd).decode()
    blobs = []
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        mode, kind, blob = meta.split()
        if kind == "blob" and mode != "120000" and name.endswith(_SUFFIXES):
            blobs.append((PurePosixPath(name), blob))
    return [(os.path.join(path, str(name)), blob) for name, blob in sorted(blobs)]


def _read_blobs(shas: Sequence[str], cwd: str | os.PathLike[str] | None) -> list[bytes]:
    """The contents of blobs, read by one ``git cat-file --batch``."""
    if not shas:
        return []
    out = _git(["cat-file", "--batch"], cwd, stdin="".join(f"{sha}\n" for sha in shas).encode())
    contents = []
    at = 0
    for _ in shas:
        end = out.index(b"\n", at)
        size = int(out[at:end].split()[2])
        contents.append(out[end + 1 : end + 1 + size])
        at = end + 1 + size + 1
    return contents


def _relative(path: str, cwd: str | os.PathLike[str] | None) -> str:
    """``path`` as git's cwd-relative ``./x`` or ``../x`` spelling (POSIX separators)."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    relative = Path(os.path.relpath(base / path, base)).as_posix()
    return relative if relative.startswith("../") or relative == ".." else f"./{relative}"


def _unique(files: list[tuple[str, bytes]]) -> tuple[tuple[str, bytes], ...]:
    """Drop a file named twice (``flags/`` and ``flags/a.yaml`` both given)."""
    return tuple(dict(files).items())


def _git(args: list[str], cwd: str | os.PathLike[str] | None, stdin: bytes | None = None) -> bytes:
    result = _run(args, cwd, stdin)
    if result.returncode != 0:
        raise SourceError(_reason(result.stderr.decode(errors="replace")) or "git failed")
    return result.stdout


def _run(
    args: list[str], cwd: str | os.PathLike[str] | None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        # Untranslated messages: "does not exist in" is matched to tell absent from broken.
        env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "", "GIT_TERMINAL_PROMPT": "0"}
        return subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=False
        )
    except FileNotFoundError:
        raise SourceError("git is not installed (diff --git runs it)") from None


def _reason(stderr: str) -> str:
    """Git's message without its ``fatal: `` prefix, first line only."""
    line = stderr.strip().splitlines()[0] if stderr.strip() else ""
    return line.removeprefix("fatal: ").strip()


def load_revision_and_work_tree(revision: str, paths: Sequence[str]) -> tuple[FlagFile, FlagFile]:
    """The configs under ``paths`` at ``revision`` and on disk, for ``diff --git``.

    Raises :class:`FlagFileError` with the located issues of both sides when either is
    invalid, and :class:`SourceError` when a path is absent from both.
    """
    old, absent_old = revision_snapshot(revision, paths)
    new, absent_new = working_tree_snapshot(paths)
    for path in absent_old:
        if path in absent_new:
            raise SourceError(f"{path}: not found at {revision} nor in the working tree")
    return load_pair(lambda: load_or_empty(old), lambda: load_or_empty(new))


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
