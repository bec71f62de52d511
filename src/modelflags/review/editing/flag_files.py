"""Where a flag is defined: the file an edit command rewrites, among the files of its source.

``rollback``, ``ramp`` and ``promote`` edit one file of a flag source (a file or a directory).
The other files of its directory come along, so that the edited file can be validated with
them and a segment defined in another file still resolves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modelflags.errors import FlagFileError, Issue, did_you_mean
from modelflags.loader import load_snapshot, parse_yaml
from modelflags.loader.sources import read_source

__all__ = ["DEFAULT_FLAGS", "Files", "FlagLocation", "locate_flag"]

DEFAULT_FLAGS = "flags/"
"""The source searched when neither a file nor a source is named."""

Files = tuple[tuple[str, bytes], ...]
"""(name, content) of flag files, as a :class:`~modelflags.loader.sources.Snapshot` holds
them."""


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
        if flags is None or not Path(flags).is_dir():
            return FlagLocation(file)
        inside, source = Path(file).resolve(), Path(flags).resolve()
        if not inside.is_relative_to(source):
            return FlagLocation(file)
        name = os.path.join(flags, inside.relative_to(source))
        return FlagLocation(file, _others(read_source(flags).files, name))
    spec = flags if flags is not None else DEFAULT_FLAGS
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
    return FlagLocation(origin, _others(snapshot.files, origin))


def _others(files: Files, name: str) -> Files:
    """The files of a source other than ``name``."""
    return tuple((n, c) for n, c in files if n != name)
