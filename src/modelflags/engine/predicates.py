"""The closures compiled conditions are built from: constants and all-of / any-of.

Both kinds of compiled test use them: predicates over the context's attributes
(:mod:`.conditions`) and matchers of one attribute value (:mod:`.operators`). Each combinator
returns the only test when there is one, so a condition pays for a level of nesting only when
it has one.

>>> is_small = all_of((lambda n: n > 0, lambda n: n < 10))
>>> is_small(5), is_small(50), all_of(())(50), any_of(())(50)
(True, False, True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["all_of", "always", "any_of", "never"]

T = TypeVar("T")


def always(value: Any) -> bool:
    """A test that holds for anything (an empty condition, an empty ``$or``)."""
    return True


def never(value: Any) -> bool:
    """A test that holds for nothing (an unknown operator, an operand of the wrong type)."""
    return False


def all_of(tests: Sequence[Callable[[T], bool]], *, guarded: bool = False) -> Callable[[T], bool]:
    """A test that holds when every one of ``tests`` does (all of none: always).

    ``guarded`` makes the test catch every exception and fail instead, as the root of a
    compiled condition must: a hostile Mapping or value never raises out of an evaluation.
    """
    checks = tuple(tests)
    if not guarded:
        if not checks:
            return always
        if len(checks) == 1:
            return checks[0]

        def every(value: T) -> bool:
            for check in checks:  # noqa: SIM110 - a loop is cheaper than all() over a generator
                if not check(value):
                    return False
            return True

        return every

    def every_guarded(value: T) -> bool:
        try:
            for check in checks:  # noqa: SIM110 - a loop is cheaper than all() over a generator
                if not check(value):
                    return False
            return True
        except Exception:
            return False

    return every_guarded


def any_of(tests: Sequence[Callable[[T], bool]]) -> Callable[[T], bool]:
    """A test that holds when one of ``tests`` does (any of none: never)."""
    checks = tuple(tests)
    if not checks:
        return never
    if len(checks) == 1:
        return checks[0]

    def some(value: T) -> bool:
        for check in checks:  # noqa: SIM110 - a loop is cheaper than any() over a generator
            if check(value):
                return True
        return False

    return some
