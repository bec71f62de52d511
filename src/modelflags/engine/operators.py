"""Value matchers: what ``{attr: <this part>}`` of a condition means, compiled to a closure.

:func:`compile_value` turns the right-hand side of an attribute test (a literal or an operator
mapping such as ``{$gt: 5, $lt: 10}``) into a function of the attribute's value. Everything
that can be worked out from the condition alone is done here, once: ``$in`` lists become
frozensets, regexes are compiled, version operands padded, dates turned into text.

The semantics are GrowthBook's (``docs/lib/build-your-own`` and the cross-SDK ``cases.json``),
with the JSON typing of :mod:`modelflags.engine.values`. Where GrowthBook's SDKs are loose or
disagree, the choice made here is noted at the operator.

Attribute values come from requests, so no value may make a test slow, whatever its size:
a ``$regex`` sees at most its pattern's input limit (:mod:`modelflags.schema.regex_cost`),
numbers and versions are read from at most 256 characters, and the tests that look at each
element of an array (``{tags: beta}``, ``$in``, ``$nin``, ``$all``, ``$elemMatch``) look at
arrays of at most :data:`MAX_ARRAY_ITEMS` elements: a longer array has no element that
matches. Everything else is constant time or bounded by the condition's own size.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from modelflags.engine.values import iso_text, js_to_number, normalize_operand, same, type_name
from modelflags.engine.versions import padded_version
from modelflags.schema.conditions import is_operator_mapping
from modelflags.schema.regex_cost import regex_cost

__all__ = ["MAX_ARRAY_ITEMS", "DocumentCompiler", "Matcher", "compile_value", "in_matcher"]

MAX_ARRAY_ITEMS = 1000
"""Longest array whose elements are tested; a longer array has no element that matches."""

Matcher = Callable[[Any], bool]
"""Tests one attribute value (``None`` when the attribute is missing)."""
DocumentCompiler = Callable[[Mapping[str, Any]], Callable[[Mapping[str, Any]], bool]]
"""Compiles a whole condition; ``$elemMatch`` uses it for conditions on array elements."""

_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_VERSION = {
    "$veq": operator.eq,
    "$vne": operator.ne,
    "$vlt": operator.lt,
    "$vlte": operator.le,
    "$vgt": operator.gt,
    "$vgte": operator.ge,
}
_ARRAY = (list, tuple)


def _never(value: Any) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


def compile_value(condition: Any, document: DocumentCompiler) -> Matcher:
    """The matcher for ``condition``: an operator mapping, or a literal to compare with."""
    if isinstance(condition, Mapping) and is_operator_mapping(condition):
        matchers = [_operator(op, arg, document) for op, arg in condition.items()]
        if not matchers:
            return _always  # GrowthBook: an empty operator mapping tests nothing
        if len(matchers) == 1:
            return matchers[0]
        return _all_of(tuple(matchers))
    return equality_matcher(normalize_operand(condition))


def _all_of(matchers: tuple[Matcher, ...]) -> Matcher:
    def all_of(value: Any) -> bool:
        for matcher in matchers:  # noqa: SIM110 - cheaper than all() over a generator
            if not matcher(value):
                return False
        return True

    return all_of


def equality_matcher(literal: Any) -> Matcher:
    """``{attr: literal}``: typed, deep equality.

    A scalar literal also matches an array attribute that contains it (MongoDB's rule, which
    GrowthBook's JavaScript SDK approximates by comparing ``String(["x"])`` with ``"x"``):
    ``{tags: beta}`` matches ``tags: [beta, internal]``. A ``null`` literal matches only a null
    or missing attribute; a list or mapping literal matches only an equal list or mapping.
    """
    if literal is None:
        return _is_null
    if isinstance(literal, (_ARRAY, Mapping)):
        return lambda value: same(value, literal)
    if type(literal) is str:

        def equals_text(value: Any) -> bool:
            if type(value) is str:
                return value == literal
            if isinstance(value, _ARRAY):
                return len(value) <= MAX_ARRAY_ITEMS and any(same(i, literal) for i in value)
            return same(value, literal)

        return equals_text

    def equals_scalar(value: Any) -> bool:
        if isinstance(value, _ARRAY):
            return len(value) <= MAX_ARRAY_ITEMS and any(same(i, literal) for i in value)
        return same(value, literal)

    return equals_scalar


def _is_null(value: Any) -> bool:
    return value is None


def in_matcher(operand: Any) -> tuple[frozenset[Any], Matcher]:
    """``$in``: the hashable members (for callers that inline the string case) and the matcher.

    A value is in the list when it equals a member with :func:`~.values.same` semantics (so
    ``True`` is not in ``[1]``); an array attribute is in it when any element is (GrowthBook).
    """
    if not isinstance(operand, list):
        return frozenset(), _never  # GrowthBook: a non-list operand never matches
    members = [normalize_operand(member) for member in operand]
    hashable = frozenset(
        m
        for m in members
        if m is None or (isinstance(m, (str, int, float)) and not isinstance(m, bool))
    )
    has_true = any(m is True for m in members)
    has_false = any(m is False for m in members)
    others = tuple(m for m in members if isinstance(m, (list, Mapping)))

    def member(value: Any) -> bool:
        if isinstance(value, bool):
            return has_true if value else has_false
        if value is None or isinstance(value, (str, int, float)):
            return value in hashable
        if isinstance(value, date):
            return iso_text(value) in hashable
        return any(same(value, other) for other in others)

    has_null = None in hashable

    def is_in(value: Any) -> bool:
        if type(value) is str:
            return value in hashable
        if value is None:
            return has_null
        if isinstance(value, _ARRAY):
            return len(value) <= MAX_ARRAY_ITEMS and any(member(item) for item in value)
        return member(value)

    return hashable, is_in


def _operator(op: str, arg: Any, document: DocumentCompiler) -> Matcher:
    if op == "$eq":
        literal = normalize_operand(arg)
        return lambda value: same(value, literal)
    if op == "$ne":
        literal = normalize_operand(arg)
        return lambda value: not same(value, literal)
    if op in _ORDER:
        return _order(_ORDER[op], normalize_operand(arg))
    if op in _VERSION:
        return _version(_VERSION[op], padded_version(arg))
    if op == "$in":
        return in_matcher(arg)[1]
    if op == "$nin":
        if not isinstance(arg, list):
            return _never
        is_in = in_matcher(arg)[1]
        return lambda value: not is_in(value)
    if op == "$regex":
        return _regex(arg)
    if op == "$exists":
        return _is_null if not arg else lambda value: value is not None
    if op == "$type":
        return lambda value: type_name(value) == arg
    if op == "$not":
        inner = compile_value(arg, document)
        return lambda value: not inner(value)
    if op == "$size":
        return _size(compile_value(arg, document))
    if op == "$elemMatch":
        return _elem_match(arg, document)
    if op == "$all":
        return _all(arg, document)
    return _never  # GrowthBook: an unknown operator never matches


def _order(compare: Callable[[Any, Any], bool], operand: Any) -> Matcher:
    """``$lt $lte $gt $gte`` with JavaScript's mixed-type rules, minus booleans.

    Two strings compare as text; otherwise both sides become numbers (a string by
    :func:`~.values.js_to_number`, null/missing as 0: GrowthBook's ``{age: {$lt: 10}}`` matches
    a context without ``age``). A value that is not a number (``"abc"``, lists, objects) never
    compares. Booleans never compare with numbers or strings (JavaScript would treat them as 1/0).
    """
    text = operand if isinstance(operand, str) else None
    number = js_to_number(operand) if text is not None else operand
    if not isinstance(number, (int, float)) or isinstance(number, bool):
        number = None

    def compare_value(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, date):
            value = iso_text(value)
        if isinstance(value, str):
            if text is not None:
                return compare(value, text)
            as_number = js_to_number(value)
            return as_number is not None and compare(as_number, number)
        if value is None:
            value = 0
        if isinstance(value, (int, float)) and number is not None:
            return compare(value, number)
        return False

    return compare_value


def _version(compare: Callable[[str, str], bool], padded: str) -> Matcher:
    return lambda value: compare(padded_version(value), padded)


def _regex(pattern: Any) -> Matcher:
    """``$regex``: Python's ``re.search`` on string attributes (dates as ISO text); other types
    never match (GrowthBook's JavaScript SDK would stringify numbers; its Python SDK does not).

    A string longer than the pattern's input limit does not match (searching only a part of
    it could match a pattern anchored with ``$`` that the whole value does not), and a pattern
    that can take exponential time never runs (the loader refuses it as ``unsafe-regex``).
    """
    try:
        compiled = re.compile(pattern)
    except (TypeError, re.error, RecursionError, OverflowError, ValueError):
        return _never
    limit = regex_cost(pattern).input_limit
    if not limit:
        return _never

    def search(value: Any) -> bool:
        if isinstance(value, date):
            value = iso_text(value)
        return isinstance(value, str) and len(value) <= limit and bool(compiled.search(value))

    return search


def _size(inner: Matcher) -> Matcher:
    return lambda value: isinstance(value, _ARRAY) and inner(len(value))


def _elem_match(arg: Any, document: DocumentCompiler) -> Matcher:
    """``$elemMatch``: some element matches.

    An operator mapping tests each element's value; any other mapping is a condition on each
    element (elements that are not objects have no attributes). Unlike GrowthBook's JavaScript
    SDK, falsy elements (``0``, ``""``) are tested too, as in its Python SDK.
    """
    if not isinstance(arg, Mapping):
        return _never
    if is_operator_mapping(arg):
        test = compile_value(arg, document)
    else:
        nested = document(arg)

        def test(item: Any) -> bool:
            return nested(item if isinstance(item, Mapping) else {})

    return lambda value: (
        isinstance(value, _ARRAY)
        and len(value) <= MAX_ARRAY_ITEMS
        and any(test(item) for item in value)
    )


def _all(arg: Any, document: DocumentCompiler) -> Matcher:
    """``$all``: an array attribute in which every operand (a literal or an operator mapping)
    matches at least one element. ``{$all: []}`` matches any array."""
    if not isinstance(arg, list):
        return _never
    tests = tuple(compile_value(item, document) for item in arg)

    def has_all(value: Any) -> bool:
        if not isinstance(value, _ARRAY) or len(value) > MAX_ARRAY_ITEMS:
            return False
        return all(any(test(item) for item in value) for test in tests)

    return has_all
