"""What a condition refers to: the segments, attributes and regular expressions in it.

Conditions are MongoDB-style mappings (the operators are in
:mod:`modelflags.schema.condition_operators`). Other checks need to know what a condition
refers to before it is compiled, or even checked: the loader, that every segment a flag names
exists; the linter, that no pattern is unsafe and no segment is unused; the engine, which
attributes a flag reads. The walks here read the parsed data only and skip what is malformed,
so they are safe to call on any condition, checked or not
(:func:`~modelflags.schema.condition_syntax.condition_issues` reports the malformed parts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from modelflags.errors import Path
from modelflags.schema.condition_operators import (
    ALL_OF_OPERATORS,
    LIST_COMBINATORS,
    REGEX_OPERATORS,
    SEGMENT_OPERATORS,
    attribute_path,
    is_operator_mapping,
    path_key,
    regex_source,
)
from modelflags.schema.models import Flag

__all__ = [
    "referenced_attributes",
    "referenced_segments",
    "regex_operands",
    "segments_used",
]


def referenced_segments(raw: object) -> list[tuple[str, Path]]:
    """Every ``$segment``/``$notSegment`` name in ``raw`` with its path, in document order.

    Malformed parts are skipped, so this is safe to call before :func:`condition_issues`.
    """
    found: list[tuple[str, Path]] = []
    for key, value, path in _walk_document(raw, ()):
        if key in SEGMENT_OPERATORS and isinstance(value, str):
            found.append((value, path))
    return found


def segments_used(flags: Iterable[Flag], segments: Mapping[str, Any]) -> set[str]:
    """Every segment the flags use, directly or through other segments, transitively.

    A flag uses the segments of ``exclusions.segments``, ``eligible`` (a segment name, or a
    condition's references) and its rules' ``when``; a segment uses the ones its condition
    references. Names missing from ``segments`` are left out, and cycles end the walk.

    >>> flag = Flag(default="a", variations={"a": 1}, eligible="paid")
    >>> sorted(segments_used([flag], {"paid": {"$segment": "pro"}, "pro": {}, "other": {}}))
    ['paid', 'pro']
    """
    pending: list[str] = []
    for flag in flags:
        if flag.exclusions is not None:
            pending.extend(flag.exclusions.segments)
        if isinstance(flag.eligible, str):
            pending.append(flag.eligible)
        conditions = [rule.when for rule in flag.rules]
        if isinstance(flag.eligible, Mapping):
            conditions.append(flag.eligible)
        for condition in conditions:
            pending.extend(name for name, _ in referenced_segments(condition))
    used: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in used and name in segments:
            used.add(name)
            pending.extend(ref for ref, _ in referenced_segments(segments[name]))
    return used


def referenced_attributes(raw: object) -> set[str]:
    """The top-level context attributes ``raw`` reads (``user.plan`` reads ``user``).

    Segment references are not followed; ``$elemMatch`` sub-conditions read array elements,
    not the context, so their keys do not count.
    """
    return {
        attribute_path(key)[0]
        for key, _, _ in _walk_document(raw, ())
        if isinstance(key, str) and not key.startswith("$")
    }


def regex_operands(raw: object) -> list[tuple[str, Path]]:
    """Every pattern of a regular-expression operator (``$regex``, ``$regexi``, ``$notRegex``,
    ``$notRegexi``) in a condition with its path, in document order: under attributes,
    ``$not``, ``$elemMatch``, ``$all`` and ``$alli``, and in nested conditions. Patterns are
    given as :func:`regex_source` gives them (case-insensitive ones start with ``(?i)``), the
    form ``re`` and :func:`~modelflags.schema.regex_cost.regex_cost` read.

    Malformed parts are skipped, so this is safe to call before :func:`condition_issues`.
    """
    found: list[tuple[str, Path]] = []
    for key, value, path in _walk_document(raw, ()):
        if isinstance(key, str) and not key.startswith("$"):
            found.extend(_value_regexes(value, path))
    return found


def _value_regexes(value: object, at: Path) -> Iterator[tuple[str, Path]]:
    if not isinstance(value, Mapping) or not is_operator_mapping(value):
        return
    for op, operand in value.items():
        path = (*at, op)
        if op in REGEX_OPERATORS and isinstance(operand, str):
            yield regex_source(op, operand), path
        elif op == "$not":
            yield from _value_regexes(operand, path)
        elif op in ALL_OF_OPERATORS and isinstance(operand, list):
            for i, item in enumerate(operand):
                yield from _value_regexes(item, (*path, i))
        elif op == "$elemMatch" and isinstance(operand, Mapping):
            if is_operator_mapping(operand):
                yield from _value_regexes(operand, path)
            else:
                for pattern, where in regex_operands(operand):
                    yield pattern, (*path, *where)


def _walk_document(raw: object, at: Path) -> Iterator[tuple[object, object, Path]]:
    """(key, value, path) for each entry of a condition and of its nested conditions."""
    if not isinstance(raw, Mapping):
        return
    for key, value in raw.items():
        path = (*at, path_key(key))
        yield key, value, path
        if key in LIST_COMBINATORS and isinstance(value, list):
            for i, item in enumerate(value):
                yield from _walk_document(item, (*path, i))
        elif key == "$not":
            yield from _walk_document(value, path)
