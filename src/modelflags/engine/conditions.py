"""Conditions compiled to predicates over the context's attributes, with GrowthBook semantics.

A condition is compiled once, when flags load, into nested closures; evaluating it never
re-reads the condition, and never raises: a value of the wrong type simply does not match.

>>> is_paid = compile_condition({"plan": {"$in": ["pro", "enterprise"]}}, {})
>>> is_paid({"plan": "pro"}), is_paid({"plan": "free"}), is_paid({})
(True, False, False)

What a condition means (GrowthBook's rules, see also :mod:`.operators` and :mod:`.values`):

- A mapping's entries must all hold. ``{attr: X}`` tests the attribute; ``user.plan`` reads
  ``attributes["user"]["plan"]`` (only through mappings); a missing attribute is ``None``.
- ``$and`` needs all of its conditions, ``$or`` one of them (an empty ``$or`` holds), ``$nor``
  none of them (an empty ``$nor`` fails: GrowthBook defines it as "not ``$or``"), ``$not``
  inverts one condition.
- ``$segment: NAME`` holds when the named segment does, ``$notSegment: NAME`` when it does not.
  Segments are looked up in ``segments`` when compiling, so compile a segment's dependencies
  first.
- Booleans are not numbers (``{n: 1}`` does not match ``n=True``), ``int`` and ``float`` are one
  type, ``datetime``/``date`` values compare as ISO 8601 text (aware ones in UTC with ``Z``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelflags.engine.membership import in_matcher
from modelflags.engine.operators import Matcher, compile_value
from modelflags.engine.predicates import all_of, always, any_of, never
from modelflags.schema.condition_operators import attribute_path

__all__ = ["Predicate", "compile_condition", "read_path"]

Predicate = Callable[[Mapping[str, Any]], bool]
"""A compiled condition: True when the context attributes match."""

_NO_SEGMENTS: Mapping[str, Predicate] = {}


def compile_condition(raw: Mapping[str, Any], segments: Mapping[str, Predicate]) -> Predicate:
    """Compile ``raw`` (already checked by ``condition_issues``) into a predicate that never raises.

    ``segments`` holds the compiled predicates of the segments ``raw`` may reference.
    """
    if len(raw) == 1:
        ((key, value),) = raw.items()
        fast = _fast_field(key, value, guarded=True)
        if fast is not None:
            return fast
    return all_of(_entries(raw, segments), guarded=True)  # a hostile Mapping: no match


def read_path(attributes: Mapping[str, Any], parts: Sequence[str], missing: Any = None) -> Any:
    """The value a condition on an attribute path reads: ``parts`` of
    :func:`~modelflags.schema.condition_operators.attribute_path`, looked up through mappings only.

    ``missing`` stands for a part that is absent, or a value on the way that is not a mapping
    (lists are not indexed): conditions read it as ``None``, ``explain`` as "not set".

    >>> read_path({"user": {"plan": "pro"}}, ("user", "plan"))
    'pro'
    >>> read_path({"user": 1}, ("user", "plan")) is None
    True
    """
    current: Any = attributes
    for part in parts:
        if type(current) is not dict and not isinstance(current, Mapping):
            return missing
        current = current.get(part, missing)
        if current is missing:
            return missing
    return current


def _fast_field(key: object, value: Any, *, guarded: bool) -> Predicate | None:
    """One closure for the hot shapes ``{attr: "text"}`` and ``{attr: {$in: [...]}}``.

    ``guarded`` closures catch every exception themselves, so they can serve as the root.
    """
    if not isinstance(key, str) or key.startswith("$") or "." in key:
        return None
    if type(value) is str:
        text = value
        other = compile_value(text, _document_without_segments)  # arrays, dates, non-text
        if not guarded:
            return lambda attributes: (
                found == text if type(found := attributes.get(key)) is str else other(found)
            )

        def equals(attributes: Mapping[str, Any]) -> bool:
            try:
                found = attributes.get(key)
                return found == text if type(found) is str else other(found)
            except Exception:
                return False

        return equals
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("$in"), list):
        members, is_in = in_matcher(value["$in"])
        if not guarded:
            return lambda attributes: (
                found in members if type(found := attributes.get(key)) is str else is_in(found)
            )

        def contains(attributes: Mapping[str, Any]) -> bool:
            try:
                found = attributes.get(key)
                return found in members if type(found) is str else is_in(found)
            except Exception:
                return False

        return contains
    if not guarded:
        return None
    matcher = compile_value(value, _document_without_segments)

    def test(attributes: Mapping[str, Any]) -> bool:
        try:
            return matcher(attributes.get(key))
        except Exception:
            return False

    return test


def _entries(raw: Mapping[str, Any], segments: Mapping[str, Predicate]) -> tuple[Predicate, ...]:
    return tuple(
        _fast_field(key, value, guarded=False) or _entry(key, value, segments)
        for key, value in raw.items()
    )


def _document(raw: Mapping[str, Any], segments: Mapping[str, Predicate]) -> Predicate:
    """A condition mapping: every entry must hold."""
    return all_of(_entries(raw, segments))


def _document_without_segments(raw: Mapping[str, Any]) -> Predicate:
    """For ``$elemMatch`` conditions, which test array elements, not the context."""
    return _document(raw, _NO_SEGMENTS)


def _entry(key: str, value: Any, segments: Mapping[str, Predicate]) -> Predicate:
    if key == "$and":
        return all_of(_conditions(value, segments))
    if key == "$or":
        return _either(_conditions(value, segments))
    if key == "$nor":
        either = _either(_conditions(value, segments))
        return lambda attributes: not either(attributes)
    if key == "$not":
        inner = _document(value, segments) if isinstance(value, Mapping) else never
        return lambda attributes: not inner(attributes)
    if key == "$segment":
        return segments.get(value, never) if isinstance(value, str) else never
    if key == "$notSegment":
        segment = segments.get(value, never) if isinstance(value, str) else never
        return lambda attributes: not segment(attributes)
    if not isinstance(key, str) or key.startswith("$"):
        return never  # unknown operators never match (GrowthBook)
    return _attribute(key, compile_value(value, _document_without_segments))


def _conditions(value: Any, segments: Mapping[str, Predicate]) -> tuple[Predicate, ...]:
    if not isinstance(value, list):
        return (never,)
    return tuple(
        _document(item, segments) if isinstance(item, Mapping) else never for item in value
    )


def _either(predicates: tuple[Predicate, ...]) -> Predicate:
    """``$or``: one of the conditions holds; GrowthBook: an empty ``$or`` holds."""
    return any_of(predicates) if predicates else always


def _attribute(path: str, matcher: Matcher) -> Predicate:
    """Read the attribute at a dotted path (through mappings only) and test it."""
    if "." not in path:
        return lambda attributes: matcher(attributes.get(path))
    parts = attribute_path(path)
    return lambda attributes: matcher(read_path(attributes, parts))
