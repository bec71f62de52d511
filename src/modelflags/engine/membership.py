"""Membership: whether a value is in a list (``$in``, ``$ini``), and text equal ignoring case.

``$in`` compares with the typed equality of :mod:`modelflags.engine.values`; GrowthBook's
case-insensitive forms fold text as JavaScript's ``toLowerCase`` does (Python's
``str.lower``), and nothing else. The tests that look at each element of an array look at
arrays of at most :data:`MAX_ARRAY_ITEMS` elements, and text is lowered only when it is no
longer than the longest text it could equal (lowering never shortens text), so no request
value makes them slow.

>>> members, is_in = in_matcher(["US", "UK"], ignore_case=True)
>>> is_in("us"), is_in(["fr", "uk"]), is_in("fr")
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from modelflags.engine.predicates import never
from modelflags.engine.values import iso_text, normalize_operand, same

__all__ = ["ARRAYS", "MAX_ARRAY_ITEMS", "in_matcher", "text_ignoring_case"]

MAX_ARRAY_ITEMS = 1000
"""Longest array whose elements are tested; a longer array has no element that matches."""

ARRAYS = (list, tuple)
"""The types an array attribute comes as."""


def in_matcher(
    operand: Any, *, ignore_case: bool = False
) -> tuple[frozenset[Any], Callable[[Any], bool]]:
    """``$in``: the hashable members (for callers that inline the string case) and the matcher.

    A value is in the list when it equals a member with :func:`~.values.same` semantics (so
    ``True`` is not in ``[1]``); an array attribute is in it when any element is (GrowthBook).
    With ``ignore_case`` (``$ini``), text members and text values compare lowered, as
    GrowthBook's ``toLowerCase`` does; other values compare as under ``$in``. Lowering never
    shortens text, so a value longer than the longest text member equals none unlowered.
    """
    if not isinstance(operand, list):
        return frozenset(), never  # GrowthBook: a non-list operand never matches
    members = [normalize_operand(member) for member in operand]
    if ignore_case:
        members = [m.lower() if isinstance(m, str) else m for m in members]
    hashable = frozenset(
        m
        for m in members
        if m is None or (isinstance(m, (str, int, float)) and not isinstance(m, bool))
    )
    has_true = any(m is True for m in members)
    has_false = any(m is False for m in members)
    others = tuple(m for m in members if isinstance(m, (list, Mapping)))
    longest = max((len(m) for m in hashable if isinstance(m, str)), default=0)

    def has_folded_text(text: str) -> bool:
        return len(text) <= longest and text.lower() in hashable

    has_text: Callable[[str], bool] = has_folded_text if ignore_case else hashable.__contains__

    def member(value: Any) -> bool:
        if isinstance(value, bool):
            return has_true if value else has_false
        if isinstance(value, str):
            return has_text(value)
        if value is None or isinstance(value, (int, float)):
            return value in hashable
        if isinstance(value, date):
            return has_text(iso_text(value))
        return any(same(value, other) for other in others)

    has_null = None in hashable

    def contains(value: Any) -> bool:
        if value is None:
            return has_null
        if isinstance(value, ARRAYS):
            return len(value) <= MAX_ARRAY_ITEMS and any(member(item) for item in value)
        return member(value)

    if ignore_case:
        return hashable, contains

    def is_in(value: Any) -> bool:
        if type(value) is str:  # the common case, inlined
            return value in hashable
        return contains(value)

    return hashable, is_in


def text_ignoring_case(text: str) -> Callable[[Any], bool]:
    """An ``$alli`` text operand: an element that is text (or a date) equal to it ignoring
    case. Lowering never shortens text, so a longer element is not lowered: it differs."""
    lowered = text.lower()
    longest = len(lowered)

    def equals(value: Any) -> bool:
        if isinstance(value, date):
            value = iso_text(value)
        return isinstance(value, str) and len(value) <= longest and value.lower() == lowered

    return equals
