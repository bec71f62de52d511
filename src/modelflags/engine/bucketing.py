"""Deterministic, stateless assignment of units to coverage and to split variations.

Every decision is a function of ``(salt, tag, unit_id)`` only, so it is identical across
processes, machines and languages (``docs/assignment.md`` is the cross-language spec):

* ``u(tag) = (murmur3_x86_32(utf8(f"{salt}/{tag}/{unit_id}"), seed=0) + 0.5) / 2**32``, the hash
  read as an unsigned 32-bit integer, so ``0 < u < 1``.
* Coverage: the unit enters the split when ``u("coverage") < coverage / 100``. Raising coverage
  therefore never removes a unit.
* Split, weighted rendezvous hashing: every variation ``v`` with weight ``w_v > 0`` scores
  ``-ln(u(v)) / w_v`` (an exponential draw with rate ``w_v``) and the lowest score wins; on an
  exact tie the variation declared first wins. ``P(v) = w_v / sum(w)`` exactly, and raising one
  weight only moves units into that variation, lowering it only moves units out.

>>> split = Split("checkout-button", {"control": 90, "candidate": 10})
>>> split.choose("user-42") in {"control", "candidate"}
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import mmh3

__all__ = ["COVERAGE_TAG", "ArmScore", "Split", "in_coverage", "unit_interval"]

_TWO_TO_MINUS_32 = 2.0**-32  # multiplying by it is exact, the same as dividing by 2**32
COVERAGE_TAG = "coverage"
"""The tag of the coverage draw ``u("coverage")``: part of the bucketing contract."""
_hash = mmh3.hash
_log = math.log


def unit_interval(salt: str, tag: str, unit_id: str) -> float:
    """Return ``u(tag)`` for a unit: a uniform draw in the open interval (0, 1).

    Raises ``UnicodeEncodeError`` (a ``ValueError``) when the key is not encodable as UTF-8,
    e.g. a string holding a lone surrogate.
    """
    key = f"{salt}/{tag}/{unit_id}".encode()
    return (mmh3.hash(key, 0, False) + 0.5) * _TWO_TO_MINUS_32


def in_coverage(salt: str, unit_id: str, coverage: float) -> bool:
    """Whether the unit enters the split at ``coverage`` percent (0..100).

    ``100`` (or more) is always ``True`` and ``0`` (or less) always ``False``, without hashing;
    in between the unit is in when ``u("coverage") < coverage / 100``.
    """
    if coverage >= 100:
        return True
    if coverage <= 0:
        return False
    return unit_interval(salt, COVERAGE_TAG, unit_id) < coverage / 100


class ArmScore(NamedTuple):
    """One variation's draw for one unit, as ``explain`` prints it."""

    variation: str
    u: float
    score: float
    """``-ln(u) / weight``; ``math.inf`` for a zero-weight variation, which is never chosen."""


class Split:
    """A weighted split over variations, compiled once per load and then read-only.

    ``weights`` maps variation name to a non-negative, finite weight; its iteration order is the
    declaration order, which breaks exact ties. Zero weights are allowed (the variation is never
    chosen); at least one weight must be positive.
    """

    __slots__ = ("_arms", "_first", "_pair", "_salt", "_weights")

    _salt: str
    _weights: tuple[tuple[str, float], ...]
    _arms: tuple[tuple[str, str, float], ...]
    _pair: tuple[str, str, float, str, str, float] | None
    _first: str

    def __init__(self, salt: str, weights: Mapping[str, int | float]) -> None:
        checked: list[tuple[str, float]] = []
        for name, weight in weights.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise TypeError(f"weight of {name!r} must be a number, got {weight!r}")
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight of {name!r} must be finite and >= 0, got {weight!r}")
            checked.append((name, float(weight)))
        # (name, key prefix, weight) for the variations that can win, in declared order.
        arms = tuple((name, f"{salt}/{name}/", weight) for name, weight in checked if weight > 0)
        for _, prefix, _ in arms:
            prefix.encode()  # a salt with a lone surrogate is refused here, not when hashing
        if not arms:
            raise ValueError("a split needs at least one variation with a positive weight")
        object.__setattr__(self, "_salt", salt)
        object.__setattr__(self, "_weights", tuple(checked))
        object.__setattr__(self, "_arms", arms)
        object.__setattr__(self, "_pair", (*arms[0], *arms[1]) if len(arms) == 2 else None)
        object.__setattr__(self, "_first", arms[0][0])

    @property
    def salt(self) -> str:
        return self._salt

    @property
    def weights(self) -> dict[str, float]:
        """The weights as declared (a fresh dict, in declaration order)."""
        return dict(self._weights)

    def choose(self, unit_id: str) -> str:
        """Return the variation the unit is assigned to (lowest ``-ln(u(v)) / w_v``).

        Raises ``UnicodeEncodeError`` when ``unit_id`` is not encodable as UTF-8.
        """
        # Hot path. mmh3 hashes a str as its UTF-8 bytes, but crashes the process on a lone
        # surrogate: text that is not pure ASCII is encoded first, which raises instead. The
        # score is written as the spec states it (a division by w) so that near-ties round the
        # same way as in other implementations; a strict "<" makes the first declared
        # variation win exact ties (including scores overflowing to inf). Two-arm splits, the
        # common A/B case, skip the loop.
        if not unit_id.isascii():
            unit_id.encode()
        pair = self._pair
        if pair is not None:
            name0, prefix0, weight0, name1, prefix1, weight1 = pair
            score0 = -_log((_hash(prefix0 + unit_id, 0, False) + 0.5) * _TWO_TO_MINUS_32) / weight0
            score1 = -_log((_hash(prefix1 + unit_id, 0, False) + 0.5) * _TWO_TO_MINUS_32) / weight1
            return name1 if score1 < score0 else name0
        best = self._first
        best_score = math.inf
        for name, prefix, weight in self._arms:
            score = -_log((_hash(prefix + unit_id, 0, False) + 0.5) * _TWO_TO_MINUS_32) / weight
            if score < best_score:
                best = name
                best_score = score
        return best

    def scores(self, unit_id: str) -> list[ArmScore]:
        """Every variation's ``u`` and score for the unit, in declaration order.

        ``choose`` returns the first positive-weight entry with the minimum score.
        """
        result = []
        for name, weight in self._weights:
            u = unit_interval(self._salt, name, unit_id)
            score = -math.log(u) / weight if weight > 0 else math.inf
            result.append(ArmScore(name, u, score))
        return result

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Split):
            return NotImplemented
        return self._salt == other._salt and self._weights == other._weights

    def __hash__(self) -> int:
        return hash((self._salt, self._weights))

    def __repr__(self) -> str:
        return f"Split(salt={self._salt!r}, weights={dict(self._weights)!r})"
