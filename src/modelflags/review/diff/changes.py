"""What an edit changed, field by field: per flag, per segment, and which flags a segment feeds.

Fields are named by their YAML path, so a reviewer can find them in the file: ``state``,
``split.candidate``, ``variations.candidate.modelRoute``, ``assignment.salt``,
``rules[internal_traffic].serve`` (rules are matched by name; unnamed ones by position, as
``rules[0]``), ``schedule.start``, ``experiment.guardrails``. Mappings are compared key by key;
conditions (``eligible``, a rule's ``when``, a segment) and lists are compared whole, because
half a condition means nothing on its own.

>>> from modelflags.schema.models import Flag
>>> old = Flag(default="a", variations={"a": 1, "b": 2}, split={"a": 90, "b": 10})
>>> new = Flag(default="a", variations={"a": 1, "b": 2}, split={"a": 50, "b": 50})
>>> [(c.field, c.old, c.new) for c in flag_changes(old, new)]
[('split.a', 90, 50), ('split.b', 10, 50)]
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modelflags.schema.conditions import segments_used
from modelflags.schema.models import Flag, FlagFile

__all__ = [
    "Change",
    "SegmentChange",
    "canonical_json",
    "flag_changes",
    "same_targeting",
    "segment_changes",
]

Kind = Literal["added", "removed", "changed"]
_MISSING: Any = object()
_WHOLE = frozenset({"eligible", "when"})
"""Mapping fields that are conditions: compared whole, not key by key."""


@dataclass(frozen=True)
class Change:
    """One changed field; ``old``/``new`` are JSON values, ``None`` when absent on that side."""

    field: str
    kind: Kind
    old: Any
    new: Any


@dataclass(frozen=True)
class SegmentChange:
    """A segment added, removed or redefined, and the flags (either version) that use it;
    ``old``/``new`` are its conditions as JSON values, ``None`` when absent on that side."""

    name: str
    kind: Kind
    old: Any
    new: Any
    used_by: tuple[str, ...]


def flag_changes(old: Flag, new: Flag) -> list[Change]:
    """Every field that differs between two versions of a flag, in the file format's order."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    for dump in (before, after):  # coverage is a float in the model; show 20, not 20.0
        if float(dump["coverage"]).is_integer():
            dump["coverage"] = int(dump["coverage"])
    changes: list[Change] = []
    for key in dict.fromkeys([*before, *after]):
        if key == "rules":
            changes.extend(_rule_changes(before[key], after[key]))
        else:
            changes.extend(_diff(before.get(key, _MISSING), after.get(key, _MISSING), key))
    return changes


def segment_changes(old: FlagFile, new: FlagFile) -> list[SegmentChange]:
    """Segments added, removed or redefined, by name, each with the flags that use it."""
    users: dict[str, set[str]] = {}
    for config in (old, new):
        for key, flag in config.flags.items():
            for name in segments_used([flag], config.segments):
                users.setdefault(name, set()).add(key)
    found = []
    for name in sorted({*old.segments, *new.segments}):
        before = old.segments.get(name, _MISSING)
        after = new.segments.get(name, _MISSING)
        if _same(before, after):
            continue
        kind = _kind(before, after)
        found.append(
            SegmentChange(
                name, kind, _as_json(before), _as_json(after), tuple(sorted(users.get(name, ())))
            )
        )
    return found


def same_targeting(
    key: str,
    old: Flag,
    new: Flag,
    old_segments: Mapping[str, Any],
    new_segments: Mapping[str, Any],
) -> bool:
    """Whether exclusions, rules and eligibility decide the same for every context.

    True when they are written the same, serve the same variations (an exclusion's serve and
    a not-eligible unit's default included), split rules hash the same way (salt and unit
    key), and every segment they use, directly or through other segments, is defined the
    same. Units they decide then keep their variation, and only the split can move units.
    """

    def targeting(flag: Flag) -> Any:
        serve = (flag.exclusions.serve if flag.exclusions else None) or flag.default
        return (
            flag.exclusions.segments if flag.exclusions else None,
            serve if flag.exclusions else None,
            [rule.model_dump(mode="json", exclude={"name"}) for rule in flag.rules],
            flag.eligible,
            flag.default if flag.eligible is not None else None,
            (flag.assignment.salt or key, flag.assignment.key)
            if any(rule.split for rule in flag.rules)
            else None,
        )

    if not _same(targeting(old), targeting(new)):
        return False
    used = segments_used([old], old_segments) | segments_used([new], new_segments)
    return all(_same(old_segments.get(n), new_segments.get(n)) for n in used)


def _rule_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> Iterator[Change]:
    before = {_rule_label(rule, i): rule for i, rule in enumerate(old)}
    after = {_rule_label(rule, i): rule for i, rule in enumerate(new)}
    for label in dict.fromkeys([*before, *after]):
        field = f"rules[{label}]"
        if label not in after:
            yield Change(field, "removed", _compact(before[label]), None)
        elif label not in before:
            yield Change(field, "added", None, _compact(after[label]))
        else:
            yield from _diff(_compact(before[label]), _compact(after[label]), field)
    kept_before = [label for label in before if label in after]
    kept_after = [label for label in after if label in before]
    if kept_before != kept_after:
        yield Change("rules.order", "changed", kept_before, kept_after)


def _rule_label(rule: Mapping[str, Any], index: int) -> str:
    return str(rule["name"]) if rule.get("name") else str(index)


def _compact(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in rule.items() if value is not None}


def _diff(old: Any, new: Any, field: str) -> Iterator[Change]:
    if _same(old, new):
        return
    leaf = field.rsplit(".", 1)[-1]
    if isinstance(old, dict) and isinstance(new, dict) and leaf not in _WHOLE:
        for key in dict.fromkeys([*old, *new]):
            yield from _diff(old.get(key, _MISSING), new.get(key, _MISSING), f"{field}.{key}")
        return
    yield Change(field, _kind(old, new), _absent(old), _absent(new))


def _kind(old: Any, new: Any) -> Kind:
    if old is _MISSING or old is None:
        return "added"
    if new is _MISSING or new is None:
        return "removed"
    return "changed"


def _absent(value: Any) -> Any:
    return None if value is _MISSING else value


def _as_json(value: Any) -> Any:
    """A segment's condition as JSON values (a YAML date as its text), or None when absent."""
    return None if value is _MISSING else json.loads(json.dumps(value, default=str))


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text, for comparing values: keys sorted, no spaces.

    Values that are not JSON (YAML timestamps in a variation, such as ``since: 2026-01-01``)
    are written as their ``str``, so every valid flag's values compare without error.

    >>> canonical_json({"b": 1, "a": [True, 1.5]})
    '{"a":[true,1.5],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON (so ``1`` and ``true`` differ, and key order does not matter)."""
    if old is _MISSING or new is _MISSING:
        return old is new
    return canonical_json(old) == canonical_json(new)
