"""Byte-preserving edits of one flag in a flag file's text, checked by reading them back.

``rollback``, ``ramp`` and ``promote`` change a few values of one flag and must keep every
other byte: comments, key order, quoting, spacing, flow or block style, line endings. So they
never re-dump YAML: :class:`FlagText` finds the flag's nodes by their PyYAML marks (exact
character offsets) and returns :class:`~.text_edit.Span` edits (replace a scalar, insert or
append a key, remove entries), which :meth:`FlagText.apply` splices into the text.

Anchors, aliases and merge keys (``<<: *base``) let two places share one piece of text, so a
span edit can change more than the value it aims at. :meth:`FlagText.check` therefore reads
the edited text back (:mod:`.read_back`): the whole document must equal the old one with
exactly the intended flag. Anything else that changed (another flag or a segment sharing the
text, another value of the same flag) is refused with located ``shared-yaml`` errors, never
written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.tokens import Token

from modelflags.errors import FlagFileError, Issue, Path, did_you_mean
from modelflags.loader.yaml_document import BoundedLoader, Document, parse_yaml
from modelflags.review.editing import entry_removal, read_back
from modelflags.review.editing.text_edit import Span, splice
from modelflags.review.editing.yaml_nodes import (
    dotted,
    entry,
    is_key,
    merge_key,
    place,
    scalar_text,
)

__all__ = ["FlagText"]

_PROPERTIES = re.compile(r"(?:[&!]\S*\s+)+")  # an anchor and/or a tag before a scalar


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
            at = document.keys.get(("flags",), (1, 1))
            message = f"no flag '{key}' in this file (flags: {known})"
            raise FlagFileError([Issue("unknown-flag", message, hint).at(file, *at)])
        where = document.keys[("flags", key)]
        root = yaml.compose(text, Loader=BoundedLoader)
        assert isinstance(root, MappingNode)  # parse_yaml read a mapping
        found = entry(root, "flags")
        flag = entry(found[1], key) if found else None
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

    @cached_property
    def newline(self) -> str:
        """The file's line ending, for inserted lines."""
        return "\r\n" if "\r\n" in self.text else "\n"

    @cached_property
    def tokens(self) -> list[Token]:
        """The file's YAML tokens (anchors, aliases, flow punctuation), scanned once."""
        return list(yaml.scan(self.text, Loader=BoundedLoader))

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
            found = entry(mapping, str(name)) if isinstance(mapping, MappingNode) else None
            if found is None:
                return None
            if found[1].start_mark.index < found[0].end_mark.index:  # anchors come first
                line, col = place(found[1])
                message = (
                    f"'{dotted(path[: depth + 1])}' of flag '{self.key}' is an alias of the "
                    f"value at line {line}, column {col}: an edit there changes every use"
                )
                hint = "write the value out in place of the alias, then retry"
                issue = Issue("shared-yaml", message, hint)
                raise FlagFileError([issue.at(self.file, *place(found[0]))])
            mapping = found[1]
        return found

    def require_own(self, path: Path) -> tuple[ScalarNode, Node]:
        """:meth:`entry`, refusing a value that comes from a merge key (placed at the ``<<``)."""
        found = self.entry(path)
        if found is not None:
            return found
        message = (
            f"'{dotted(path)}' of flag '{self.key}' comes from a merge key ('<<'): editing "
            "it would change every mapping that merges the same anchor"
        )
        hint = f"write '{path[-1]}' out in flag '{self.key}' itself, then retry"
        node: Node = self.node
        for name in path:  # the `<<` of the deepest mapping written in the flag
            inner = entry(node, str(name))
            if inner is None:
                break
            node = inner[1]
        merge = merge_key(node)
        if merge is None:
            raise self.refusal("shared-yaml", message, hint, path)
        raise FlagFileError([Issue("shared-yaml", message, hint).at(self.file, *place(merge))])

    def replace(self, path: Path, value: str | int) -> Span | None:
        """Replace the scalar at ``path``, keeping its quoting style (``None``: no change)."""
        current: Any = self.data
        for name in path:
            current = current[name]
        if type(current) is type(value) and current == value:
            return None
        node = self.require_own(path)[1]
        if not isinstance(node, ScalarNode):
            message = f"'{dotted(path)}' of flag '{self.key}' is not a plain value here"
            hint = f"write '{path[-1]}: {value}' and retry"
            raise self.refusal(f"{self.command}-unsupported", message, hint, path)
        start, end = node.start_mark.index, node.end_mark.index
        properties = _PROPERTIES.match(self.text, start)
        start = properties.end() if properties else start
        return Span(start, end, scalar_text(value, node.style))

    def insert(self, key: str, value: str | int) -> Span:
        """Insert ``key: value`` first in the flag (inside the braces, or on its own line)."""
        first = self.node.value[0][0]
        pair = f"{scalar_text(key)}: {scalar_text(value)}"
        if self.node.flow_style:
            at = first.start_mark.index
            return Span(at, at, f"{pair}, ")
        line_start = self.text.index("\n", self.key_node.end_mark.index) + 1  # the flag's line
        indent = " " * first.start_mark.column
        return Span(line_start, line_start, f"{indent}{pair}{self.newline}")

    def append(self, path: Path, key: str, value: str | int) -> Span:
        """Add ``key: value`` after the last entry of the mapping at ``path``."""
        mapping = self.require_own(path)[1]
        last_key, last = mapping.value[-1] if isinstance(mapping, MappingNode) else (None, None)
        if not isinstance(mapping, MappingNode) or last_key is None or last is None:
            raise self.refusal(f"{self.command}-unsupported", f"'{dotted(path)}' is empty")
        if not isinstance(last, ScalarNode):
            message = f"'{dotted(path)}' of flag '{self.key}' does not end in a plain value"
            raise self.refusal(f"{self.command}-unsupported", message, "", path)
        pair = f"{scalar_text(key)}: {scalar_text(value)}"
        if mapping.flow_style:
            return Span(last.end_mark.index, last.end_mark.index, f", {pair}")
        line_end = self.text.find("\n", last.end_mark.index)
        indent = " " * last_key.start_mark.column
        if line_end < 0:
            return Span(len(self.text), len(self.text), f"{self.newline}{indent}{pair}")
        return Span(line_end + 1, line_end + 1, f"{indent}{pair}{self.newline}")

    def remove(self, path: Path, keys: Sequence[str]) -> list[Span]:
        """Remove the entries ``keys`` of the mapping at ``path`` (``()``: the flag), with
        their lines in block style and their commas in flow style (:mod:`.entry_removal`)."""
        mapping = self.node if not path else self.require_own(path)[1]
        assert isinstance(mapping, MappingNode)
        indexes = sorted(self._index(mapping, path, key) for key in keys)
        if len(indexes) == len(mapping.value):
            message = f"removing every entry of '{dotted(path) or self.key}' is not supported"
            raise self.refusal(f"{self.command}-unsupported", message, "", path)
        return entry_removal.removal_spans(self, mapping, path, indexes)

    def apply(self, spans: Sequence[Span | None]) -> str:
        """The text with ``spans`` made (they must not overlap; insertions at one place keep
        their order)."""
        return splice(self.text, spans, self.file)

    def check(self, new_text: str, expected: dict[str, Any]) -> None:
        """Refuse ``new_text`` unless it reads back as the old document with this flag equal
        to ``expected`` and nothing else changed (:mod:`.read_back`)."""
        read_back.check(self, new_text, expected)

    def _index(self, mapping: MappingNode, path: Path, key: str) -> int:
        self.require_own((*path, key))
        return next(i for i, (k, _) in enumerate(mapping.value) if is_key(k, key))
