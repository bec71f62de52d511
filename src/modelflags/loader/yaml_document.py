"""Safe, bounded YAML parsing that remembers where every value came from.

PyYAML's ``SafeLoader`` scans and parses; this module composes the node graph under limits
and builds plain Python data from it itself, so that it can

1. refuse a document over its bounds *while* composing it: at most :data:`MAX_NODES` values
   (an alias counts as every value it stands for, so a "billion laughs" document stops after
   200,000 values, not after building them) and at most :data:`MAX_DEPTH` levels of nesting;
2. record the line and column of every key and value;
3. reject duplicate keys, which PyYAML silently overwrites;
4. read scalars by YAML 1.2's core schema and refuse values JSON cannot hold, each at its
   place (:mod:`.yaml_scalars`): ``state: on`` is the string ``"on"``, ``10:30`` is text,
   ``.nan`` and ``!!binary`` are errors, and so is a mapping key that is not text (``1:``,
   ``null:``, ``true:``).

The size bound (:data:`MAX_FILE_BYTES`) is checked before anything is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modelflags.errors import Issue, Path
from modelflags.loader.yaml_scalars import ScalarProblem, core_resolvers, scalar_value

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "BoundedLoader", "Document", "parse_yaml"]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest flag file accepted (4 MiB): flag files are reviewed by people."""

MAX_NODES = 200_000
"""Most values one file may expand to, aliases counted at every use."""

