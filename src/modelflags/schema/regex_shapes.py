"""The structure of a parsed regular expression: what its parts consume and how they repeat.

:class:`PatternShape` reads the tree of ``re``'s own parser (``re._parser``, ``sre_parse``
before Python 3.11) for :mod:`modelflags.schema.regex_cost`: the characters a part can
consume, its width, the scoped flags, and the shapes that make a repetition ambiguous, the
cause of exponential backtracking. An ambiguous repetition raises :class:`Exponential`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from modelflags.schema.regex_chars import (
    ANY,
    CATEGORIES,
    NONE,
    PROBES,
    REGIONS,
    Chars,
    literal,
    span,
)

__all__ = ["REPEATS", "SCAN_UNITS", "SINGLE", "Exponential", "PatternShape", "parser"]

parser: Any = importlib.import_module("re._parser" if hasattr(re, "_parser") else "sre_parse")
"""``re``'s parser module: ``parser.parse(pattern)`` gives the tree this module reads."""

SINGLE = frozenset({"LITERAL", "NOT_LITERAL", "IN", "ANY"})
"""Items that consume exactly one character."""
REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})

SCAN_UNITS = 2
"""One step of a repetition of one literal or any character (``.*``): ``re``'s tight loop."""
_SET_UNITS = 12
"""One step of a repetition of a set of characters (``[a-z]+``)."""
_CLASS_UNITS = 64
"""One step of a repetition of a set with a Unicode class (``\\w+``, ``[\\d.]*``)."""


class Exponential(Exception):
    """The pattern can take exponential time; the message says why."""


