"""Reading PyYAML's node graph the way the flag editor needs it, and writing scalars back.

Nodes carry marks (exact character offsets, lines and columns) into the text they were
composed from; the editor uses them to find what to replace. Scalars are read by the loader's
own rules (:class:`~modelflags.loader.yaml_document.BoundedLoader`: YAML 1.2 core), so a value
written back reads as the value meant.
"""

from __future__ import annotations

import json
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.tokens import Token

from modelflags.errors import Path
from modelflags.loader.yaml_document import BoundedLoader

__all__ = ["MERGE_TAG", "dotted", "entry", "is_key", "merge_key", "place", "scalar_text"]

MERGE_TAG = "tag:yaml.org,2002:merge"
"""The tag of a ``<<`` merge key."""

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = BoundedLoader("")


def entry(mapping: Node, key: str) -> tuple[ScalarNode, Node] | None:
    """The entry ``key`` written in ``mapping`` itself (not through a merge key)."""
    if not isinstance(mapping, MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if is_key(key_node, key):
            return key_node, value_node
    return None


def is_key(node: Node, key: str) -> bool:
    """Whether ``node`` is the mapping key ``key`` (a merge key never is)."""
    return isinstance(node, ScalarNode) and node.tag != MERGE_TAG and node.value == key


def merge_key(mapping: Node) -> Node | None:
    """The ``<<`` key written in ``mapping``, if any."""
    if not isinstance(mapping, MappingNode):
        return None
    return next((key for key, _ in mapping.value if key.tag == MERGE_TAG), None)


def place(item: Node | Token) -> tuple[int, int]:
    """Line and column (1-based) where a node or a token starts."""
    return item.start_mark.line + 1, item.start_mark.column + 1


def dotted(path: Path) -> str:
    """``split.control`` for ``("split", "control")``."""
    return ".".join(str(part) for part in path)


def scalar_text(value: str | int, style: str | None = None) -> str:
    """``value`` as YAML text: in single quotes if it was, else plain when it reads back as
    the same value, else double-quoted."""
    if isinstance(value, int):
        return str(value)
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    tag: Any = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if style == '"' or tag != _STR_TAG:
        return json.dumps(value)
    return value
