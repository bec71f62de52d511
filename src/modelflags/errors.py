"""One error tree for modelflags: every problem is an :class:`Issue`, errors carry them.

An issue found in a flag file reads the way compilers and linters print theirs::

    flags/support.yaml:14:7: [unknown-variation] rule 'internal_traffic' serves 'candidat'
    (known: control, candidate, fallback); did you mean 'candidate'?

Checks that run before a file position is known (schema checks on parsed data) record the
document ``path`` (mapping keys and list indexes); the loader fills in file, line and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "FlagFileError",
    "Issue",
    "ModelFlagsError",
    "Path",
    "SourceError",
    "did_you_mean",
]

Path = tuple[str | int, ...]
"""Where in a parsed document: mapping keys and list indexes from the root."""

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One finding: a code for machines, a message and a hint for people, and a place."""

    code: str
    message: str
    hint: str = ""
    path: Path = ()
    file: str = ""
    line: int = 0
    col: int = 0
    severity: Severity = "error"

    def at(self, file: str, line: int, col: int) -> Issue:
        """The same issue, placed in a file (1-based line and column)."""
        return replace(self, file=file, line=line, col=col)

    def under(self, prefix: Path) -> Issue:
        """The same issue with its document path moved below ``prefix``."""
        return replace(self, path=prefix + self.path)

    @property
    def location(self) -> str:
        """``file:line:col``, or as much of it as is known."""
        if not self.file:
            return "<flags>"
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"

    def __str__(self) -> str:
        """``file:line:col: [code] message; hint``, with ``warning: `` before a warning's code."""
        label = "warning: " if self.severity == "warning" else ""
        text = f"{self.location}: {label}[{self.code}] {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


class ModelFlagsError(Exception):
    """Base class of every error modelflags raises on purpose."""


class FlagFileError(ModelFlagsError):
    """A flag source could not be loaded; ``issues`` holds every error found, in file order."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class SourceError(ModelFlagsError):
    """A flag source could not be read at all (missing file, unreachable URL, bad URL)."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A "did you mean 'x'?" hint for a misspelt name, or "" when nothing is close."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
