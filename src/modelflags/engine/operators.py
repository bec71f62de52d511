"""Value matchers: what ``{attr: <this part>}`` of a condition means, compiled to a closure.

:func:`compile_value` turns the right-hand side of an attribute test (a literal or an operator
mapping such as ``{$gt: 5, $lt: 10}``) into a function of the attribute's value. Everything
that can be worked out from the condition alone is done here, once: ``$in`` lists become
frozensets, regexes are compiled, version operands padded, dates turned into text.

The semantics are GrowthBook's (``docs/lib/build-your-own`` and the cross-SDK ``cases.json``),
with the JSON typing of :mod:`modelflags.engine.values`. Where GrowthBook's SDKs are loose or
disagree, the choice made here is noted at the operator.

GrowthBook's case-insensitive forms (``$regexi``, ``$notRegexi``, ``$ini``, ``$nini``,
``$alli``) compare text as JavaScript's ``toLowerCase`` does (Python's ``str.lower``), and
``$notRegex``/``$notRegexi`` are ``$not`` of ``$regex``/``$regexi``, as GrowthBook defines them.

Attribute values come from requests, so no value may make a test slow, whatever its size:
a regular expression sees at most its pattern's input limit
(:mod:`modelflags.schema.regex_cost`), numbers and versions are read from at most 256
characters, text is lowered only when it is no longer than the longest text it could equal,
and the tests that look at each element of an array (``{tags: beta}``, ``$in``, ``$nin``,
``$all``, ``$elemMatch`` and the case-insensitive forms) look at arrays of at most
:data:`MAX_ARRAY_ITEMS` elements: a longer array has no element that matches. Everything else
is constant time or bounded by the condition's own size.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from modelflags.engine.membership import ARRAYS, MAX_ARRAY_ITEMS, in_matcher, text_ignoring_case
from modelflags.engine.predicates import all_of, never
from modelflags.engine.values import iso_text, js_to_number, normalize_operand, same, type_name
from modelflags.engine.versions import padded_version
from modelflags.schema.condition_operators import (
    ALL_OF_OPERATORS,
    CASE_INSENSITIVE,
    REGEX_OPERATORS,
    is_operator_mapping,
    regex_source,
)
from modelflags.schema.regex_cost import regex_cost

__all__ = ["MAX_ARRAY_ITEMS", "DocumentCompiler", "Matcher", "compile_value", "in_matcher"]

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
_NEGATIONS = {"$nin": "$in", "$nini": "$ini", "$notRegex": "$regex", "$notRegexi": "$regexi"}
"""Operators that hold exactly where another one does not."""


def compile_value(condition: Any, document: DocumentCompiler) -> Matcher:
    """The matcher for ``condition``: an operator mapping, or a literal to compare with.

    An empty operator mapping tests nothing and always matches (GrowthBook).
    """
    if isinstance(condition, Mapping) and is_operator_mapping(condition):
        return all_of([_operator(op, arg, document) for op, arg in condition.items()])
    return equality_matcher(normalize_operand(condition))


def equality_matcher(literal: Any) -> Matcher:
    """``{attr: literal}``: typed, deep equality.

    A scalar literal also matches an array attribute that contains it (MongoDB's rule, which
    GrowthBook's JavaScript SDK approximates by comparing ``String(["x"])`` with ``"x"``):
    ``{tags: beta}`` matches ``tags: [beta, internal]``. A ``null`` literal matches only a null
    or missing attribute; a list or mapping literal matches only an equal list or mapping.
    """
    if literal is None:
        return _is_null
    if isinstance(literal, (ARRAYS, Mapping)):
        return lambda value: same(value, literal)
    if type(literal) is str:

        def equals_text(value: Any) -> bool:
            if type(value) is str:
                return value == literal
            if isinstance(value, ARRAYS):
                return len(value) <= MAX_ARRAY_ITEMS and any(same(i, literal) for i in value)
            return same(value, literal)

        return equals_text

    def equals_scalar(value: Any) -> bool:
        if isinstance(value, ARRAYS):
            return len(value) <= MAX_ARRAY_ITEMS and any(same(i, literal) for i in value)
        return same(value, literal)

    return equals_scalar


def _is_null(value: Any) -> bool:
    return value is None


def _operator(op: str, arg: Any, document: DocumentCompiler) -> Matcher:
    if op in _NEGATIONS:
        if op in ("$nin", "$nini") and not isinstance(arg, list):
            return never  # GrowthBook: a non-list operand never matches, negated or not
        positive = _operator(_NEGATIONS[op], arg, document)
        return lambda value: not positive(value)
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
    if op == "$ini":
        return in_matcher(arg, ignore_case=True)[1]
    if op in REGEX_OPERATORS:
        return _regex(regex_source(op, arg)) if isinstance(arg, str) else never
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
    if op in ALL_OF_OPERATORS:
        return _all(arg, document, ignore_case=op in CASE_INSENSITIVE)
    return never  # GrowthBook: an unknown operator never matches


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


def _regex(pattern: str) -> Matcher:
    """``$regex`` (and ``$regexi``, whose pattern starts with ``(?i)``): Python's ``re.search``
    on string attributes (dates as ISO text); other types never match (GrowthBook's JavaScript
    SDK would stringify numbers; its Python SDK does not).

    A string longer than the pattern's input limit does not match (searching only a part of
    it could match a pattern anchored with ``$`` that the whole value does not), and a pattern
    that can take exponential time never runs (the loader refuses it as ``unsafe-regex``).
    """
    try:
        compiled = re.compile(pattern)
    except (TypeError, re.error, RecursionError, OverflowError, ValueError):
        return never
    limit = regex_cost(pattern).input_limit
    if not limit:
        return never

    def search(value: Any) -> bool:
        if isinstance(value, date):
            value = iso_text(value)
        return isinstance(value, str) and len(value) <= limit and bool(compiled.search(value))

    return search


def _size(inner: Matcher) -> Matcher:
    return lambda value: isinstance(value, ARRAYS) and inner(len(value))


def _elem_match(arg: Any, document: DocumentCompiler) -> Matcher:
    """``$elemMatch``: some element matches.

    An operator mapping tests each element's value; any other mapping is a condition on each
    element (elements that are not objects have no attributes). Unlike GrowthBook's JavaScript
    SDK, falsy elements (``0``, ``""``) are tested too, as in its Python SDK.
    """
    if not isinstance(arg, Mapping):
        return never
    if is_operator_mapping(arg):
        test = compile_value(arg, document)
    else:
        nested = document(arg)

        def test(item: Any) -> bool:
            return nested(item if isinstance(item, Mapping) else {})

    return lambda value: (
        isinstance(value, ARRAYS)
        and len(value) <= MAX_ARRAY_ITEMS
        and any(test(item) for item in value)
    )


def _all(arg: Any, document: DocumentCompiler, *, ignore_case: bool) -> Matcher:
    """``$all``: an array attribute in which every operand (a literal or an operator mapping)
    matches at least one element. ``{$all: []}`` matches any array.

    ``$alli`` (``ignore_case``) compares text operands with text elements ignoring case;
    its other operands test elements as under ``$all`` (GrowthBook).
    """
    if not isinstance(arg, list):
        return never
    tests = tuple(
        text_ignoring_case(item) if ignore_case and type(item) is str
        else compile_value(item, document)
        for item in arg
    )  # fmt: skip

    def has_all(value: Any) -> bool:
        if not isinstance(value, ARRAYS) or len(value) > MAX_ARRAY_ITEMS:
            return False
        return all(any(test(item) for item in value) for test in tests)

    return has_all
