"""One flag source checked the way ``modelflags validate`` checks it: errors, then warnings.

:func:`check_source` reads a source, loads it (every located error) and, when it loads, lints
it (:mod:`.lint`), dropping the warnings that ``ignore=`` or a ``# modelflags: ignore[code]``
comment on their line silences. It never raises for bad input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from modelflags.errors import FlagFileError, Issue, SourceError
from modelflags.loader.config import load_snapshot
from modelflags.loader.sources import Snapshot, read_source
from modelflags.review.validate.lint import lint

__all__ = ["SourceReport", "check_snapshot", "check_source", "unsilenced"]

_IGNORE = re.compile(r"#\s*modelflags:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")


@dataclass(frozen=True)
class SourceReport:
    """What validating one source found: its size (when it loaded), errors and warnings."""

    path: str
    flags: int | None
    segments: int | None
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]

    def ok(self, *, strict: bool = False) -> bool:
        """No errors, and with ``strict`` no warnings either."""
        return not self.errors and not (strict and self.warnings)


def check_source(
    path: str | os.PathLike[str], *, now: float, ignore: Collection[str] = ()
) -> SourceReport:
    """Read, load and lint one flag source (file, directory or URL); never raises for bad input.

    A source that cannot be read is reported as one ``unreadable-source`` error.
    """
    name = os.fspath(path)
    try:
        snapshot = read_source(name)
    except SourceError as error:
        message = str(error).removeprefix(f"{name}: ")
        hint = "give a flag file, a directory of them or an http(s):// URL"
        issue = Issue("unreadable-source", message, hint)
        return SourceReport(name, None, None, (issue.at(name, 0, 0),), ())
    return check_snapshot(snapshot, name, now=now, ignore=ignore)


def check_snapshot(
    snapshot: Snapshot, name: str, *, now: float, ignore: Collection[str] = ()
) -> SourceReport:
    """Load and lint a snapshot of the source called ``name`` (see :func:`check_source`)."""
    try:
        loaded = load_snapshot(snapshot, name)
    except FlagFileError as error:
        return SourceReport(name, None, None, error.issues, ())
    found = [issue for issue in lint(loaded, now=now) if issue.code not in ignore]
    lines = {
        file: content.decode("utf-8", "replace").splitlines() for file, content in snapshot.files
    }
    warnings = tuple(unsilenced(found, lines))
    config = loaded.config
    return SourceReport(name, len(config.flags), len(config.segments), (), warnings)


def unsilenced(issues: Iterable[Issue], lines: Mapping[str, Sequence[str]]) -> Iterator[Issue]:
    """The warnings whose line has no ``# modelflags: ignore`` comment naming their code;
    ``lines`` holds the lines of each file the warnings are in."""
    for issue in issues:
        text = lines.get(issue.file, [])
        line = text[issue.line - 1] if 0 < issue.line <= len(text) else ""
        match = _IGNORE.search(line)
        if match is None or (
            match["codes"] is not None and issue.code not in _codes(match["codes"])
        ):
            yield issue


def _codes(listed: str) -> set[str]:
    return {code.strip() for code in listed.split(",")}
