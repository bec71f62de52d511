"""Character sets of a regular expression, over-approximated so that overlap is decidable.

The cost check of :mod:`modelflags.schema.regex_cost` asks one question of character sets:
can these two parts of a pattern consume a common character? A set is kept as the characters
it holds among a probe alphabet (ASCII and the Unicode cases that trip ``re`` up: case folds
such as the Kelvin sign, non-ASCII digits and spaces), the other literal characters it holds,
and which of four regions of all remaining characters (digits, other word characters, spaces,
the rest: what ``\\d``, ``\\w`` and ``\\s`` tell apart) it may reach. Two sets that share
nothing there share no character at all; the converse may fail, which only makes the check
more careful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ANY", "CATEGORIES", "NONE", "PROBES", "REGIONS", "Chars", "literal", "span"]

PROBES = frozenset(
    [chr(i) for i in range(128)]
    + list("\x85\xa0\xb5\xe9\xdf\u0130\u0131\u017f\u212a\u212b\u1e9e\u03c3\u03c2\u4e2d\u0663")
    + ["\u2028", "\u3000", "\U0001d7d8", "\ufb01", "\uffff"]
)
"""Characters tested one by one: ASCII and the Unicode cases that trip up ``re``."""

REGIONS = frozenset({"digit", "word", "space", "other"})
"""The other characters, in the four kinds ``\\d``, ``\\w`` and ``\\s`` tell apart."""


def _region(char: str) -> str:
    if re.fullmatch(r"\d", char):
        return "digit"
    if re.fullmatch(r"\w", char):
        return "word"
    return "space" if re.fullmatch(r"\s", char) else "other"


CATEGORIES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    name: (frozenset(c for c in PROBES if re.fullmatch(regex, c)), frozenset(regions))
    for name, regex, regions in (
        ("CATEGORY_DIGIT", r"\d", {"digit"}),
        ("CATEGORY_NOT_DIGIT", r"\D", {"word", "space", "other"}),
        ("CATEGORY_SPACE", r"\s", {"space"}),
        ("CATEGORY_NOT_SPACE", r"\S", {"digit", "word", "other"}),
        ("CATEGORY_WORD", r"\w", {"digit", "word"}),
        ("CATEGORY_NOT_WORD", r"\W", {"space", "other"}),
    )
}


@dataclass(frozen=True)
class Chars:
    """A superset of the characters something can consume: probe characters, other literal
    characters, and regions of all other characters."""

    probes: frozenset[str] = frozenset()
    extra: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def overlaps(self, other: Chars) -> bool:
        return bool(
            self.probes & other.probes
            or self.extra & other.extra
            or self.regions & other.regions
            or any(_region(c) in other.regions for c in self.extra)
            or any(_region(c) in self.regions for c in other.extra)
        )

    def __or__(self, other: Chars) -> Chars:
        return Chars(
            self.probes | other.probes, self.extra | other.extra, self.regions | other.regions
        )


NONE = Chars()
ANY = Chars(PROBES, frozenset(), REGIONS)


def _variants(char: str, ignore_case: bool) -> set[str]:
    if not ignore_case:
        return {char}
    found = {char, char.lower(), char.upper(), char.swapcase(), char.casefold()}
    found |= {c for c in PROBES if c.lower() == char.lower() or c.upper() == char.upper()}
    return {c for c in found if len(c) == 1}


def literal(code: int, ignore_case: bool) -> Chars:
    chars = _variants(chr(code), ignore_case)
    return Chars(frozenset(chars & PROBES), frozenset(chars - PROBES))


def span(low: int, high: int, ignore_case: bool) -> Chars:
    probes = {c for c in PROBES if low <= ord(c) <= high}
    if ignore_case:
        probes |= {c for c in PROBES if any(low <= ord(v) <= high for v in _variants(c, True))}
    beyond = high >= 128 or (ignore_case and any(c.isalpha() for c in probes))
    return Chars(frozenset(probes), frozenset(), REGIONS if beyond else frozenset())
