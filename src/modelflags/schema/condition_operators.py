"""The condition language's vocabulary: which operators exist, and how names read.

Conditions are MongoDB-style mappings with GrowthBook's operator set, for example::

    {plan: {$in: [pro, enterprise]}, email: {$regex: "@example\\.com$"}}
    {$or: [{country: US}, {$segment: beta_testers}]}

The operator sets here are the one list both sides read: the syntax check
(:mod:`modelflags.schema.condition_syntax`) says what each operator takes, and the engine
(:mod:`modelflags.engine.conditions`) gives each its meaning, so the two cannot disagree about
which operators exist. The few rules for reading names (an attribute's dotted path, a key's
place in a document path, the pattern a case-insensitive operator searches with) are here for
the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ALL_OF_OPERATORS",
    "CASE_INSENSITIVE",
    "COMBINATORS",
    "LIST_COMBINATORS",
    "MAX_VERSION_OPERAND",
    "MEMBERSHIP_OPERATORS",
    "OPERATORS",
    "ORDER_OPERATORS",
    "REGEX_OPERATORS",
    "SEGMENT_OPERATORS",
    "TYPE_NAMES",
    "VALUE_OPERATORS",
    "VERSION_OPERATORS",
    "attribute_path",
    "is_operator_mapping",
    "path_key",
    "regex_source",
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

LIST_COMBINATORS = ("$and", "$or", "$nor")
"""Combinators whose operand is a list of conditions."""


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


def path_key(key: object) -> str | int:
    """A mapping's key as a step of an issue's document path (``repr`` when not text or an
    index, so that any key a YAML file can hold is shown)."""
    return key if isinstance(key, (str, int)) else repr(key)
