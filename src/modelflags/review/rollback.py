"""Rollback as an edit: set a flag's ``state: off`` and its ``default``, touching nothing else.

The edit is made on the text, not by re-dumping YAML: the scalar nodes of ``state`` and
``default`` are located by their PyYAML marks (exact character spans) and only those spans
are replaced, so comments, key order, quoting, spacing and flow/block style survive byte for
byte. A missing ``state`` key is inserted (its own line in a block mapping, ``state: off, ``
inside the braces of a flow mapping).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from modelflags.errors import FlagFileError, Issue, ModelFlagsError, did_you_mean
from modelflags.loader.config import load_snapshot
from modelflags.loader.sources import Snapshot
from modelflags.loader.yaml_document import _Loader, parse_yaml

__all__ = ["RollbackEdit", "rollback_text", "target_variation"]

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = _Loader("")


@dataclass(frozen=True)
class RollbackEdit:
    """The result of a rollback: the new file text and a unified diff against the old."""

    file: str
    flag_key: str
    variation: str
    text: str
    diff: str

    @property
    def changed(self) -> bool:
        """Whether the edit changes the file (false when the flag was already rolled back)."""
        return bool(self.diff)


def target_variation(flag: dict[str, Any], to: str | None) -> str:
    """The variation a rollback serves, before checking that it exists.

    ``to`` when given; else the flag's fallback (``exclusions.serve``, what excluded units
    get); else a variation literally named ``fallback``; else the flag's current ``default``
    (the rollback then only switches the flag off).
    """
    if to is not None:
        return to
    exclusions = flag.get("exclusions")
    if isinstance(exclusions, dict) and isinstance(exclusions.get("serve"), str):
        return str(exclusions["serve"])
    variations = flag.get("variations")
    if isinstance(variations, dict) and "fallback" in variations:
        return "fallback"
    return str(flag.get("default"))


def rollback_text(
    text: str,
    file: str,
    flag_key: str,
    to: str | None = None,
    *,
    others: Sequence[tuple[str, bytes]] = (),
) -> RollbackEdit:
    """Roll ``flag_key`` back in the flag file ``text`` (named ``file`` in messages).

    Sets ``state: off`` and ``default`` to the target variation (see
    :func:`target_variation`: ``to``, else the flag's fallback ``exclusions.serve``, else a
    variation named ``fallback``, else the current default) and changes nothing else. A
    value that was quoted stays quoted in the same style; a plain value stays plain unless
    the new name would not read back as text (then it is double-quoted).

    ``others`` are the other files of the same directory (name, bytes); the result is
    validated together with them, so cross-file segment references resolve.

    Raises :class:`FlagFileError` (located at the flag, or at the file) when the file does not
    parse, the flag or the variation does not exist, or the edited file would not validate.
    """
    document, issues = parse_yaml(text, file)
    if issues or not isinstance(document.data, dict):
        raise FlagFileError(issues or [Issue("bad-file", "not a flag file", "").at(file, 1, 1)])
    flags = document.data.get("flags")
    flags = flags if isinstance(flags, dict) else {}
    if flag_key not in flags:
        known = ", ".join(sorted(map(str, flags))) or "none"
        hint = did_you_mean(flag_key, map(str, flags))
        place = document.keys.get(("flags",), (1, 1))
        message = f"no flag '{flag_key}' in this file (flags: {known})"
        raise FlagFileError([Issue("unknown-flag", message, hint).at(file, *place)])
    where = document.keys[("flags", flag_key)]
    flag = flags[flag_key]
    if not isinstance(flag, dict):
        raise FlagFileError([Issue("bad-flag", "flag is not a mapping", "").at(file, *where)])
    variations = flag.get("variations")
    names = [str(name) for name in variations] if isinstance(variations, dict) else []
    variation = target_variation(flag, to)
    if variation not in names:
        hint = did_you_mean(variation, names)
        message = (
            f"flag '{flag_key}' has no variation '{variation}' "
            f"(known: {', '.join(names) or 'none'})"
        )
        raise FlagFileError([Issue("unknown-variation", message, hint).at(file, *where)])

    key_node, node = _flag_node(text, flag_key)
    values = {"state": "off", "default": variation}
    new_text = _edit(text, key_node, node, values, file=file, where=where)
    others = [(name, content) for name, content in others if name != file]
    try:
        load_snapshot(Snapshot((*others, (file, new_text.encode()))))
    except FlagFileError as error:
        message = f"the rolled-back file would not validate: {error.issues[0]}"
        issue = Issue("rollback-invalid", message, "fix the file first, then roll back")
        raise FlagFileError([issue.at(file, *where), *error.issues]) from error
    diff = "".join(
        difflib.unified_diff(
            _lines(text), _lines(new_text), fromfile=f"a/{file}", tofile=f"b/{file}"
        )
    )
    return RollbackEdit(file, flag_key, variation, new_text, diff)


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _get(mapping: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            return key_node, value_node
    return None


def _flag_node(text: str, flag_key: str) -> tuple[ScalarNode, MappingNode]:
    root = yaml.compose(text, Loader=_Loader)
    flags = _get(root, "flags") if isinstance(root, MappingNode) else None
    flag = _get(flags[1], flag_key) if flags and isinstance(flags[1], MappingNode) else None
    if flag is None or not isinstance(flag[1], MappingNode):  # parse_yaml found it: unlikely
        raise ModelFlagsError(f"flag '{flag_key}' is not a plain mapping under 'flags'")
    return flag[0], flag[1]


def _edit(
    text: str,
    flag_key: ScalarNode,
    flag: MappingNode,
    values: dict[str, str],
    *,
    file: str,
    where: tuple[int, int],
) -> str:
    replacements: list[tuple[int, int, str]] = []  # (start, end, new text)
    for key, new in values.items():
        found = _get(flag, key)
        if found is None:
            replacements.append(_insertion(text, flag_key, flag, key, new))
            continue
        key_node, value = found
        if not isinstance(value, ScalarNode) or value.start_mark.index < key_node.end_mark.index:
            message = f"'{key}' of flag is not a plain value here (an alias or a collection)"
            issue = Issue("rollback-unsupported", message, f"write '{key}: {new}' and retry")
            raise FlagFileError([issue.at(file, key_node.start_mark.line + 1, where[1])])
        if value.value == new and value.tag == _STR_TAG:
            continue
        start, end = value.start_mark.index, value.end_mark.index
        replacements.append((start, end, _scalar(new, value.style)))
    for start, end, new in sorted(replacements, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _insertion(
    text: str, flag_key: ScalarNode, flag: MappingNode, key: str, value: str
) -> tuple[int, int, str]:
    first_key = flag.value[0][0]
    plain = _scalar(value, None)
    if flag.flow_style:
        at = first_key.start_mark.index
        return at, at, f"{key}: {plain}, "
    newline = "\r\n" if "\r\n" in text else "\n"
    # a block mapping starts on a later line than its key: insert right after the key line
    line_start = text.index("\n", flag_key.end_mark.index) + 1
    indent = " " * first_key.start_mark.column
    return line_start, line_start, f"{indent}{key}: {plain}{newline}"


def _scalar(value: str, style: str | None) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    tag = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if style == '"' or tag != _STR_TAG:
        return json.dumps(value)
    return value
