"""Edits of a text as spans, and the unified diff that shows an edit to people.

A :class:`Span` replaces one range of the original text; :func:`splice` makes several at once
(offsets always refer to the original), so edits found independently never shift each other.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from modelflags.errors import ModelFlagsError

__all__ = ["Span", "splice", "unified_diff"]


@dataclass(frozen=True)
class Span:
    """Replace ``text[start:end]`` by ``new`` (an insertion when ``start == end``)."""

    start: int
    end: int
    new: str


def splice(text: str, spans: Sequence[Span | None], file: str) -> str:
    """``text`` with ``spans`` made; ``None`` entries (no change) are skipped.

    Spans must not overlap; insertions at one place keep their order. Overlapping spans are a
    bug, not bad input, and are said plainly all the same (:class:`ModelFlagsError` naming
    ``file``).
    """
    ordered = sorted(
        ((span, i) for i, span in enumerate(spans) if span is not None),
        key=lambda item: (item[0].start, item[0].end, item[1]),
    )
    for (before, _), (after, _) in itertools.pairwise(ordered):
        if after.start < before.end:
            raise ModelFlagsError(f"{file}: overlapping edits at offset {after.start}")
    for span, _ in reversed(ordered):
        text = text[: span.start] + span.new + text[span.end :]
    return text


def unified_diff(old: str, new: str, file: str) -> str:
    """``diff -u`` of two versions of ``file`` (``a/FILE`` → ``b/FILE``), "" when equal."""
    return "".join(
        difflib.unified_diff(_lines(old), _lines(new), fromfile=f"a/{file}", tofile=f"b/{file}")
    )


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
