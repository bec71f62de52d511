"""The flag editor's safety check: an edited text must read back as exactly the edit meant.

Anchors, aliases and merge keys let two places share one piece of text, so a span edit can
change more than the value it aims at. :func:`check` parses the edited text and compares the
whole document with the old one, the edited flag replaced by what was intended; every other
difference is refused with a ``shared-yaml`` error placed where the text is shared (the
alias, the ``<<`` key, the other flag), grouped by place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, Node

from modelflags.errors import FlagFileError, Issue, Path
from modelflags.loader.yaml_document import parse_yaml
from modelflags.review.editing.yaml_nodes import dotted, entry, merge_key, place

if TYPE_CHECKING:
    from modelflags.review.editing.flag_text import FlagText

__all__ = ["check", "differences"]


def check(flag: FlagText, new_text: str, expected: dict[str, Any]) -> None:
    """Refuse ``new_text`` unless it reads back as the old document of ``flag`` with the flag
    equal to ``expected`` and nothing else changed (raises :class:`FlagFileError`)."""
    document, issues = parse_yaml(new_text, flag.file)
    if issues:
        message = f"the edited file would not parse ({issues[0].message})"
        raise flag.refusal(f"{flag.command}-invalid", message, "edit the file by hand")
    old = flag.document.data
    wanted = {**old, "flags": {**old["flags"], flag.key: expected}}
    shared: dict[tuple[tuple[int, int], str], list[str]] = {}
    for path in differences(wanted, document.data, ()):
        shared.setdefault(_sharing(flag, path), []).append(f"'{dotted(path)}'")
    if shared:
        hint = "write the shared part out where it is used (no *alias or '<<'), then retry"
        raise FlagFileError([
            Issue(
                "shared-yaml",
                f"{flag.command} of flag '{flag.key}' would also change {', '.join(paths)} "
                f"({how}); refused, the file is unchanged",
                hint,
            ).at(flag.file, *at)
            for (at, how), paths in sorted(shared.items())
        ])  # fmt: skip


def differences(old: Any, new: Any, path: Path) -> Iterator[Path]:
    """Paths where two parsed documents differ (types compared too: 1, 1.0 and True differ)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if key not in old or key not in new:
                yield (*path, key)
            else:
                yield from differences(old[key], new[key], (*path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from differences(a, b, (*path, i))
    elif type(old) is not type(new) or old != new:
        yield path


def _sharing(flag: FlagText, path: Path) -> tuple[tuple[int, int], str]:
    """Where and how the value at ``path``, which the edit changed by accident, shares the
    edited text: (line and column, a phrase)."""
    node: Node = flag.root
    at = flag.document.keys.get(path[:2], (1, 1))
    how = "shared with the edited text through an anchor"
    for name in path:
        if not isinstance(node, MappingNode):
            break
        merge = merge_key(node)
        found = entry(node, str(name))
        if found is None and merge is not None:
            at = place(merge)
            how = "merged with '<<' from the edited text"
            break
        if found is None:
            break
        at = place(found[0])
        if found[1].start_mark.index < found[0].end_mark.index:  # an alias: stop here
            aliased = found[1] is flag.node
            how = f"an alias of flag '{flag.key}'" if aliased else "an alias of edited text"
            break
        node = found[1]
    return at, how
