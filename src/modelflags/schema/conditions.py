"""The condition language's syntax: which operators exist and what each one takes.

Conditions are MongoDB-style mappings with GrowthBook's operator set, for example::

    {plan: {$in: [pro, enterprise]}, email: {$regex: "@example\\.com$"}}
    {$or: [{country: US}, {$segment: beta_testers}]}

This module only reads the parsed data (no I/O, no evaluation), so the loader can report every
mistake in a file at once, each at its document path, before anything is compiled. The meaning
of each operator lives in :mod:`modelflags.engine.conditions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from modelflags.errors import Issue, Path, did_you_mean
from modelflags.schema.models import Flag
from modelflags.schema.regex_cost import regex_cost

__all__ = [
    "ALL_OF_OPERATORS",
    "CASE_INSENSITIVE",
    "COMBINATORS",
    "MAX_VERSION_OPERAND",
    "MEMBERSHIP_OPERATORS",
    "OPERATORS",
    "REGEX_OPERATORS",
    "SEGMENT_OPERATORS",
    "TYPE_NAMES",
    "VALUE_OPERATORS",
    "attribute_path",
    "condition_issues",
    "is_operator_mapping",
    "referenced_attributes",
    "referenced_segments",
    "regex_operands",
    "regex_source",
    "segments_used",
]

VERSION_OPERATORS = frozenset({"$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"})
ORDER_OPERATORS = frozenset({"$lt", "$lte", "$gt", "$gte"})
REGEX_OPERATORS = frozenset({"$regex", "$regexi", "$notRegex", "$notRegexi"})
"""Operators whose operand is a regular expression (each checked for cost at load)."""
MEMBERSHIP_OPERATORS = frozenset({"$in", "$nin", "$ini", "$nini"})
"""Operators whose operand is a list of literals."""
ALL_OF_OPERATORS = frozenset({"$all", "$alli"})
"""Operators whose operand lists what an array attribute must all contain: literals or
operator mappings."""
CASE_INSENSITIVE = frozenset({"$regexi", "$notRegexi", "$ini", "$nini", "$alli"})
"""GrowthBook's case-insensitive forms: they compare text ignoring case."""
VALUE_OPERATORS = frozenset(
    {"$eq", "$ne", "$elemMatch", "$size", "$exists", "$type", "$not"}
    | ORDER_OPERATORS
    | VERSION_OPERATORS
    | REGEX_OPERATORS
    | MEMBERSHIP_OPERATORS
    | ALL_OF_OPERATORS
)
"""Operators that test one attribute's value: ``{attr: {$op: operand}}``."""
COMBINATORS = frozenset({"$and", "$or", "$nor", "$not"})
"""Operators that combine whole conditions: ``{$or: [cond, cond]}``, ``{$not: cond}``."""
SEGMENT_OPERATORS = frozenset({"$segment", "$notSegment"})
"""References to named segments: ``{$segment: NAME}``."""
OPERATORS = VALUE_OPERATORS | COMBINATORS | SEGMENT_OPERATORS
"""Every ``$`` name the condition language knows."""
TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null", "undefined"})
"""The operands ``$type`` accepts (GrowthBook's, which are JavaScript's)."""

MAX_VERSION_OPERAND = 256
"""Longest version a ``$v…`` operator accepts (the engine reads longer values as ``"0"``)."""

_LIST_COMBINATORS = ("$and", "$or", "$nor")
_LITERAL_TYPES = (str, int, float, bool, date, type(None))


def attribute_path(name: str) -> tuple[str, ...]:
    """The parts of an attribute name: ``user.plan`` reads ``plan`` inside ``user``."""
    return tuple(name.split("."))


def regex_source(op: str, pattern: str) -> str:
    """The Python pattern a regular-expression operator searches with: the case-insensitive
    ones' with ``(?i)`` in front, which ``re`` reads as :data:`re.IGNORECASE`.

    >>> regex_source("$regex", "^gpt"), regex_source("$notRegexi", "^gpt")
    ('^gpt', '(?i)^gpt')
    """
    return f"(?i){pattern}" if op in CASE_INSENSITIVE else pattern


def is_operator_mapping(value: Mapping[Any, Any]) -> bool:
    """True when every key starts with ``$``, so the mapping applies operators (GrowthBook).

    An empty mapping counts as one: ``{attr: {}}`` tests nothing and always matches.
    """
    return all(isinstance(key, str) and key.startswith("$") for key in value)


