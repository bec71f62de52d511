"""The flag files an edit command works on: where a flag is defined, checking and reporting
an edited file among the other files of its source, and writing it atomically.

``rollback``, ``ramp`` and ``promote`` edit one file of a flag source (a file or a directory).
The edited file is validated together with the other files of its directory, so that a
segment defined in another file still resolves, and the old and new versions are compared
exactly as ``modelflags diff`` compares two sources, blast radius included.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelflags.errors import FlagFileError, Issue, ModelFlagsError, did_you_mean
from modelflags.loader import load_snapshot, parse_yaml
from modelflags.loader.config import LoadedConfig
from modelflags.loader.sources import Snapshot, read_source
from modelflags.review.diff_report import DiffReport, diff_configs

__all__ = [
    "FlagLocation",
    "edit_report",
    "load_with",
    "locate_flag",
    "validate_edit",
    "write_atomically",
]

Files = tuple[tuple[str, bytes], ...]
"""(name, content) of flag files, as a :class:`Snapshot` holds them."""


@dataclass(frozen=True)
class FlagLocation:
    """The file that defines a flag, and the other files of its source (for validation)."""

    file: str
    others: Files = ()

    def read(self) -> str:
        """The file's text (UTF-8; a file that is not raises ``UnicodeDecodeError``)."""
        return Path(self.file).read_bytes().decode("utf-8")


def locate_flag(flag: str, file: str | None = None, flags: str | None = None) -> FlagLocation:
    """Where ``flag`` is defined: ``file`` when given, else the file of the source ``flags``
    (a file or a directory, default ``flags/``) that defines it.

    With both, the other files are those of ``flags`` when ``file`` lies inside it. A source
    that does not load is searched file by file, so a broken directory can still be edited.
    Raises :class:`FlagFileError` (``unknown-flag`` with a did-you-mean hint) when no file
    defines the flag.
    """
    if file is not None:
        if flags is None:
            return FlagLocation(file)
        flags_path = Path(flags)
        if flags_path.is_dir() and Path(file).resolve().is_relative_to(flags_path.resolve()):
            snapshot = read_source(flags)
            rel = Path(file).resolve().relative_to(flags_path.resolve())
            name = os.path.join(flags, rel)
            return FlagLocation(file, tuple((n, c) for n, c in snapshot.files if n != name))
        return FlagLocation(file)
    spec = flags if flags is not None else "flags/"
    snapshot = read_source(spec)
    try:
        origin = load_snapshot(snapshot).origins.get(("flags", flag))
    except FlagFileError:  # a broken directory: find the flag file by file
        origin = None
    known: list[str] = []
    for name, content in snapshot.files:
        document, _ = parse_yaml(content, name)
        data = document.data if isinstance(document.data, dict) else {}
        defined = data.get("flags")
        if not isinstance(defined, dict):
            continue
        known.extend(map(str, defined))
        if origin is None and flag in defined:
            origin = name
    if origin is None:
        issue = Issue("unknown-flag", f"no flag '{flag}' in {spec}", did_you_mean(flag, known))
        raise FlagFileError([issue.at(spec, 0, 0)])
    return FlagLocation(origin, tuple((n, c) for n, c in snapshot.files if n != origin))


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


def write_atomically(path: str | os.PathLike[str], content: bytes) -> None:
    """Replace ``path`` by ``content`` in one rename, keeping its permission bits: a reader
    (a polling provider) sees the old file or the new one, never a part. Raises
    :class:`ModelFlagsError` (``PATH: cannot write: ...``) when it cannot."""
    path = Path(path)
    try:
        _replace(path, content)
    except OSError as error:
        raise ModelFlagsError(f"{path}: cannot write: {error.strerror or error}") from error


def _replace(path: Path, content: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _with(file: str, text: str, others: Sequence[tuple[str, bytes]]) -> Snapshot:
    """The source's files with ``file`` holding ``text``."""
    return Snapshot((*((n, c) for n, c in others if n != file), (file, text.encode("utf-8"))))