MAX_DEPTH = 64
"""Deepest nesting accepted."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_AT_KEY = frozenset({"unknown-key", "duplicate-key", "reserved-name", "unknown-operator"})


class _TooBig(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.place = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars, and a composer that counts as it goes.

    Composing an alias does not copy its node, so the count adds the size of the node it
    names (known once that node is complete; an alias inside its own anchor is refused).
    Public for readers of the raw node graph that must resolve scalars the same way (the flag
    file editor of ``modelflags rollback``, ``ramp`` and ``promote``).
    """

    yaml_implicit_resolvers = core_resolvers()

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._expanded = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            named = self.anchors.get(event.anchor)
            if named is not None:
                size = self._sizes.get(id(named))
                if size is None:
                    raise _TooBig(event.start_mark, f"alias *{event.anchor} is inside its anchor")
                self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        if self._depth > MAX_DEPTH:
            raise _TooBig(event.start_mark, f"document nests deeper than {MAX_DEPTH} levels")
        before = self._expanded
        if not (isinstance(parent, MappingNode) and index is None):  # keys are not values
            self._count(1, event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if event.anchor is not None:
            self._sizes[id(node)] = self._expanded - before
        return node

    def _count(self, values: int, mark: Any) -> None:
        self._expanded += values
        if self._expanded > MAX_NODES:
            raise _TooBig(mark, f"document expands to more than {MAX_NODES:,} values")


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
    def __init__(self, document: Document, loader: BoundedLoader) -> None:
        self.document = document
        self.loader = loader
        self.budget = MAX_NODES
        self.issues: list[Issue] = []

    def build(self, node: Node, path: Path) -> Any:
        # The composer bounded the document; an alias can still place a deep node deeper.
        self.budget -= 1
        if self.budget < 0:
            raise _TooBig(node.start_mark, f"document expands to more than {MAX_NODES:,} values")
        if len(path) > MAX_DEPTH:
            raise _TooBig(node.start_mark, f"document nests deeper than {MAX_DEPTH} levels")
        self.document.values.setdefault(path, _mark(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if node.tag not in _COLLECTION_TAGS:
            self.issues.append(_tag_issue(node.tag, node, self.document))
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return scalar_value(node, self.loader)
        except ScalarProblem as problem:
            self.issues.append(self._problem(problem, node))
            return None

    def _problem(self, problem: ScalarProblem, node: Node) -> Issue:
        if problem.code == "yaml-tag":
            return _tag_issue(node.tag, node, self.document)
        return _issue(problem.code, problem.message, node, self.document, problem.hint)

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for merged in _merge_sources(value_node):
                    for key, value in self._mapping(merged, path).items():
                        result.setdefault(key, value)
                continue
            key = self._key(key_node)
            if key is None:
                continue
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

    def _key(self, node: Node) -> str | None:
        """A mapping key: text, as JSON's are; None (and an issue) for any other key."""
        if not isinstance(node, ScalarNode):
            issue = _issue("bad-key", "mapping keys must be text", node, self.document)
            self.issues.append(issue)
            return None
        try:
            key = scalar_value(node, self.loader)
        except ScalarProblem as problem:
            self.issues.append(self._problem(problem, node))
            return None
        if isinstance(key, str):
            return key
        message = f"mapping keys must be text, as in JSON; this one reads as {_kind(key)}"
        hint = f"quote it: '{node.value}'" if node.value else "give the key a name"
        self.issues.append(_issue("bad-key", message, node, self.document, hint))
        return None


def parse_yaml(text: str | bytes, file: str) -> tuple[Document, list[Issue]]:
    """Parse one YAML document; returns the document and every issue found.

    The data is ``None`` when the text could not be parsed at all. Never raises for any
    input: every problem is an issue placed in ``file``.
    """
    document = Document(file)
    size = len(text.encode(errors="surrogatepass") if isinstance(text, str) else text)
    if size > MAX_FILE_BYTES:
        issue = Issue(
            "file-too-large",
            f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}",
            "split the flags into several files in one directory",
        )
        return document, [issue.at(file, 1, 1)]
    try:
        loader = BoundedLoader(text)
    except yaml.reader.ReaderError as error:  # undecodable bytes are found on construction
        return document, [_reader_issue(error, text, file)]
    try:
        root = loader.get_single_node()
        if root is None:
            return document, [Issue("empty-file", "file is empty", "").at(file, 1, 1)]
        builder = _Builder(document, loader)
        document.data = builder.build(root, ())
    except _TooBig as error:
        hint = "aliases that expand exponentially and deep nesting are refused"
        return Document(file), [Issue("too-large", str(error), hint).at(file, *error.place)]
    except RecursionError:
        return Document(file), [Issue("too-large", "document nests too deeply", "").at(file, 1, 1)]
    except yaml.reader.ReaderError as error:
        return Document(file), [_reader_issue(error, text, file)]
    except yaml.MarkedYAMLError as error:
        return Document(file), [_yaml_issue(error, file)]
    except yaml.YAMLError as error:  # pragma: no cover - PyYAML marks every other error
        return Document(file), [Issue("yaml-syntax", str(error), "").at(file, 1, 1)]
    finally:
        loader.dispose()
    return document, builder.issues


def _reader_issue(error: yaml.reader.ReaderError, text: str | bytes, file: str) -> Issue:
    """Bytes that are not UTF-8 (nor UTF-16 with a byte-order mark), or a control character,
    placed at its line and column."""
    raw = text.encode(errors="surrogatepass") if isinstance(text, str) else text
    if error.encoding == "unicode":  # a character YAML does not allow, at a character index
        chars = raw.decode(errors="replace")[: error.position]
        message = f"character {chr(error.character)!r} is not allowed in YAML"
        hint = "remove control characters from the file"
    else:  # undecodable bytes, at a byte offset
        chars = raw[: error.position].decode(errors="replace")
        message = f"not valid {error.encoding.upper()} text ({error.reason})"
        hint = "save the file as UTF-8"
    line = chars.count("\n") + 1
    col = len(chars) - (chars.rfind("\n") + 1) + 1
    return Issue("yaml-syntax", message, hint).at(file, line, col)


def _tag_issue(tag: str, node: Node, document: Document) -> Issue:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    message = f"tag '{short}' is not allowed in flag files: values must be JSON values"
    hint = "remove the tag; write text, numbers, true/false, null, lists or mappings"
    return _issue("yaml-tag", message, node, document, hint)


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


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"


def _yaml_issue(error: yaml.MarkedYAMLError, file: str) -> Issue:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (error.context, error.problem) if part)
    code = "yaml-tag" if isinstance(error, ConstructorError) else "yaml-syntax"
    return Issue(code, message or "invalid YAML", "").at(file, line, col)
