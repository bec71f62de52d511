"""Flag files at a git revision, read from git's objects, for ``diff --git REV [PATHS]``.

Git runs in the current directory (or ``cwd``), as git itself would, and paths are relative
to it. Files are selected and read as the working tree's sources do, so that both sides of a
diff hold the same files: a path that is a file reads that file; a path that is a directory
reads every file below it that :func:`~modelflags.loader.sources.is_flag_file` accepts,
sorted by path, as :class:`~modelflags.loader.sources.DirectorySource` does. Symbolic links
are followed to what they point to at the revision (``git cat-file --follow-symlinks``), as
the file system follows them on disk: a committed ``flags/assistant.yaml ->
../common/assistant.yaml`` reads ``common/assistant.yaml`` as it was at the revision. As on
disk, a link to a directory below a directory path is not descended into, and a link whose
target is absent is skipped. A link that leaves the repository (``/etc/flags.yaml``) raises
:class:`~modelflags.errors.SourceError`: git holds no contents for it at the revision.

Files are named ``REV:path`` in messages, so a located error says which side of the diff it
is on: ``HEAD:flags/support.yaml:14:7: [unknown-variation] ...``.

A path absent at the revision is returned among the absent paths, not raised (the diff then
lists its flags as added); a revision git cannot resolve, or a directory outside a
repository, raise :class:`~modelflags.errors.SourceError` with git's reason.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from modelflags.errors import SourceError
from modelflags.loader.sources import Snapshot, is_flag_file, is_hidden

__all__ = ["revision_snapshot"]

_UNREADABLE = frozenset({"missing", "dangling", "loop", "notdir"})
"""What ``cat-file --follow-symlinks`` reports for a name that leads to no object."""


class _Object(NamedTuple):
    """One answer of ``git cat-file --batch --follow-symlinks``."""

    kind: str
    """``blob``, ``tree``, ``commit``; or ``missing``, ``dangling``, ``loop``, ``notdir``
    (nothing there), or ``symlink`` (a link out of the repository; ``data`` is its target)."""
    oid: str
    data: bytes


def revision_snapshot(
    revision: str, paths: Sequence[str], *, cwd: str | os.PathLike[str] | None = None
) -> tuple[Snapshot, tuple[str, ...]]:
    """The flag files under ``paths`` at ``revision``, and the paths absent there.

    Raises :class:`SourceError` when ``cwd`` is not in a git work tree, when git is not
    installed, when ``revision`` does not name a commit, or when a file is a symbolic link
    out of the repository.
    """
    _git(["rev-parse", "--is-inside-work-tree"], cwd)
    commit = _commit(revision, cwd)
    wanted: list[tuple[str, str]] = []
    absent: list[str] = []
    for path in paths:
        listed = _path_files(commit, path, cwd)
        if listed is None:
            absent.append(path)
        else:
            wanted.extend(listed)
    files: list[tuple[str, bytes]] = []
    for (name, _), read in zip(wanted, _cat([spec for _, spec in wanted], cwd), strict=True):
        if read.kind == "symlink":
            raise SourceError(_outside(revision, name, read.data))
        if read.kind == "blob":  # a link to a directory, or to nothing, is skipped
            files.append((f"{revision}:{name}", read.data))
    return Snapshot(tuple(dict(files).items())), tuple(absent)  # a file named twice: once


def _commit(revision: str, cwd: str | os.PathLike[str] | None) -> str:
    if revision.startswith("-"):
        raise SourceError(f"unknown revision '{revision}'")
    try:
        resolved = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd)
    except SourceError:
        message = f"unknown revision '{revision}' (not a commit in this repository)"
        raise SourceError(message) from None
    return resolved.decode().strip()


def _path_files(
    commit: str, path: str, cwd: str | os.PathLike[str] | None
) -> list[tuple[str, str]] | None:
    """(display path, object name for ``cat-file``) of the flag files at ``commit:path``.

    None when the path is absent at ``commit``. A file is named by its blob id, or by
    ``commit:path`` when it is a symbolic link, for ``cat-file`` to follow it.
    """
    spec = _spec(commit, path, cwd)
    try:
        (found,) = _cat([spec], cwd)
    except SourceError as error:  # e.g. "'../x' is outside repository"
        raise SourceError(f"{path}: {error}") from None
    if found.kind in ("blob", "symlink"):  # read (or refused) with the other files
        return [(path, spec)]
    if found.kind != "tree":
        return None
    listing = _git(["ls-tree", "-r", "-z", found.oid], cwd).decode()
    files = []
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        mode, kind, blob = meta.split()
        folders = PurePosixPath(name).parts[:-1]
        if (
            kind == "blob"
            and is_flag_file(posixpath.basename(name))
            and not any(is_hidden(folder) for folder in folders)
        ):
            display = os.path.join(path, name)
            git_name = _spec(commit, display, cwd) if mode == "120000" else blob
            files.append((PurePosixPath(name), display, git_name))
    return [(display, spec) for _, display, spec in sorted(files)]


def _cat(names: Sequence[str], cwd: str | os.PathLike[str] | None) -> list[_Object]:
    """The objects ``names`` lead to, read by one ``git cat-file --batch --follow-symlinks``."""
    if not names:
        return []
    if any("\n" in name for name in names):
        raise SourceError("git cannot read a path with a line break in it (cat-file --batch)")
    stdin = "".join(f"{name}\n" for name in names).encode()
    out = _git(["cat-file", "--batch", "--follow-symlinks"], cwd, stdin=stdin)
    found = []
    at = 0
    for name in names:
        end = out.index(b"\n", at)
        header = out[at:end].decode(errors="replace")
        if header == f"{name} missing":
            found.append(_Object("missing", "", b""))
            at = end + 1
            continue
        first, second, *rest = header.split()
        if first in _UNREADABLE or first == "symlink":  # "dangling 26", then the name
            kind, oid, size = first, "", second
        else:  # "<oid> blob 120", then the contents
            kind, oid, size = second, first, rest[0]
        data = out[end + 1 : end + 1 + int(size)]
        found.append(_Object(kind, oid, data))
        at = end + 1 + int(size) + 1
    return found


def _spec(commit: str, path: str, cwd: str | os.PathLike[str] | None) -> str:
    """``commit:./path``: git's spelling of ``path`` relative to ``cwd`` (POSIX separators)."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    relative = Path(os.path.relpath(base / path, base)).as_posix()
    if not (relative.startswith("../") or relative == ".."):
        relative = f"./{relative}"
    return f"{commit}:{relative}"


def _outside(revision: str, name: str, target: bytes) -> str:
    return (
        f"{revision}:{name}: a symbolic link out of the repository "
        f"({target.decode(errors='replace')}), whose contents git does not hold"
    )


def _git(args: list[str], cwd: str | os.PathLike[str] | None, stdin: bytes | None = None) -> bytes:
    result = _run(args, cwd, stdin)
    if result.returncode != 0:
        raise SourceError(_reason(result.stderr.decode(errors="replace")) or "git failed")
    return result.stdout


def _run(
    args: list[str], cwd: str | os.PathLike[str] | None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
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
