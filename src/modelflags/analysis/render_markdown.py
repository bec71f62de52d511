"""The report as a pull-request comment: GitHub-flavoured Markdown tables.

The same content as the terminal table (:func:`~modelflags.analysis.report_view.report_view`),
laid out for a review: the verdict as a heading with its reasons and the command in a code
block, the decision-making tables in the open, and the bookkeeping (population, health,
config versions, input, segments) folded into ``<details>`` so the comment stays short.

Every name from the report is escaped: a variation called ``<script>`` or ``a|b`` shows as
written and cannot break a table or inject markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelflags.analysis.report_cells import Cell, Table, Tone
from modelflags.analysis.report_view import report_view

__all__ = ["render_markdown"]

_BADGES: dict[Tone, str] = {"good": "🟢", "bad": "🔴", "warn": "🟡", "info": "🔵", "": "⚪"}
_FOLDED = frozenset({"population", "health", "versions", "input"})
_SPECIAL = re.compile(
    r"[\\`*|~]"  # code, emphasis, table cells, strike-through: always
    r"|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # emphasis by underscore: not inside a word
    r"|\](?=[(\[:])"  # what would make a link or a link definition
)
_TAG = re.compile(r"<(?=[A-Za-z/!?])|&(?=[A-Za-z#])")  # what would start a tag or entity
_BLOCK = re.compile(r"^(?:[#>+=\[-]|\d+(?=[.)]))")  # what starts a block at a line's start


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as GitHub-flavoured Markdown, ending with one newline."""
    view = report_view(report)
    verdict = view.verdict
    badge = _BADGES.get(verdict.tone, "⚪")
    lines = [f"## {badge} {_md(verdict.action)} · {_md(view.title)}", ""]
    lines += [f"- {_md(reason, line_start=True)}" for reason in verdict.reasons]
    lines += [""] if verdict.reasons else []
    if verdict.command:
        lines += [*_code_block(verdict.command), ""]
    else:
        lines += ["_No command to run._", ""]
    lines += [f"**{_md(label)}:** {_md(value)}  " for label, value in view.facts]
    lines[-1] = lines[-1].rstrip()
    for table in view.tables:
        if table.key not in _FOLDED:
            lines += ["", *_table(table, "###")]
    folded = [table for table in view.tables if table.key in _FOLDED]
    if folded:
        lines += ["", "<details><summary>Population, health, config versions, input</summary>"]
        for table in folded:
            lines += ["", *_table(table, "####")]
        lines += ["", "</details>"]
    for title, tables in view.segments:
        lines += ["", f"<details><summary>{_md(title)}</summary>"]
        for table in tables:
            lines += ["", *_table(table, "####")]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _table(table: Table, heading: str) -> list[str]:
    lines = [f"{heading} {_md(table.title)}", ""]
    notes = [_cell(note) for note in table.notes]
    lines += [*notes, ""] if notes else []
    details = [_cell(line) + "  " for line in table.details]
    if details:
        details[-1] = details[-1].rstrip()
    if not table.rows:
        return [*lines, f"_{_md(table.empty)}_", *(["", *details] if details else [])]
    lines.append("| " + " | ".join(_md(c) for c in table.columns) + " |")
    lines.append(
        "|" + "|".join("---:" if i in table.right else "---" for i in range(len(table.columns)))
        + "|"
    )  # fmt: skip
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in table.rows]
    return [*lines, *(["", *details] if details else [])]


def _cell(cell: Cell) -> str:
    """A cell's text, bold when it is bad news or needs a look."""
    shown = _md(cell.text)
    return f"**{shown}**" if cell.tone in ("bad", "warn") and shown else shown


def _md(value: str, *, line_start: bool = False) -> str:
    """Text that Markdown shows as written, escaping only what would otherwise be markup.

    Numbers like ``[+1.8, +4.4]`` or ``<0.001`` stay readable in the raw comment; ``<b>``,
    ``a|b``, ``**x**`` and ``[x](y)`` are neutralised. ``line_start`` also escapes what
    would open a block (a heading, a quote, a list, a task box) at the start of a line.
    """
    value = _TAG.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", value.replace("\n", " "))
    value = _SPECIAL.sub(lambda m: "\\" + m.group(), value)
    if line_start:
        value = _BLOCK.sub(lambda m: m.group() + "\\" if m.group()[0].isdigit() else
                           "\\" + m.group(), value)  # fmt: skip
    return value


def _code_block(command: str) -> list[str]:
    """A fenced ``sh`` block whose fence is longer than any run of backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", command)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sh", command, fence]
