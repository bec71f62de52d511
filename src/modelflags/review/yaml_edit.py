"""Byte-preserving edits of one flag in a flag file's text, checked by reading them back.

``rollback``, ``ramp`` and ``promote`` change a few values of one flag and must keep every
other byte: comments, key order, quoting, spacing, flow or block style, line endings. So they
never re-dump YAML: :class:`FlagText` finds the flag's nodes by their PyYAML marks (exact
character offsets) and returns :class:`Span` edits (replace a scalar, insert or append a key,
remove entries), which :meth:`FlagText.apply` splices into the text.

Anchors, aliases and merge keys (``<<: *base``) let two places share one piece of text, so a
span edit can change more than the value it aims at. :meth:`FlagText.check` therefore reads
the edited text back: the whole document must equal the old one with exactly the intended
flag. Anything else that changed (another flag or a segment sharing the text, another value
of the same flag) is refused with located ``shared-yaml`` errors, never written.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.tokens import AliasToken, AnchorToken, FlowEntryToken, Token

from modelflags.errors import FlagFileError, Issue, ModelFlagsError, Path, did_you_mean
from modelflags.loader.yaml_document import Document, _Loader, parse_yaml

__all__ = ["FlagText", "Span", "unified_diff"]

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_RESOLVER = _Loader("")
_PROPERTIES = re.compile(r"(?:[&!]\S*\s+)+")  # an anchor and/or a tag before a scalar
_OPEN = ("FlowMappingStartToken", "FlowSequenceStartToken")
_CLOSE = ("FlowMappingEndToken", "FlowSequenceEndToken")


@dataclass(frozen=True)
class Span:
    """Replace ``text[start:end]`` by ``new`` (an insertion when ``start == end``)."""

    start: int
    end: int
    new: str


def unified_diff(old: str, new: str, file: str) -> str:
    """``diff -u`` of two versions of ``file`` (``a/FILE`` → ``b/FILE``), "" when equal."""
    return "".join(
        difflib.unified_diff(_lines(old), _lines(new), fromfile=f"a/{file}", tofile=f"b/{file}")
    )


@dataclass(frozen=True)
class FlagText:
    """One flag of a flag file's text: its parsed data and its YAML nodes, for span edits.

    ``command`` (``rollback``, ``ramp``, ``promote``) names the codes of the errors raised.
    Paths given to the methods are relative to the flag: ``("split", "control")``.
    """

    text: str
    file: str
    key: str
    command: str
    document: Document
    root: MappingNode
    key_node: ScalarNode
    node: MappingNode

    @classmethod
    def parse(cls, text: str, file: str, key: str, command: str) -> FlagText:
        """Parse ``text`` and find flag ``key``; :class:`FlagFileError` when the file does not
        parse or has no such flag (with a did-you-mean hint)."""
        document, issues = parse_yaml(text, file)
        if issues or not isinstance(document.data, dict):
            raise FlagFileError(issues or [Issue("bad-file", "not a flag file").at(file, 1, 1)])
        flags = document.data.get("flags")
        flags = flags if isinstance(flags, dict) else {}
        if key not in flags:
            known = ", ".join(sorted(map(str, flags))) or "none"
            hint = did_you_mean(key, map(str, flags))
            place = document.keys.get(("flags",), (1, 1))
            message = f"no flag '{key}' in this file (flags: {known})"
            raise FlagFileError([Issue("unknown-flag", message, hint).at(file, *place)])
        where = document.keys[("flags", key)]
        root = yaml.compose(text, Loader=_Loader)
        assert isinstance(root, MappingNode)  # parse_yaml read a mapping
        found = _get(root, "flags")
        flag = _get(found[1], key) if found else None
        if flag is None or not isinstance(flag[1], MappingNode) or not isinstance(flags[key], dict):
            issue = Issue("bad-flag", f"flag '{key}' is not a mapping", "").at(file, *where)
            raise FlagFileError([issue])
        if flag[1].start_mark.index < flag[0].end_mark.index:  # `key: *anchor`
            line = flag[1].start_mark.line + 1
            message = (
                f"flag '{key}' is an alias of the mapping at line {line}: an edit of one "
                f"would change both"
            )
            hint = f"write flag '{key}' out in full (or merge it with '<<' and override)"
            raise FlagFileError([Issue("shared-yaml", message, hint).at(file, *where)])
        return cls(text, file, key, command, document, root, flag[0], flag[1])

    @property
    def where(self) -> tuple[int, int]:
        """Line and column of the flag's key."""
        return self.document.keys[("flags", self.key)]

    @property
    def data(self) -> dict[str, Any]:
        """The flag as parsed (merge keys and aliases resolved)."""
        flag: dict[str, Any] = self.document.data["flags"][self.key]
        return flag

    def refusal(self, code: str, message: str, hint: str = "", at: Path = ()) -> FlagFileError:
        """An error placed at the key of ``at`` (a path in the flag; its deepest part written
        in the file), or at the flag's key."""
        path: Path = ("flags", self.key, *at)
        while len(path) > 2 and path not in self.document.keys:
            path = path[:-1]
        return FlagFileError([Issue(code, message, hint).at(self.file, *self.document.keys[path])])

    def require_variation(self, name: str) -> None:
        """Raise ``unknown-variation`` (with did-you-mean) unless the flag defines ``name``."""
        variations = self.data.get("variations")
        names = [str(v) for v in variations] if isinstance(variations, dict) else []
        if name not in names:
            known = ", ".join(names) or "none"
            message = f"flag '{self.key}' has no variation '{name}' (known: {known})"
            raise self.refusal("unknown-variation", message, did_you_mean(name, names))

    def entry(self, path: Path) -> tuple[ScalarNode, Node] | None:
        """The key and value nodes written at ``path`` in this flag, or ``None`` when it is
        absent or comes from a merge key. An alias on the way is refused (``shared-yaml``)."""
        mapping: Node = self.node
        found = None
        for depth, name in enumerate(path):
            found = _get(mapping, str(name)) if isinstance(mapping, MappingNode) else None
            if found is None:
                return None
            if found[1].start_mark.index < found[0].end_mark.index:  # anchors come first
                line, col = found[1].start_mark.line + 1, found[1].start_mark.column + 1
                message = (
                    f"'{_dotted(path[: depth + 1])}' of flag '{self.key}' is an alias of the "
                    f"value at line {line}, column {col}: an edit there changes every use"
                )
                hint = "write the value out in place of the alias, then retry"
                place = (found[0].start_mark.line + 1, found[0].start_mark.column + 1)
                raise FlagFileError([Issue("shared-yaml", message, hint).at(self.file, *place)])
            mapping = found[1]
        return found

    def require_own(self, path: Path) -> tuple[ScalarNode, Node]:
        """:meth:`entry`, refusing a value that comes from a merge key (placed at the ``<<``)."""
        found = self.entry(path)
        if found is not None:
            return found
        message = (
            f"'{_dotted(path)}' of flag '{self.key}' comes from a merge key ('<<'): editing "
            "it would change every mapping that merges the same anchor"
        )
        hint = f"write '{path[-1]}' out in flag '{self.key}' itself, then retry"
        node: Node = self.node
        for name in path:  # the `<<` of the deepest mapping written in the flag
            inner = _get(node, str(name))
            if inner is None:
                break
            node = inner[1]
        merge = next((k for k, _ in node.value if k.tag == _MERGE_TAG), None)
        if merge is None:
            raise self.refusal("shared-yaml", message, hint, path)
        place = (merge.start_mark.line + 1, merge.start_mark.column + 1)
        raise FlagFileError([Issue("shared-yaml", message, hint).at(self.file, *place)])

    def replace(self, path: Path, value: str | int) -> Span | None:
        """Replace the scalar at ``path``, keeping its quoting style (``None``: no change)."""
        current: Any = self.data
        for name in path:
            current = current[name]
        if type(current) is type(value) and current == value:
            return None
        node = self.require_own(path)[1]
        if not isinstance(node, ScalarNode):
            message = f"'{_dotted(path)}' of flag '{self.key}' is not a plain value here"
            hint = f"write '{path[-1]}: {value}' and retry"
            raise self.refusal(f"{self.command}-unsupported", message, hint, path)
        start, end = node.start_mark.index, node.end_mark.index
        properties = _PROPERTIES.match(self.text, start)
        start = properties.end() if properties else start
        return Span(start, end, _scalar(value, node.style))

    def insert(self, key: str, value: str | int) -> Span:
        """Insert ``key: value`` first in the flag (inside the braces, or on its own line)."""
        first = self.node.value[0][0]
        if self.node.flow_style:
            at = first.start_mark.index
            return Span(at, at, f"{_scalar(key)}: {_scalar(value)}, ")
        line_start = self.text.index("\n", self.key_node.end_mark.index) + 1  # the flag's line
        indent = " " * first.start_mark.column
        return Span(line_start, line_start, f"{indent}{_scalar(key)}: {_scalar(value)}{self._nl}")

    def append(self, path: Path, key: str, value: str | int) -> Span:
        """Add ``key: value`` after the last entry of the mapping at ``path``."""
        mapping = self.require_own(path)[1]
        last_key, last = mapping.value[-1] if isinstance(mapping, MappingNode) else (None, None)
        if not isinstance(mapping, MappingNode) or last_key is None or last is None:
            raise self.refusal(f"{self.command}-unsupported", f"'{_dotted(path)}' is empty")
        if not isinstance(last, ScalarNode):
            message = f"'{_dotted(path)}' of flag '{self.key}' does not end in a plain value"
            raise self.refusal(f"{self.command}-unsupported", message, "", path)
        pair = f"{_scalar(key)}: {_scalar(value)}"
        if mapping.flow_style:
            return Span(last.end_mark.index, last.end_mark.index, f", {pair}")
        line_end = self.text.find("\n", last.end_mark.index)
        indent = " " * last_key.start_mark.column
        if line_end < 0:
            return Span(len(self.text), len(self.text), f"{self._nl}{indent}{pair}")
        return Span(line_end + 1, line_end + 1, f"{indent}{pair}{self._nl}")

    def remove(self, path: Path, keys: Sequence[str]) -> list[Span]:
        """Remove the entries ``keys`` of the mapping at ``path`` (``()``: the flag), with
        their lines in block style and their commas in flow style."""
        mapping = self.node if not path else self.require_own(path)[1]
        assert isinstance(mapping, MappingNode)
        indexes = sorted(self._index(mapping, path, key) for key in keys)
        if len(indexes) == len(mapping.value):
            message = f"removing every entry of '{_dotted(path) or self.key}' is not supported"
            raise self.refusal(f"{self.command}-unsupported", message, "", path)
        removal = self._flow_removal if mapping.flow_style else self._block_removal
        spans = []
        for run in _runs(indexes):
            span = removal(mapping, run)
            self._keep_used_anchors(span, (*path, mapping.value[run.start][0].value))
            spans.append(span)
        return spans

    def apply(self, spans: Sequence[Span | None]) -> str:
        """The text with ``spans`` made (they must not overlap; insertions at one place keep
        their order)."""
        ordered = sorted(
            ((span, i) for i, span in enumerate(spans) if span is not None),
            key=lambda item: (item[0].start, item[0].end, item[1]),
        )
        for (before, _), (after, _) in itertools.pairwise(ordered):
            if after.start < before.end:  # a bug, not bad input; said plainly all the same
                raise ModelFlagsError(f"{self.file}: overlapping edits at offset {after.start}")
        text = self.text
        for span, _ in reversed(ordered):
            text = text[: span.start] + span.new + text[span.end :]
        return text

    def check(self, new_text: str, expected: dict[str, Any]) -> None:
        """Refuse ``new_text`` unless it reads back as the old document with this flag equal
        to ``expected`` and nothing else changed."""
        document, issues = parse_yaml(new_text, self.file)
        if issues:
            message = f"the edited file would not parse ({issues[0].message})"
            raise self.refusal(f"{self.command}-invalid", message, "edit the file by hand")
        old = self.document.data
        wanted = {**old, "flags": {**old["flags"], self.key: expected}}
        shared: dict[tuple[tuple[int, int], str], list[str]] = {}
        for path in _differences(wanted, document.data, ()):
            shared.setdefault(self._sharing(path), []).append(f"'{_dotted(path)}'")
        if shared:
            hint = "write the shared part out where it is used (no *alias or '<<'), then retry"
            raise FlagFileError([
                Issue(
                    "shared-yaml",
                    f"{self.command} of flag '{self.key}' would also change {', '.join(paths)} "
                    f"({how}); refused, the file is unchanged",
                    hint,
                ).at(self.file, *place)
                for (place, how), paths in sorted(shared.items())
            ])  # fmt: skip

    # -- helpers ---------------------------------------------------------------------------

    @cached_property
    def _nl(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    @cached_property
    def _tokens(self) -> list[Token]:
        return list(yaml.scan(self.text, Loader=_Loader))

    def _index(self, mapping: MappingNode, path: Path, key: str) -> int:
        self.require_own((*path, key))
        return next(i for i, (k, _) in enumerate(mapping.value) if _is_key(k, key))

    def _block_removal(self, mapping: MappingNode, run: range) -> Span:
        text = self.text
        key = mapping.value[run.start][0]
        start = text.rfind("\n", 0, key.start_mark.index) + 1
        if text[start : key.start_mark.index].strip():
            message = f"'{key.value}' of flag '{self.key}' does not start its own line"
            raise self.refusal(f"{self.command}-unsupported", message, "edit it by hand")
        after = run.stop < len(mapping.value)
        stop = mapping.value[run.stop][0].start_mark.index if after else mapping.end_mark.index
        stop = stop if stop >= len(text) else text.rfind("\n", 0, stop) + 1
        lines = text[start:stop].splitlines(keepends=True)
        column = key.start_mark.column
        while len(lines) > 1 and _outside(lines[-1], column):  # comments of what follows
            lines.pop()
        return Span(start, start + sum(map(len, lines)), "")

    def _flow_removal(self, mapping: MappingNode, run: range) -> Span:
        keys = [k.start_mark.index for k, _ in mapping.value]
        if run.stop < len(keys):  # up to the next kept key: the entries and their commas
            return Span(keys[run.start], keys[run.stop], "")
        commas, end = self._flow_layout(mapping)
        comma = max(c for c in commas if c < keys[run.start])  # after the last kept entry
        return Span(comma, end, "")

    def _flow_layout(self, mapping: MappingNode) -> tuple[list[int], int]:
        """Offsets of a flow mapping's own commas, and where the text of its last entry ends
        (before any trailing comma, space or comment)."""
        start, stop = mapping.start_mark.index, mapping.end_mark.index
        depth, commas, end = 0, [], start + 1
        for token in self._tokens:
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

    def _keep_used_anchors(self, span: Span, path: Path) -> None:
        """Refuse removing text that defines an anchor used elsewhere."""
        inside = {
            t.value for t in self._tokens
            if isinstance(t, AnchorToken) and span.start <= t.start_mark.index < span.end
        }  # fmt: skip
        for token in self._tokens:
            outside = not span.start <= token.start_mark.index < span.end
            if isinstance(token, AliasToken) and token.value in inside and outside:
                line, col = token.start_mark.line + 1, token.start_mark.column + 1
                message = (
                    f"removing '{_dotted(path)}' of flag '{self.key}' would remove the anchor "
                    f"&{token.value}, which line {line}, column {col} uses (*{token.value})"
                )
                hint = "write the value out where the alias is, then retry"
                raise self.refusal("shared-yaml", message, hint, path)

    def _sharing(self, path: Path) -> tuple[tuple[int, int], str]:
        """Where and how the value at ``path``, which the edit changed by accident, shares
        the edited text: (line and column, a phrase)."""
        node: Node = self.root
        place = self.document.keys.get(path[:2], (1, 1))
        how = "shared with the edited text through an anchor"
        for name in path:
            if not isinstance(node, MappingNode):
                break
            merge = next((k for k, _ in node.value if k.tag == _MERGE_TAG), None)
            found = _get(node, str(name))
            if found is None and merge is not None:
                place = (merge.start_mark.line + 1, merge.start_mark.column + 1)
                how = "merged with '<<' from the edited text"
                break
            if found is None:
                break
            place = (found[0].start_mark.line + 1, found[0].start_mark.column + 1)
            if found[1].start_mark.index < found[0].end_mark.index:  # an alias: stop here
                aliased = found[1] is self.node
                how = f"an alias of flag '{self.key}'" if aliased else "an alias of edited text"
                break
            node = found[1]
        return place, how


def _get(mapping: Node, key: str) -> tuple[ScalarNode, Node] | None:
    """The entry ``key`` written in ``mapping`` itself (not through a merge key)."""
    if not isinstance(mapping, MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if _is_key(key_node, key):
            return key_node, value_node
    return None


def _is_key(node: Node, key: str) -> bool:
    return isinstance(node, ScalarNode) and node.tag != _MERGE_TAG and node.value == key


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


def _differences(old: Any, new: Any, path: Path) -> Iterator[Path]:
    """Paths where two parsed documents differ (types compared too: 1, 1.0 and True differ)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if key not in old or key not in new:
                yield (*path, key)
            else:
                yield from _differences(old[key], new[key], (*path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _differences(a, b, (*path, i))
    elif type(old) is not type(new) or old != new:
        yield path


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def _scalar(value: str | int, style: str | None = None) -> str:
    """``value`` as YAML text: in single quotes if it was, else plain when it reads back as
    the same value, else double-quoted."""
    if isinstance(value, int):
        return str(value)
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    tag = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if style == '"' or tag != _STR_TAG:
        return json.dumps(value)
    return value


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
