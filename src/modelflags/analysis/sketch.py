"""A mergeable quantile sketch of latencies: counts in logarithmic buckets (DDSketch-style).

Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile sketch with relative-error
guarantees" (VLDB 2019). A positive value ``x`` falls in bucket ``i = ceil(ln(x) / ln(gamma))``
with ``gamma = (1 + a)/(1 - a)`` and the relative accuracy ``a = 0.01``: bucket ``i`` holds
``(gamma^(i-1), gamma^i]``, and its representative ``2 gamma^i / (gamma + 1)`` is within 1%
(relative) of every value in it. Values ``<= 0`` share the ``zero`` bucket (representative 0).
A sketch is a mapping from bucket keys (``"b<i>"``, ``i`` possibly negative, or ``"zero"``) to
counts; two sketches merge by adding the counts of equal keys, exactly, which is how the
aggregate table combines partial tables.

Rank rule (the aggregate table's): the ``q``-quantile of ``N`` values is the representative of
the first bucket whose cumulative count exceeds ``q·(N - 1)``, i.e. of the bucket holding the
order statistic of 0-based rank ``floor(q·(N - 1))`` (numpy's ``method="lower"``). Every quantile
is therefore within 1% of that exact order statistic.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping

from modelflags.analysis.distributions import binomial_quantile

__all__ = [
    "GAMMA",
    "RELATIVE_ACCURACY",
    "ZERO",
    "bucket_index",
    "bucket_key",
    "bucket_value",
    "merge",
    "quantile",
    "quantile_interval",
    "sketch_of",
]

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
ZERO = "zero"
"""The key of the bucket of values ``≤ 0``."""

_LOG_GAMMA = math.log(GAMMA)
_KEY = re.compile(r"b(-?\d+)")
_MAX_INDEX = 40_000  # beyond the buckets of the smallest and largest positive floats
_MAX_EXACT = 2.0**53  # counts above this are no longer exact in a double


def bucket_index(value: float) -> int | None:
    """``ceil(ln(value)/ln gamma)``; None for ``value ≤ 0`` (the ``zero`` bucket) and for a value
    that is not a finite number (it belongs in no bucket)."""
    if not math.isfinite(value) or value <= 0:
        return None
    return math.ceil(math.log(value) / _LOG_GAMMA)


def bucket_key(value: float) -> str | None:
    """The sketch key of ``value``: ``"b<i>"``, ``"zero"`` for ``value ≤ 0``, None when not
    finite."""
    if not math.isfinite(value):
        return None
    index = bucket_index(value)
    return ZERO if index is None else f"b{index}"


def bucket_value(index: int) -> float:
    """The representative ``2 gamma^i / (gamma + 1)`` of bucket ``index``: within 1% of all its
    values (clamped to the largest float for the few indices of values next to it)."""
    try:
        return min(2.0 * GAMMA**index / (GAMMA + 1.0), sys.float_info.max)
    except OverflowError:
        return sys.float_info.max


def sketch_of(values: Iterable[float]) -> dict[str, float]:
    """The sketch of ``values`` (non-finite values are left out)."""
    counts: dict[str, float] = {}
    for value in values:
        key = bucket_key(value)
        if key is not None:
            counts[key] = counts.get(key, 0.0) + 1.0
    return counts


def merge(*sketches: Mapping[str, float]) -> dict[str, float]:
    """The sketch of the union of the sketches' values: counts added key by key."""
    merged: dict[str, float] = {}
    for sketch in sketches:
        for key, count in sketch.items():
            merged[key] = merged.get(key, 0.0) + count
    return merged


def quantile(buckets: Mapping[str, float], q: float) -> float | None:
    """The ``q``-quantile by the rank rule above; None for an empty sketch, ``q`` outside
    [0, 1], or a malformed sketch (an unknown key, a negative or non-finite count)."""
    ordered = _ordered(buckets)
    if ordered is None or not (math.isfinite(q) and 0.0 <= q <= 1.0):
        return None
    total = sum(count for _, count in ordered)
    if total <= 0:
        return None
    threshold = q * (total - 1.0)
    cumulative = 0.0
    for value, count in ordered:
        cumulative += count
        if count > 0 and cumulative > threshold:
            return value
    return ordered[-1][0]  # unreachable with exact counts; guards rounding of fractional ones


def quantile_interval(buckets: Mapping[str, float], q: float) -> tuple[float, float] | None:
    """A distribution-free 95% interval of the ``q``-quantile: order statistics ``X(l) ≤ ξ_q <
    X(u)`` (1-based ranks) with ``l`` the 2.5% quantile of Binomial(N, q) and ``u - 1`` its
    97.5% quantile, so that ``P(l ≤ B ≤ u - 1) ≥ 95%`` for ``B`` ~ Binomial(N, q), the number of
    values ``≤ ξ_q``. Each end is read from the sketch (within 1%).

    None for a malformed or empty sketch, fractional counts (or more than 2^53), ``q`` outside
    [0, 1], or when ``N``
    is too small for 95% at this ``q`` (the ranks would fall outside 1..N: with 10 requests
    nothing bounds the p99 from above).
    """
    ordered = _ordered(buckets)
    if ordered is None or not (math.isfinite(q) and 0.0 <= q <= 1.0):
        return None
    total = sum(count for _, count in ordered)
    if not 0 < total <= _MAX_EXACT or any(count != math.floor(count) for _, count in ordered):
        return None
    n = int(total)
    low_rank = binomial_quantile(0.025, n, q)
    high_rank = binomial_quantile(0.975, n, q) + 1
    if low_rank < 1 or high_rank > n:
        return None
    return (_at_rank(ordered, low_rank), _at_rank(ordered, high_rank))


def _at_rank(ordered: list[tuple[float, float]], rank: int) -> float:
    """The representative of the bucket holding the 1-based ``rank``-th value."""
    cumulative = 0.0
    for value, count in ordered:
        cumulative += count
        if cumulative >= rank:
            return value
    return ordered[-1][0]


def _ordered(buckets: Mapping[str, float]) -> list[tuple[float, float]] | None:
    """(representative, count) in ascending order, or None when a key or count is invalid."""
    parsed: list[tuple[float, float, float]] = []  # (sort key, representative, count)
    for key, count in buckets.items():
        try:
            if not math.isfinite(count) or count < 0:
                return None
        except TypeError:
            return None
        if key == ZERO:
            parsed.append((-math.inf, 0.0, count))
            continue
        match = _KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            return None
        index = int(match.group(1))
        if abs(index) > _MAX_INDEX:
            return None
        parsed.append((index, bucket_value(index), count))
    parsed.sort()
    return [(value, count) for _, value, count in parsed]
