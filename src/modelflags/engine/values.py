"""How condition operands and attribute values compare: JSON types, as GrowthBook sees them.

Attribute values are Python objects, but GrowthBook's semantics are JavaScript's JSON types,
so this module decides, once, what each Python value *is*:

- ``bool`` is a boolean and never a number: ``True`` does not equal ``1`` and is not ``> 0``
  (Python would say otherwise).
- ``int`` and ``float`` are one number type: ``1 == 1.0``.
- ``datetime`` and ``date`` are their ISO 8601 text (aware datetimes in UTC with a ``Z``:
  ``2026-11-01T00:00:00Z``), so they compare with string operands the way GrowthBook compares
  date strings. YAML dates in conditions are converted the same way when compiled.
- ``list`` and ``tuple`` are arrays, any ``Mapping`` an object (compared by content, not by
  key order), ``None`` and a missing attribute are both null.
- Anything else (a ``Decimal``, an object) has type ``unknown`` and equals nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

__all__ = [
    "MAX_NUMBER_TEXT",
    "iso_text",
    "js_to_number",
    "normalize_operand",
    "same",
    "type_name",
]


def iso_text(value: date) -> str:
    """ISO 8601 text of a date or datetime; aware datetimes in UTC with a ``Z`` suffix."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


def normalize_operand(value: Any) -> Any:
    """A condition operand in the form :func:`same` expects: dates as text, tuples as lists."""
    if isinstance(value, date):
        return iso_text(value)
    if isinstance(value, (list, tuple)):
        return [normalize_operand(item) for item in value]
    if isinstance(value, Mapping):
        return {key: normalize_operand(item) for key, item in value.items()}
    return value


def same(value: Any, operand: Any) -> bool:
    """Deep, typed equality of an attribute value with a normalized operand.

    Booleans equal only booleans; numbers only numbers; objects match key for key.
    """
    if isinstance(operand, bool) or isinstance(value, bool):
        return value is operand
    if isinstance(operand, str):
        if isinstance(value, date):
            value = iso_text(value)
        return isinstance(value, str) and value == operand
    if isinstance(operand, (int, float)):
        return isinstance(value, (int, float)) and value == operand
    if operand is None:
        return value is None
    if isinstance(operand, list):
        return (
            isinstance(value, (list, tuple))
            and len(value) == len(operand)
            and all(same(v, o) for v, o in zip(value, operand, strict=True))
        )
    if isinstance(operand, Mapping):
        return (
            isinstance(value, Mapping)
            and len(value) == len(operand)
            and all(key in value and same(value[key], o) for key, o in operand.items())
        )
    return False


def type_name(value: Any) -> str:
    """GrowthBook's ``$type`` name for a value: string, number, boolean, array, object, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (str, date)):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


MAX_NUMBER_TEXT = 256
"""Longest text read as a number; longer text is not a number (like ``"abc"``)."""

# Unambiguous, so matching is linear in the text's length: `[0-9]+\.?[0-9]*` could split a
# run of digits in n ways, and a failing match would try every one of them.
_JS_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Infinity")
_JS_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_RADIX = {"x": 16, "o": 8, "b": 2}


def js_to_number(text: str) -> float | None:
    """JavaScript's ``Number(text)``, with ``None`` for ``NaN``.

    GrowthBook's ``$lt``/``$gt`` compare a string with a number this way, so ``"8" > 5`` holds,
    ``"" < 5`` holds (``Number("") == 0``) and ``"abc"`` compares false with every number.
    Text longer than :data:`MAX_NUMBER_TEXT` characters is not a number, so a request value
    cannot make the comparison read megabytes.
    """
    if len(text) > MAX_NUMBER_TEXT:
        return None
    text = text.strip()
    if not text:
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        number = float(text.replace("Infinity", "inf"))
        return None if math.isnan(number) else number
    match = _JS_RADIX.fullmatch(text)
    if match:
        digits = match.group(1)
        try:
            return float(int(digits[1:], _RADIX[digits[0].lower()]))
        except OverflowError:
            return math.inf
    return None
