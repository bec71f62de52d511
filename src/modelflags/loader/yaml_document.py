"""Safe, bounded YAML parsing that remembers where every value came from.

PyYAML's ``SafeLoader`` composes the node graph; this module builds plain Python data from it
itself, so that it can (1) record the line and column of every key and value, (2) reject
duplicate keys, which PyYAML silently overwrites, and (3) bound alias expansion, which PyYAML
does not (a "billion laughs" document expands exponentially).

Scalars follow YAML 1.2's core schema for booleans: only ``true``/``false`` are booleans, so
``state: on`` is the string ``"on"`` and a variation named ``yes`` stays a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modelflags.errors import Issue, Path

__all__ = ["MAX_FILE_BYTES", "MAX_NODES", "Document", "parse_yaml"]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest flag file accepted (4 MiB): flag files are reviewed by people."""

MAX_NODES = 200_000
"""Most values one file may expand to, aliases included."""

MAX_DEPTH = 64
"""Deepest nesting accepted."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_AT_KEY = frozenset({"unknown-key", "duplicate-key", "reserved-name", "unknown-operator"})


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (on/off/yes/no stay strings)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass
class Document:
    """Parsed data plus the 1-based (line, col) of every value and every mapping key."""

    file: str
    data: Any = None
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, issue: Issue) -> Issue:
        """Place ``issue`` at the deepest known part of its path in this file.

        An unknown key is placed at the key itself, a missing key at the key of the mapping
        that lacks it, anything else at the value.
        """
        path = issue.path
        marks = self.keys if issue.code in _AT_KEY else self.values
        if issue.code == "missing-key":
            path, marks = path[:-1], self.keys
        while path:
            if path in marks:
                return issue.at(self.file, *marks[path])
            path, marks = path[:-1], self.values
        return issue.at(self.file, *self.values.get((), (1, 1)))


class _Builder:
    def __init__(self, document: Document, constructor: yaml.constructor.SafeConstructor) -> None:
        self.document = document
        self.constructor = constructor
        self.budget = MAX_NODES
        self.issues: list[Issue] = []

    def build(self, node: Node, path: Path) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooBig(node, f"document expands to more than {MAX_NODES:,} values")
        if len(path) > MAX_DEPTH:
            raise _TooBig(node, f"document nests deeper than {MAX_DEPTH} levels")
        self.document.values.setdefault(path, _mark(node))
        if not isinstance(node, ScalarNode) and node.tag not in _COLLECTION_TAGS:
            raise yaml.constructor.ConstructorError(
                None, None, f"tag '{node.tag}' is not allowed in flag files", node.start_mark
            )
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for merged in _merge_sources(value_node):
                    for key, value in self._mapping(merged, path).items():
                        result.setdefault(key, value)
                continue
            if not isinstance(key_node, ScalarNode):
                self.issues.append(
                    _issue("bad-key", "mapping keys must be scalars", key_node, self.document)
                )
                continue
            key = self.constructor.construct_object(key_node)
            key_path = (*path, key)
            if key in explicit:
                first = self.document.keys.get(key_path, (0, 0))
                self.issues.append(
                    _issue(
                        "duplicate-key",
                        f"key '{key}' appears twice in one mapping (first at line {first[0]})",
                        key_node,
                        self.document,
                        hint="remove one of them; YAML would silently keep only the last",
                    )
                )
                continue
            explicit.add(key)
            self.document.keys[key_path] = _mark(key_node)
            result[key] = self.build(value_node, key_path)
        return result


class _TooBig(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node


def parse_yaml(text: str | bytes, file: str) -> tuple[Document, list[Issue]]:
    """Parse one YAML document; returns the document and every issue found.

    The data is ``None`` when the text could not be parsed at all.
    """
    document = Document(file)
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_FILE_BYTES:
        issue = Issue(
            "file-too-large",
            f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}",
            "split the flags into several files in one directory",
        )
        return document, [issue.at(file, 1, 1)]
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as error:  # undecodable bytes are found on construction
        message = f"not valid UTF-8 text (byte {error.position}: {error.reason})"
        return document, [Issue("yaml-syntax", message, "save the file as UTF-8").at(file, 1, 1)]
    try:
        root = loader.get_single_node()
        if root is None:
            return document, [Issue("empty-file", "file is empty", "").at(file, 1, 1)]
        builder = _Builder(document, loader)
        document.data = builder.build(root, ())
    except _TooBig as error:
        hint = "aliases that expand exponentially and deep nesting are refused"
        return Document(file), [_issue("too-large", str(error), error.node, document, hint)]
    except RecursionError:
        return Document(file), [Issue("too-large", "document nests too deeply", "").at(file, 1, 1)]
    except yaml.MarkedYAMLError as error:
        return Document(file), [_yaml_issue(error, file)]
    except yaml.YAMLError as error:  # unmarked reader errors, e.g. bad bytes
        return Document(file), [Issue("yaml-syntax", str(error), "").at(file, 1, 1)]
    finally:
        loader.dispose()
    return document, builder.issues


def _merge_sources(node: Node) -> list[MappingNode]:
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode):
        return [item for item in node.value if isinstance(item, MappingNode)]
    return []


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _issue(code: str, message: str, node: Node, document: Document, hint: str = "") -> Issue:
    return Issue(code, message, hint).at(document.file, *_mark(node))


def _yaml_issue(error: yaml.MarkedYAMLError, file: str) -> Issue:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (error.context, error.problem) if part)
    code = "yaml-tag" if isinstance(error, ConstructorError) else "yaml-syntax"
    return Issue(code, message or "invalid YAML", "").at(file, line, col)
