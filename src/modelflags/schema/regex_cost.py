"""How long a ``$regex`` search can take, worked out from the pattern alone, once, at load.

Python's ``re`` backtracks: on a hostile value, a search can take time that grows with a
power of the value's length (``a.*b.*c``: the cube) or exponentially (``(a+)+$``: 30
characters, minutes). The value comes from a request, so the pattern must bound it:

- Patterns whose repetitions can split the same text in several ways (a quantified part
  inside a quantifier with nothing between the repetitions to tell them apart, such as
  ``(a+)+``, ``(\\w+\\s?)*``, ``(a|aa)+``) take exponential time: :func:`regex_cost` refuses
  them (``refused`` is true), and the loader reports them as ``unsafe-regex``.
- Every other pattern gets the polynomial ``units * n ** degree`` that bounds its worst-case
  search on ``n`` characters, and ``input_limit``: the longest text of :data:`INPUT_LIMITS`
  whose bound stays within :data:`SEARCH_BUDGET`. A value longer than that never matches
  the pattern. Patterns that do not backtrack get the full :data:`MAX_REGEX_INPUT`.

The bound is an over-estimate built from the parsed pattern (``re``'s own parser): a
character set is approximated by the characters it holds among a probe alphabet (ASCII plus
awkward Unicode cases), and a repetition costs a factor ``n`` only when what follows it can
start with a character it consumes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from modelflags.schema.regex_chars import ANY, NONE, Chars
from modelflags.schema.regex_shapes import (
    REPEATS,
    SCAN_UNITS,
    SINGLE,
    Exponential,
    PatternShape,
    parser,
)

__all__ = [
    "INPUT_LIMITS",
    "MAX_REGEX_INPUT",
    "SEARCH_BUDGET",
    "RegexCost",
    "regex_cost",
]

MAX_REGEX_INPUT = 4096
"""Longest text any ``$regex`` is tried on; a longer value does not match."""

INPUT_LIMITS = (4096, 1024, 256, 64, 16)
"""The input limits a pattern can get, longest first; a pattern needing less is refused."""

SEARCH_BUDGET = 1 << 23
"""Most cost units one search may take (a unit is about 0.1 ns of ``re`` on a 2-core VM)."""

_ATTEMPT_UNITS = 16
"""Starting one attempt of a search at a new position."""
_BACK_UNITS = 128
"""One character given back by a repetition of a single character when what follows does not
start with a literal character: ``re`` then runs a full attempt of the rest at each one
(``\\d+$``); before a literal it skips ahead in a tight loop."""
_GROUP_UNITS = 128
"""One step of a repetition of anything longer (``(?:ab)*``, ``(a|bc)*``), forward or back."""
_BRANCH_UNITS = 16
"""Trying one alternative that does not start with a literal character."""
_SMALL_REPEAT = 16
"""A repetition bounded by at most this many copies counts as that many choices, not ``n``."""

_MIN_LIMIT = INPUT_LIMITS[-1]


@dataclass(frozen=True)
class RegexCost:
    """What one pattern can cost: ``units * n ** degree`` for a search on ``n`` characters."""

    input_limit: int
    """Longest text the pattern is tried on; 0 when it is refused (it never runs)."""
    degree: int
    units: int
    reason: str = ""
    """Why it is refused, or "" (the worst case is then said by ``degree``)."""

    @property
    def refused(self) -> bool:
        """True for patterns that can take exponential time (or too long a polynomial one)."""
        return self.input_limit == 0

    @property
    def limited(self) -> bool:
        """True when the pattern backtracks enough to see less than :data:`MAX_REGEX_INPUT`."""
        return 0 < self.input_limit < MAX_REGEX_INPUT


@lru_cache(maxsize=1024)
def regex_cost(pattern: str) -> RegexCost:
    """The cost of searching with ``pattern`` (which must compile).

    >>> regex_cost("@example\\\\.com$").input_limit
    4096
    >>> regex_cost("a.*b.*c").input_limit, regex_cost("a.*b.*c").degree
    (64, 3)
    >>> regex_cost("^(a+)+$").refused
    True
    """
    try:
        parsed = parser.parse(pattern)
        cost = _Analysis(parsed.state).search(parsed.data)
    except Exponential as exponential:
        return RegexCost(0, 0, 0, str(exponential))
    except (RecursionError, re.error, OverflowError, ValueError, TypeError):
        return RegexCost(0, 0, 0, "it nests too deeply to be checked")
    units = max(1, round(cost.units))
    # d nested scans stop at d ordered positions: about n ** d / d! ways, not n ** d.
    for limit in INPUT_LIMITS:
        if units * limit**cost.degree <= SEARCH_BUDGET * math.factorial(cost.degree):
            return RegexCost(limit, cost.degree, units)
    reason = f"its worst case grows with the input's length to the power {cost.degree}"
    return RegexCost(0, cost.degree, units, reason)


# --- costs and what follows -----------------------------------------------------------------


@dataclass(frozen=True)
class _Cost:
    """At most ``units * n ** degree`` steps."""

    units: float
    degree: int

    def __add__(self, other: _Cost) -> _Cost:
        # n is at least the smallest input limit, so a lower power folds into a higher one
        # at 1/16 of its units per degree between them.
        high, low = (self, other) if self.degree >= other.degree else (other, self)
        folded = low.units / _MIN_LIMIT ** (high.degree - low.degree)
        return _Cost(high.units + folded, high.degree)

    def times_n(self, units: float) -> _Cost:
        return _Cost(self.units * units, self.degree + 1)


_FREE = _Cost(0, 0)
_STEP = _Cost(1, 0)


@dataclass(frozen=True)
class _Tail:
    """The rest of a pattern from some point: what one attempt at it costs, which characters
    it can start with, whether it can match nothing, and whether it always succeeds."""

    cost: _Cost
    first: Chars
    nullable: bool
    accepts: bool
    literal: bool = False
    """Whether it starts with a literal character, which ``re`` finds by a fast scan."""


_ACCEPT = _Tail(_FREE, NONE, True, True)
"""After the end of the whole pattern: a search that gets here has succeeded."""
_END = _Tail(_FREE, NONE, True, False)
"""After the end of a part looked at on its own (a repeated body, a lookaround)."""


class _Analysis(PatternShape):
    """One pass over a parsed pattern, right to left, carrying the tail that follows."""

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self.once = _FREE
        """Work done only by the attempt that succeeds (a repetition the pattern ends with)."""

    def search(self, items: Sequence[Any]) -> _Cost:
        """The cost of ``re.search``: every start position may fail (unless the pattern is
        anchored), and the one that succeeds pays once for what follows a success."""
        attempt = self.sequence(items, _ACCEPT).cost + _Cost(_ATTEMPT_UNITS, 0)
        flat = self.flatten(items)
        if flat and flat[0][0].name == "AT" and self.anchors(flat[0][1].name):
            return attempt + self.once
        return attempt.times_n(1) + self.once

    def anchors(self, at: str) -> bool:
        return at == "AT_BEGINNING_STRING" or (
            at == "AT_BEGINNING" and not self.flags & re.MULTILINE
        )

    # -- the pass --------------------------------------------------------------------------

    def sequence(self, items: Sequence[Any], tail: _Tail) -> _Tail:
        for op, av in reversed(items):
            tail = self.item(op.name, av, tail)
        return tail

    def item(self, name: str, av: Any, tail: _Tail) -> _Tail:
        if name in SINGLE:
            literal = name == "LITERAL" and not self.flags & re.IGNORECASE
            return _Tail(tail.cost + _STEP, self.item_chars(name, av), False, False, literal)
        if name == "AT":
            return _Tail(tail.cost, tail.first, tail.nullable, False)
        if name == "SUBPATTERN":
            if av[0] is not None:  # a capturing group marks its ends: `re` sees no literal
                inside = replace(tail, literal=False)
                inner: _Tail = self.scoped(av[1], av[2], lambda: self.sequence(av[3], inside))
                return replace(inner, literal=False)
            result: _Tail = self.scoped(av[1], av[2], lambda: self.sequence(av[3], tail))
            return result
        if name in ("BRANCH", "GROUPREF_EXISTS"):
            return self.alternatives(name, av, tail)
        if name in ("ASSERT", "ASSERT_NOT"):
            inner = self.sequence(av[1], _END)
            return _Tail(tail.cost + inner.cost, tail.first, tail.nullable, False)
        if name == "ATOMIC_GROUP":
            inner = self.sequence(av, _END)
            first = inner.first | tail.first if inner.nullable else inner.first
            return _Tail(inner.cost + tail.cost, first, inner.nullable and tail.nullable, False)
        if name == "GROUPREF":  # compares up to n characters with what a group matched
            return _Tail(tail.cost + _Cost(SCAN_UNITS, 1), ANY, True, False)
        if name in REPEATS:
            return self.repeat(name, av, tail)
        raise Exponential(f"it uses {name}, which this check does not know")

    def alternatives(self, name: str, av: Any, tail: _Tail) -> _Tail:
        cost, first, nullable, accepts = _STEP, NONE, False, False
        after = replace(tail, literal=False)  # each alternative ends with a jump past the rest
        for branch in self.branches(name, av):
            result = self.sequence(branch, after)
            cost = cost + result.cost + (_STEP if result.literal else _Cost(_BRANCH_UNITS, 0))
            first = first | result.first
            nullable = nullable or result.nullable
            accepts = accepts or result.accepts
        return _Tail(cost, first, nullable, accepts)

    def repeat(self, name: str, av: Any, tail: _Tail) -> _Tail:
        low, high, body = av
        alone = self.sequence(body, _END)
        optional = low == 0 or alone.nullable
        first = alone.first | tail.first if optional else alone.first
        nullable = optional and tail.nullable
        single = len(body) == 1 and body[0][0].name in SINGLE
        if high <= 1:  # `x?`: the tail is tried after the body, and without it
            cost = self.sequence(body, replace(tail, literal=False)).cost
            if low == 0:
                units = 1 if tail.literal else _BACK_UNITS if single else _GROUP_UNITS
                cost = cost + _Cost(units, 0)
                if alone.first.overlaps(tail.first):
                    cost = cost + tail.cost
            return _Tail(cost, first, nullable, False)
        if high <= _SMALL_REPEAT and self.fixed(body):  # `\d{2,4}`: a few ways, each tried once
            after = tail.cost
            if alone.first.overlaps(tail.first):
                after = _Cost(after.units * (high - low + 1), after.degree)
            back = (high - low) * (1 if tail.literal or tail.accepts else _BACK_UNITS)
            return _Tail(_Cost(high * alone.cost.units + back, 0) + after, first, nullable, False)
        if name != "POSSESSIVE_REPEAT":
            self.check_unambiguous(body)
        step = _Cost(self.step_units(body) if single else _GROUP_UNITS, 1)
        # The repetitions consume at most n characters between them, so their costs add up
        # to one pass, unless a lookaround in the body reads ahead at every repetition.
        if alone.cost.degree == 0 or self.has_lookaround(body):
            scan = step + alone.cost.times_n(1)
        else:
            scan = step + alone.cost
        if tail.accepts:  # the pattern ends here: once past `low` repetitions, it succeeds
            self.once = self.once + scan
            return _Tail(alone.cost if low <= 1 else scan, first, nullable, False)
        if name == "POSSESSIVE_REPEAT":
            return _Tail(scan + tail.cost, first, nullable, False)
        back = step
        if single and not tail.literal:
            back = _Cost(_BACK_UNITS, 1)
        if self.chars(body).overlaps(tail.first):  # the tail is tried at every step back
            cost = scan + back + (tail.cost + _Cost(_ATTEMPT_UNITS, 0)).times_n(1)
        else:  # each attempt of the tail fails at once: it cannot start with what was given
            cost = scan + back + tail.cost
        return _Tail(cost, first, nullable, False)
