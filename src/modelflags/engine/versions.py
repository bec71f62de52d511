"""Version strings made comparable as plain strings, the way GrowthBook's ``$v…`` operators do.

``padded_version("1.10.0") > padded_version("1.9.0")`` although ``"1.10.0" < "1.9.0"``:
numeric parts are left-padded with spaces, so string order is version order. This is
GrowthBook's ``paddedVersionString`` algorithm, reproduced exactly so that a condition means
the same here as in every GrowthBook SDK:

1. A number becomes its JavaScript string form (a date, its ISO 8601 form); anything else
   that is not a non-empty string (null, booleans, lists) becomes ``"0"``.
2. A leading ``v`` and any ``+build`` suffix are removed.
3. The rest is split on ``.`` and ``-``: ``"1.2.3-rc.1"`` gives ``1, 2, 3, rc, 1``.
4. Exactly three parts (a release without pre-release tag) get a ``~`` part appended; ``~``
   sorts after letters and digits, so ``1.0.0`` > ``1.0.0-beta`` > ``1.0.0-alpha``.
5. Parts made only of ASCII digits are right-aligned to five characters; all parts are joined
   with ``-``.

Consequences worth knowing (all GrowthBook's): comparison is case-sensitive (``1.0.0-ALPHA``
sorts before ``1.0.0-alpha``); ``1-2-3`` equals ``1.2.3``; numeric parts longer than five
digits compare as text.

One bound of modelflags' own: text longer than :data:`MAX_VERSION_TEXT` characters is not a
version and reads as ``"0"``, like other values that are not versions, so a request value
cannot make a comparison read megabytes. The work is linear in the text's length up to it.
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache

__all__ = ["MAX_VERSION_TEXT", "js_number_text", "padded_version"]

MAX_VERSION_TEXT = 256
"""Longest text read as a version; longer text reads as ``"0"``."""

# GrowthBook strips /^v|\+.*$/ in JavaScript, where "." stops at these line terminators and
# "$" (without the m flag) matches only at the very end.
_LINE_ENDS = "\n\r\u2028\u2029"
_SPLIT = re.compile(r"[-.]")
_DIGITS = re.compile(r"[0-9]+")


def padded_version(value: object) -> str:
    """The padded form of ``value``; compare two of them with ``<``, ``==`` and so on.

    >>> padded_version("v1.2.3+build7")
    '    1-    2-    3-~'
    >>> padded_version("1.0.0-beta") < padded_version("1.0.0")
    True
    """
    if type(value) is str and len(value) <= _CACHED_LENGTH:
        return _padded_cached(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = js_number_text(value)
    elif isinstance(value, date):
        value = value.isoformat()
    if not value or not isinstance(value, str) or len(value) > MAX_VERSION_TEXT:
        value = "0"
    return _pad(value)


def _strip(text: str) -> str:
    """GrowthBook's ``replace(/^v|\\+.*$/g, "")``, in one pass: a leading ``v``, and the first
    ``+`` after the last line terminator with everything after it.

    (The regular expression itself backtracks: each ``+`` before a line terminator scans to
    it, so ``"+" * n + "\\n"`` takes time quadratic in ``n``.)
    """
    if text.startswith("v"):
        text = text[1:]
    last_end = max(text.rfind(end) for end in _LINE_ENDS)
    build = text.find("+", last_end + 1)
    return text if build < 0 else text[:build]


def _pad(text: str) -> str:
    parts = _SPLIT.split(_strip(text))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(part.rjust(5) if _DIGITS.fullmatch(part) else part for part in parts)


# Version attributes take few distinct values (app versions), so a small cache of short
# strings removes the regex work from the request path without letting memory grow unbounded.
_CACHED_LENGTH = 64
_padded_cached = lru_cache(maxsize=4096)(lambda text: _pad(text or "0"))


def js_number_text(number: float) -> str:
    """A number as JavaScript's ``String(n)`` writes it for everyday values (``2.0`` → ``"2"``)."""
    if isinstance(number, float):
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        if number.is_integer() and abs(number) < 1e21:
            return str(int(number))
    return repr(number)