def condition_issues(raw: object) -> list[Issue]:
    """Every syntax error in one condition, each with its path relative to the condition.

    >>> [issue.path for issue in condition_issues({"plan": {"$inn": ["pro"]}})]
    [('plan', '$inn')]
    """
    if not isinstance(raw, Mapping):
        return [
            Issue(
                "bad-condition",
                f"a condition must be a mapping of attribute names or operators, got {_kind(raw)}",
            )
        ]
    return list(_document_issues(raw, (), segments_allowed=True))


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
        path = (*at, _path_key(key))
        yield key, value, path
        if key in _LIST_COMBINATORS and isinstance(value, list):
            for i, item in enumerate(value):
                yield from _walk_document(item, (*path, i))
        elif key == "$not":
            yield from _walk_document(value, path)


def _document_issues(
    raw: Mapping[Any, Any], at: Path, *, segments_allowed: bool
) -> Iterator[Issue]:
    """Issues in a condition mapping: attribute paths, combinators and segment references."""
    for key, value in raw.items():
        path = (*at, _path_key(key))
        if not isinstance(key, str) or not key:
            yield Issue("bad-attribute", f"attribute name must be text, got {key!r}", path=path)
        elif not key.startswith("$"):
            if "" in attribute_path(key):
                yield Issue(
                    "bad-attribute",
                    f"attribute path '{key}' has an empty part",
                    "write dotted paths like 'user.plan'",
                    path,
                )
            yield from _value_issues(value, path)
        elif key in _LIST_COMBINATORS:
            yield from _combinator_issues(key, value, path, segments_allowed=segments_allowed)
        elif key == "$not":
            if isinstance(value, Mapping):
                yield from _document_issues(value, path, segments_allowed=segments_allowed)
            else:
                yield _bad(path, f"$not needs a condition mapping, got {_kind(value)}")
        elif key in SEGMENT_OPERATORS and segments_allowed:
            if not isinstance(value, str) or not value:
                yield _bad(path, f"{key} needs a segment name, got {_kind(value)}")
        elif key in OPERATORS:
            where = "inside $elemMatch" if key in SEGMENT_OPERATORS else "at this level"
            yield Issue(
                "misplaced-operator",
                f"{key} tests an attribute's value and cannot stand {where}",
                "put it under an attribute name, e.g. {plan: {" + key + ": ...}}"
                if key in VALUE_OPERATORS
                else "segments apply to the whole context, not to array elements",
                path,
            )
        else:
            known = COMBINATORS | SEGMENT_OPERATORS if segments_allowed else COMBINATORS
            yield _unknown(key, known, path, "at the top of a condition")


def _combinator_issues(
    key: str, value: object, path: Path, *, segments_allowed: bool
) -> Iterator[Issue]:
    if not isinstance(value, list):
        yield _bad(path, f"{key} needs a list of conditions, got {_kind(value)}")
        return
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            yield from _document_issues(item, (*path, i), segments_allowed=segments_allowed)
        else:
            message = f"each item of {key} must be a condition mapping, got {_kind(item)}"
            yield _bad((*path, i), message)


def _value_issues(value: object, path: Path) -> Iterator[Issue]:
    """Issues in what an attribute is tested against: a literal or an operator mapping."""
    if not isinstance(value, Mapping):
        yield from _literal_issues(value, path)
        return
    if not is_operator_mapping(value):
        operators = sorted(k for k in value if isinstance(k, str) and k.startswith("$"))
        if operators:
            yield _bad(
                path,
                f"mapping mixes operators ({', '.join(operators)}) with plain keys",
                "use only operators, or only plain keys to compare with an object",
            )
        yield from _literal_issues(value, path)
        return
    for op, operand in value.items():
        yield from _operator_issues(op, operand, (*path, op))


