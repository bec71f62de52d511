"""The condition language's syntax: what each operator takes, checked before compiling.

A condition is read from a flag file as plain data; this module checks it (no I/O, no
evaluation) so the loader can report every mistake in a file at once, each at its document
path, before anything is compiled: an unknown operator (with the nearest known one), an
operator where it cannot stand, an operand of the wrong kind, a regular expression that does
not compile or could take too long on a long value. Which operators exist is in
:mod:`modelflags.schema.condition_operators`; what each one means is in
:mod:`modelflags.engine.conditions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from modelflags.errors import Issue, Path, did_you_mean
from modelflags.schema.condition_operators import (
    ALL_OF_OPERATORS,
    CASE_INSENSITIVE,
    COMBINATORS,
    LIST_COMBINATORS,
    MAX_VERSION_OPERAND,
    MEMBERSHIP_OPERATORS,
    OPERATORS,
    ORDER_OPERATORS,
    REGEX_OPERATORS,
    SEGMENT_OPERATORS,
    TYPE_NAMES,
    VALUE_OPERATORS,
    VERSION_OPERATORS,
    attribute_path,
    is_operator_mapping,
    path_key,
    regex_source,
)
from modelflags.schema.regex_cost import regex_cost

__all__ = ["condition_issues"]

_LITERAL_TYPES = (str, int, float, bool, date, type(None))


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


def _document_issues(
    raw: Mapping[Any, Any], at: Path, *, segments_allowed: bool
) -> Iterator[Issue]:
    """Issues in a condition mapping: attribute paths, combinators and segment references."""
    for key, value in raw.items():
        path = (*at, path_key(key))
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
        elif key in LIST_COMBINATORS:
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
            yield from _literal_issues(item, (*path, path_key(key)))
    else:
        yield _bad(path, f"unsupported value {_kind(value)}; use text, numbers, lists or mappings")


def _unknown(op: str, known: frozenset[str], path: Path, where: str) -> Issue:
    hint = did_you_mean(op, known) or did_you_mean(op, OPERATORS)
    return Issue("unknown-operator", f"unknown operator '{op}' {where}", hint, path)


def _bad(path: Path, message: str, hint: str = "") -> Issue:
    return Issue("bad-operand", message, hint, path)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
