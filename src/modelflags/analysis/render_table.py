"""The report laid out as aligned terminal text, in colour when asked.

The content (:func:`~modelflags.analysis.report_view.report_view`) is the one the Markdown
and HTML renderings show; this module only lays it out: the verdict with its reasons and
command, the facts as a two-column list, then each table with aligned columns (numbers
right-aligned), its notes wrapped at 100 columns and progress shown as a bar.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from modelflags.analysis.report_cells import Cell, Table, Tone
from modelflags.analysis.report_view import ReportView, report_view

__all__ = ["render_table"]

_ANSI: dict[Tone, str] = {
    "good": "\x1b[32m",
    "bad": "\x1b[31m",
    "warn": "\x1b[33m",
    "info": "\x1b[36m",
    "muted": "\x1b[2m",
    "": "",
}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_WIDTH = 100
_BAR = 10


def render_table(report: Mapping[str, Any], *, color: bool = False) -> str:
    """The report as aligned plain text; ANSI colour only when ``color`` is true."""
    view = report_view(report)
    paint = _Painter(color)
    lines = [*_verdict_lines(view, paint), "", *_fact_lines(view, paint)]
    for table in view.tables:
        lines += ["", *_table_lines(table, paint)]
    for title, tables in view.segments:
        lines += ["", paint.bold(f"━━ {title} ━━")]
        for table in tables:
            lines += ["", *_table_lines(table, paint)]
    return "\n".join(lines).rstrip() + "\n"


class _Painter:
    """Wraps text in ANSI codes, or leaves it alone when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def tone(self, value: str, tone: Tone) -> str:
        code = _ANSI[tone]
        return f"{code}{value}{_RESET}" if self.color and code and value.strip() else value

    def bold(self, value: str, tone: Tone = "") -> str:
        return f"{_BOLD}{_ANSI[tone]}{value}{_RESET}" if self.color and value else value


def _verdict_lines(view: ReportView, paint: _Painter) -> list[str]:
    verdict = view.verdict
    lines = [f"{paint.bold(verdict.action, verdict.tone)}  {view.title}"]
    for reason in verdict.reasons:
        lines += textwrap.wrap(reason, _WIDTH, initial_indent="  • ", subsequent_indent="    ")
    if verdict.command:
        lines.append(f"  run: {paint.bold(verdict.command)}")
    else:
        lines.append(paint.tone("  no command to run", "muted"))
    return lines


def _fact_lines(view: ReportView, paint: _Painter) -> list[str]:
    width = max(len(label) for label, _ in view.facts) + 2
    lines: list[str] = []
    for label, value in view.facts:
        wrapped = textwrap.wrap(value, _WIDTH - width) or [value]
        lines.append(paint.bold(label.ljust(width)) + wrapped[0])
        lines += [" " * width + more for more in wrapped[1:]]
    return lines


def _table_lines(table: Table, paint: _Painter) -> list[str]:
    lines = [paint.bold(table.title), *_note_lines(table.notes, paint)]
    if not table.rows:
        return [*lines, paint.tone(f"  {table.empty}", "muted"), *_note_lines(table.details, paint)]
    texts = [[_cell_text(cell) for cell in row] for row in table.rows]
    widths = [
        max([len(column), *(len(row[i]) for row in texts)])
        for i, column in enumerate(table.columns)
    ]
    header = "  ".join(_pad(c, widths[i], i in table.right) for i, c in enumerate(table.columns))
    lines += ["  " + paint.bold(header.rstrip()), "  " + "  ".join("─" * w for w in widths)]
    for row, row_texts in zip(table.rows, texts, strict=True):
        padded = [_pad(t, widths[i], i in table.right) for i, t in enumerate(row_texts)]
        padded[-1] = padded[-1].rstrip()
        cells = [paint.tone(t, cell.tone) for t, cell in zip(padded, row, strict=True)]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return [*lines, *_note_lines(table.details, paint)]


def _note_lines(notes: tuple[Cell, ...], paint: _Painter) -> list[str]:
    return [
        paint.tone(line, note.tone)
        for note in notes
        for line in textwrap.wrap(note.text, _WIDTH, initial_indent="  ", subsequent_indent="    ")
    ]


def _cell_text(cell: Cell) -> str:
    if cell.bar is None:
        return cell.text
    filled = round(min(max(cell.bar, 0.0), 1.0) * _BAR)
    return f"{'█' * filled}{'░' * (_BAR - filled)} {cell.text:>4}"


def _pad(value: str, width: int, right: bool) -> str:
    return value.rjust(width) if right else value.ljust(width)