def _operator_issues(op: str, operand: object, path: Path) -> Iterator[Issue]:
    if op in ("$eq", "$ne"):
        yield from _literal_issues(operand, path)
    elif op in ORDER_OPERATORS:
        if not _is_number(operand) and not isinstance(operand, (str, date)):
            yield _bad(path, f"{op} needs a number or a string, got {_kind(operand)}")
    elif op in MEMBERSHIP_OPERATORS or op in ALL_OF_OPERATORS:
        if not isinstance(operand, list):
            yield _bad(path, f"{op} needs a list, got {_kind(operand)}")
        elif op in ALL_OF_OPERATORS:
            for i, item in enumerate(operand):
                yield from _value_issues(item, (*path, i))
        else:
            for i, item in enumerate(operand):
                yield from _literal_issues(item, (*path, i))
    elif op == "$elemMatch":
        if not isinstance(operand, Mapping):
            yield _bad(path, f"$elemMatch needs a condition mapping, got {_kind(operand)}")
        elif is_operator_mapping(operand):
            yield from _value_issues(operand, path)
        else:
            yield from _document_issues(operand, path, segments_allowed=False)
    elif op == "$size":
        if isinstance(operand, Mapping) and operand and is_operator_mapping(operand):
            yield from _value_issues(operand, path)
        elif not _is_number(operand):
            yield _bad(
                path,
                f"$size needs a number or an operator mapping such as {{$gt: 2}}, "
                f"got {_kind(operand)}",
            )
    elif op == "$exists":
        if not isinstance(operand, bool):
            yield _bad(path, f"$exists needs true or false, got {_kind(operand)}")
    elif op == "$type":
        if not isinstance(operand, str) or operand not in TYPE_NAMES:
            hint = did_you_mean(operand, TYPE_NAMES) if isinstance(operand, str) else ""
            names = ", ".join(sorted(TYPE_NAMES))
            yield Issue("bad-operand", f"$type needs one of {names}, got {operand!r}", hint, path)
    elif op in REGEX_OPERATORS:
        yield from _regex_issues(op, operand, path)
    elif op in VERSION_OPERATORS:
        if not isinstance(operand, str):
            yield _bad(path, f"{op} needs a version string such as '1.2.3', got {_kind(operand)}")
        elif len(operand) > MAX_VERSION_OPERAND:
            message = f"{op} needs a version of at most {MAX_VERSION_OPERAND} characters"
            yield _bad(path, message, "longer text is not a version and reads as '0'")
    elif op == "$not":
        if isinstance(operand, Mapping):
            yield from _value_issues(operand, path)
        else:
            yield _bad(
                path,
                f"$not needs an operator mapping such as {{$regex: '^a'}}, got {_kind(operand)}",
                "use $ne to exclude a single value",
            )
    elif op in OPERATORS:
        yield Issue(
            "misplaced-operator",
            f"{op} combines whole conditions and cannot be used on an attribute",
            "write it at the top of the condition, e.g. {" + op + ": ...}",
            path,
        )
    else:
        yield _unknown(op, VALUE_OPERATORS, path, "on an attribute")


def _regex_issues(op: str, operand: object, path: Path) -> Iterator[Issue]:
    if not isinstance(operand, str):
        yield _bad(path, f"{op} needs a pattern string, got {_kind(operand)}")
        return
    try:
        re.compile(operand, re.IGNORECASE if op in CASE_INSENSITIVE else 0)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        yield Issue(
            "bad-regex", f"{op} pattern {_shown(operand)} does not compile: {exc}", path=path
        )
        return
    cost = regex_cost(regex_source(op, operand))
    if cost.refused:
        yield Issue(
            "unsafe-regex",
            f"{op} pattern {_shown(operand)} can take too long on a long value: {cost.reason}",
            "rewrite it so that repeated parts cannot match the same text, e.g. '(a+)+' as "
            "'a+' and '(\\w+\\s?)*' as '[\\w\\s]*'; a request value must not be able to "
            "stall the service",
            path,
        )


def _shown(pattern: str) -> str:
    """A pattern as a message quotes it: whole when short, else its start."""
    return repr(pattern) if len(pattern) <= 60 else f"{pattern[:57]!r}..."


def _literal_issues(value: object, path: Path) -> Iterator[Issue]:
    """Literals are JSON values (YAML dates count as ISO 8601 strings)."""
    if isinstance(value, _LITERAL_TYPES):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _literal_issues(item, (*path, i))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _literal_issues(item, (*path, _path_key(key)))
    else:
        yield _bad(path, f"unsupported value {_kind(value)}; use text, numbers, lists or mappings")


def _unknown(op: str, known: frozenset[str], path: Path, where: str) -> Issue:
    hint = did_you_mean(op, known) or did_you_mean(op, OPERATORS)
    return Issue("unknown-operator", f"unknown operator '{op}' {where}", hint, path)


def _bad(path: Path, message: str, hint: str = "") -> Issue:
    return Issue("bad-operand", message, hint, path)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _path_key(key: object) -> str | int:
    return key if isinstance(key, (str, int)) else repr(key)


def _kind(value: object) -> str:
    """How a value reads in a message: its JSON kind and, when short, the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value!r}" if len(value) <= 40 else "a long string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
