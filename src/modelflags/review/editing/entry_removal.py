"""Removing entries of a mapping from a flag file's text, keeping every other byte.

In block style an entry goes with its lines: the key's line, its value's lines, and the
comment lines indented inside it (a comment no deeper than the key belongs to what follows).
In flow style the pairs go with their commas. Text that defines an anchor used elsewhere is
never removed (``shared-yaml``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from yaml.nodes import MappingNode
from yaml.tokens import AliasToken, AnchorToken, FlowEntryToken

from modelflags.errors import Path
from modelflags.review.editing.text_edit import Span
from modelflags.review.editing.yaml_nodes import dotted, place

if TYPE_CHECKING:
    from modelflags.review.editing.flag_text import FlagText

__all__ = ["removal_spans"]

_OPEN = ("FlowMappingStartToken", "FlowSequenceStartToken")
_CLOSE = ("FlowMappingEndToken", "FlowSequenceEndToken")


def removal_spans(
    flag: FlagText, mapping: MappingNode, path: Path, indexes: Sequence[int]
) -> list[Span]:
    """Spans that remove the entries at ``indexes`` (sorted) of ``mapping``, the mapping at
    ``path`` in ``flag``; consecutive entries go in one span."""
    spans = []
    for run in _runs(indexes):
        if mapping.flow_style:
            span = _flow_removal(flag, mapping, run)
        else:
            span = _block_removal(flag, mapping, run)
        _keep_used_anchors(flag, span, (*path, mapping.value[run.start][0].value))
        spans.append(span)
    return spans


def _block_removal(flag: FlagText, mapping: MappingNode, run: range) -> Span:
    text = flag.text
    key = mapping.value[run.start][0]
    start = text.rfind("\n", 0, key.start_mark.index) + 1
    if text[start : key.start_mark.index].strip():
        message = f"'{key.value}' of flag '{flag.key}' does not start its own line"
        raise flag.refusal(f"{flag.command}-unsupported", message, "edit it by hand")
    after = run.stop < len(mapping.value)
    stop = mapping.value[run.stop][0].start_mark.index if after else mapping.end_mark.index
    stop = stop if stop >= len(text) else text.rfind("\n", 0, stop) + 1
    lines = text[start:stop].splitlines(keepends=True)
    column = key.start_mark.column
    while len(lines) > 1 and _outside(lines[-1], column):  # comments of what follows
        lines.pop()
    return Span(start, start + sum(map(len, lines)), "")


def _flow_removal(flag: FlagText, mapping: MappingNode, run: range) -> Span:
    keys = [k.start_mark.index for k, _ in mapping.value]
    if run.stop < len(keys):  # up to the next kept key: the entries and their commas
        return Span(keys[run.start], keys[run.stop], "")
    commas, end = _flow_layout(flag, mapping)
    comma = max(c for c in commas if c < keys[run.start])  # after the last kept entry
    return Span(comma, end, "")


def _flow_layout(flag: FlagText, mapping: MappingNode) -> tuple[list[int], int]:
    """Offsets of a flow mapping's own commas, and where the text of its last entry ends
    (before any trailing comma, space or comment)."""
    start, stop = mapping.start_mark.index, mapping.end_mark.index
    depth, commas, end = 0, [], start + 1
    for token in flag.tokens:
        at, name = token.start_mark.index, type(token).__name__
        if at < start or at >= stop:
            continue
        depth += (name in _OPEN) - (name in _CLOSE)
        if depth == 0 or (depth == 1 and name in _OPEN):  # the mapping's own braces
            continue
        if depth == 1 and isinstance(token, FlowEntryToken):
            commas.append(at)
        else:
            end = max(end, token.end_mark.index)
    return commas, end


def _keep_used_anchors(flag: FlagText, span: Span, path: Path) -> None:
    """Refuse removing text that defines an anchor used elsewhere."""
    inside = {
        t.value for t in flag.tokens
        if isinstance(t, AnchorToken) and span.start <= t.start_mark.index < span.end
    }  # fmt: skip
    for token in flag.tokens:
        outside = not span.start <= token.start_mark.index < span.end
        if isinstance(token, AliasToken) and token.value in inside and outside:
            line, col = place(token)
            message = (
                f"removing '{dotted(path)}' of flag '{flag.key}' would remove the anchor "
                f"&{token.value}, which line {line}, column {col} uses (*{token.value})"
            )
            hint = "write the value out where the alias is, then retry"
            raise flag.refusal("shared-yaml", message, hint, path)


def _runs(indexes: Sequence[int]) -> Iterator[range]:
    """Consecutive indexes grouped: [1, 2, 4] → range(1, 3), range(4, 5)."""
    start = previous = indexes[0]
    for index in indexes[1:]:
        if index != previous + 1:
            yield range(start, previous + 1)
            start = index
        previous = index
    yield range(start, previous + 1)


def _outside(line: str, column: int) -> bool:
    """A blank line, or a comment no deeper than ``column``: it belongs to what follows."""
    stripped = line.strip()
    indent = len(line) - len(line.lstrip())
    return not stripped or (stripped.startswith("#") and indent <= column)
