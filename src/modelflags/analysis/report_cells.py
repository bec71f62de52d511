"""What a rendering lays out: tables of formatted cells, each with a tone.

The report's view (:mod:`~modelflags.analysis.report_view`) holds text already formatted for
people, not numbers; these are its values. A cell's tone says what its colour means, so the
terminal, Markdown and HTML layouts each show it their own way (a colour, a sign, a class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Cell", "Table", "Tone"]

Tone = Literal["", "good", "bad", "warn", "info", "muted"]
"""What a cell's colour means: holds/promote, breached/rollback, inconclusive/investigate."""


@dataclass(frozen=True)
class Cell:
    """One formatted value; ``bar`` (0 to 1) asks layouts that can to draw a progress bar."""

    text: str
    tone: Tone = ""
    bar: float | None = None


@dataclass(frozen=True)
class Table:
    """One part of the report: a title, lines that sum it up, rows of cells (right-aligned
    where ``right`` says), and ``details``: lines that follow the rows."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    right: frozenset[int] = frozenset()
    notes: tuple[Cell, ...] = ()
    empty: str = "nothing to show"
    details: tuple[Cell, ...] = ()