class PatternShape:
    """Questions about the parts of one parsed pattern, under the flags in force."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.flags: int = state.flags

    def flatten(self, items: Sequence[Any]) -> list[tuple[Any, Any]]:
        """The items with plain groups opened up (their contents match the same way)."""
        flat: list[tuple[Any, Any]] = []
        for op, av in items:
            if op.name == "SUBPATTERN" and not av[1] and not av[2]:
                flat.extend(self.flatten(av[3]))
            else:
                flat.append((op, av))
        return flat

    def width(self, items: Sequence[Any]) -> tuple[int, int]:
        """The fewest and most characters ``items`` can match (``re``'s own reckoning)."""
        low, high = parser.SubPattern(self.state, list(items)).getwidth()
        return int(low), int(high)

    def chars(self, items: Sequence[Any]) -> Chars:
        """Every character ``items`` can consume."""
        found = NONE
        for op, av in items:
            found = found | self.item_chars(op.name, av)
        return found

    def item_chars(self, name: str, av: Any) -> Chars:
        ignore_case = bool(self.flags & re.IGNORECASE)
        if name == "LITERAL":
            return literal(av, ignore_case)
        if name == "ANY" and not self.flags & re.DOTALL:
            return Chars(PROBES - {"\n"}, frozenset(), REGIONS)
        if name in ("NOT_LITERAL", "ANY", "GROUPREF"):
            return ANY
        if name == "IN":
            return self.charset(av)
        if name in REPEATS:
            return self.chars(av[2])
        if name == "SUBPATTERN":
            found: Chars = self.scoped(av[1], av[2], lambda: self.chars(av[3]))
            return found
        if name in ("BRANCH", "GROUPREF_EXISTS"):
            return self.chars([item for branch in self.branches(name, av) for item in branch])
        if name == "ATOMIC_GROUP":
            return self.chars(av)
        return NONE  # AT, ASSERT, ASSERT_NOT consume nothing

    def charset(self, items: Sequence[Any]) -> Chars:
        ignore_case = bool(self.flags & re.IGNORECASE)
        found = NONE
        covered: frozenset[str] = frozenset()  # regions a category holds whole
        negate = False
        for op, av in items:
            name = op.name
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                found = found | literal(av, ignore_case)
            elif name == "RANGE":
                found = found | span(av[0], av[1], ignore_case)
            elif name == "CATEGORY":
                probes, regions = CATEGORIES.get(av.name, (PROBES, REGIONS))
                found = found | Chars(probes, frozenset(), regions)
                covered |= regions
            else:  # anything this reading does not know: any character
                return ANY
        if negate:
            return Chars(PROBES - found.probes, frozenset(), REGIONS - covered)
        return found

    def branches(self, name: str, av: Any) -> list[Sequence[Any]]:
        if name == "BRANCH":
            return list(av[1])
        return [av[1], av[2] if av[2] is not None else []]

    def scoped(self, add: int, remove: int, run: Callable[[], Any]) -> Any:
        saved = self.flags
        self.flags = (self.flags | add) & ~remove
        try:
            return run()
        finally:
            self.flags = saved

    def step_units(self, body: Sequence[Any]) -> int:
        """What one step of a repetition of a single character costs ``re``."""
        op, av = body[0]
        if op.name != "IN":
            return SCAN_UNITS
        if any(item.name == "CATEGORY" for item, _ in av):
            return _CLASS_UNITS
        return _SET_UNITS

    def fixed(self, items: Sequence[Any]) -> bool:
        """Whether ``items`` match in one way only: characters, anchors and plain groups."""
        for op, av in items:
            name = op.name
            if name == "SUBPATTERN":
                if not self.fixed(av[3]):
                    return False
            elif name not in SINGLE and name != "AT":
                return False
        return True

    def has_lookaround(self, items: Sequence[Any]) -> bool:
        return any(
            op.name in ("ASSERT", "ASSERT_NOT")
            or any(self.has_lookaround(part) for part in self.parts(op.name, av))
            for op, av in items
        )

    def check_unambiguous(self, body: Sequence[Any]) -> None:
        """Refuse a repeated body that can split one text into repetitions in several ways.

        Each part of the body that can match texts of different lengths (a repetition, an
        optional part, alternatives of different lengths or with a common first character)
        must be pinned by a required part that cannot match any of its characters. Otherwise
        ``n`` characters split into repetitions in exponentially many ways, and ``re`` tries
        every one of them before a search fails.
        """
        if self.matches_empty_twice(body):
            raise Exponential(
                "alternatives in a repeated part can both match nothing, so a failing search "
                "tries exponentially many ways to match the same text"
            )
        flat = self.flatten(body)
        for i, (op, av) in enumerate(flat):
            if not self.variable(op.name, av):
                continue
            chars = self.item_chars(op.name, av)
            if not any(
                j != i
                and self.width([other])[0] >= 1
                and not self.item_chars(other[0].name, other[1]).overlaps(chars)
                for j, other in enumerate(flat)
            ):
                raise Exponential(
                    "a repeated part can match the same text as the repetition around it, "
                    "so a failing search tries exponentially many ways to split the text"
                )

    def matches_empty_twice(self, items: Sequence[Any]) -> bool:
        """Whether some alternatives inside ``items`` have two branches that match nothing."""
        for op, av in items:
            name = op.name
            if name in ("BRANCH", "GROUPREF_EXISTS"):
                branches = self.branches(name, av)
                if sum(self.width(branch)[0] == 0 for branch in branches) >= 2:
                    return True
            if any(self.matches_empty_twice(part) for part in self.parts(name, av)):
                return True
        return False

    def parts(self, name: str, av: Any) -> list[Sequence[Any]]:
        """The sequences inside an item: a group's, a repetition's body, the alternatives."""
        if name == "SUBPATTERN":
            return [av[3]]
        if name in REPEATS:
            return [av[2]]
        if name in ("BRANCH", "GROUPREF_EXISTS"):
            return self.branches(name, av)
        if name in ("ASSERT", "ASSERT_NOT"):
            return [av[1]]
        return [av] if name == "ATOMIC_GROUP" else []

    def variable(self, name: str, av: Any) -> bool:
        """Whether an item can match texts of different lengths, or one text in two ways."""
        if name in REPEATS:
            return name != "POSSESSIVE_REPEAT" and (av[0] != av[1] or not self.fixed(av[2]))
        if name in ("BRANCH", "GROUPREF_EXISTS"):
            branches = self.branches(name, av)
            if not all(self.fixed(branch) for branch in branches):
                return True
            if len({self.width(branch) for branch in branches}) > 1:
                return True
            firsts = [self.chars(branch[:1]) for branch in branches]
            return any(a.overlaps(b) for i, a in enumerate(firsts) for b in firsts[i + 1 :])
        if name == "SUBPATTERN":
            return any(self.variable(op.name, sub) for op, sub in self.flatten(av[3]))
        return False
