"""Values for people: every number, interval and time a rendering of the report shows.

Rates read as percentages and their differences in percentage points, latencies in ms, costs
with three significant digits, p-values as ``0.031`` or ``<0.001``, times as ``2024-05-01
14:03 UTC (12 min ago)``. Each function reads its value defensively: a missing value, a
null, a NaN, an infinity or a value of the wrong type reads as :data:`NULL` instead of
raising, and control characters in names are shown escaped, so a variation name cannot move
the cursor or recolour a terminal.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

__all__ = [
    "NULL",
    "column_decimals",
    "count",
    "estimate",
    "metric_value",
    "minutes",
    "number",
    "p_clause",
    "p_value",
    "pair",
    "parse_time",
    "percent",
    "ratio",
    "ratio_interval",
    "share",
    "stamp",
    "text",
]

NULL = "—"
"""How a value that is missing or not computable is shown."""

_TIMES = "\u00d7"
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def number(value: Any) -> float | None:
    """A finite number, or None for null, NaN, infinities, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any) -> str:
    """A value as one line of text for people; null is ``—``, control characters escaped."""
    if value is None:
        return NULL
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def pair(value: Any) -> tuple[float | None, float | None]:
    """An interval's ``[low, high]`` as two numbers, each None when it is not one."""
    items = list(value) if isinstance(value, (list, tuple)) else []
    return (number(items[0]), number(items[1])) if len(items) == 2 else (None, None)


def _sig(value: float, digits: int = 3, signed: bool = False) -> str:
    """``digits`` significant digits without an exponent, thousands separated."""
    if value == 0:
        return "0"
    decimals = min(max(digits - 1 - math.floor(math.log10(abs(value))), 0), 10)
    return _fixed(value, decimals, signed)


def _fixed(value: float, decimals: int, signed: bool) -> str:
    return f"{value:{'+' if signed and value else ''},.{decimals}f}"


def count(value: Any) -> str:
    """A count, thousands separated; a fractional one (a weighted count) with one decimal."""
    n = number(value)
    if n is None:
        return NULL
    return f"{n:,.0f}" if abs(n - round(n)) < 1e-9 else f"{n:,.1f}"


def percent(value: Any, signed: bool = False) -> str:
    """A rate as a percentage: one decimal from 1%, two below, two significant digits below
    0.1% (``12.3%``, ``0.31%``, ``0.042%``)."""
    x = number(value)
    if x is None:
        return NULL
    scaled = x * 100
    if abs(scaled) >= 1 or scaled == 0:
        return _fixed(scaled, 1, signed) + "%"
    if abs(scaled) >= 0.1:
        return _fixed(scaled, 2, signed) + "%"
    return _sig(scaled, 2, signed) + "%"


def share(value: Any) -> str:
    """A share of traffic: a whole percentage when it is one (``90%``)."""
    x = number(value)
    if x is None or round(x * 100, 6) != round(x * 100):
        return percent(x)
    return f"{x * 100:.0f}%"


def p_value(value: Any) -> str:
    """A p-value to three decimals, or ``<0.001``."""
    p = number(value)
    if p is None:
        return NULL
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_clause(value: Any) -> str:
    """A p-value as a clause of a sentence: ``p = 0.031``, ``p < 0.001``."""
    shown = p_value(value)
    return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def minutes(value: Any) -> str:
    """A duration in minutes, whole when it is whole (``15 min``, ``2.5 min``)."""
    x = number(value)
    return NULL if x is None else f"{_fixed(x, 0 if x == round(x) else 1, False)} min"


def metric_value(
    kind: str, value: Any, *, signed: bool = False, points: bool = False,
    decimals: int | None = None, unit: bool = True,
) -> str:  # fmt: skip
    """A metric's value in its kind's unit (a rate as a percentage, latency in ms).

    ``kind`` is what ``metric_kind`` says: ``rate``, ``ms``, ``cost`` or ``number``.
    ``signed`` is for a difference, ``points`` for a distance between rates (a margin, a
    minimum effect): both read in percentage points for rates. ``decimals`` fixes the
    precision (of the percentage for rates); by default three significant digits.
    """
    x = number(value)
    if x is None:
        return NULL
    scaled = x * 100 if kind == "rate" else x
    if decimals is not None:
        shown = _fixed(scaled, decimals, signed)
    elif kind == "rate":
        shown = percent(x, signed)[:-1]
    else:
        shown = _sig(scaled, 3, signed)
    if not unit:
        return shown
    suffix = {"rate": " pp" if signed or points else "%", "ms": " ms"}.get(kind, "")
    return shown + suffix


def estimate(kind: str, value: Any, bounds: Any, *, signed: bool = False) -> tuple[str, str]:
    """An estimate and its ``[low, high]`` interval, to the precision the interval allows.

    The number of decimals follows the interval's width (two significant digits of it), so
    a tight interval shows more digits than a wide one and both bounds match the estimate.
    """
    low, high = pair(bounds)
    if low is None or high is None:
        return metric_value(kind, value, signed=signed), NULL
    width = (high - low) * (100 if kind == "rate" else 1)
    decimals = min(max(1 - math.floor(math.log10(width)), 0), 8) if width > 0 else None
    shown = metric_value(kind, value, signed=signed, decimals=decimals)
    low_text, high_text = (
        metric_value(kind, v, signed=signed, decimals=decimals, unit=False) for v in (low, high)
    )
    return shown, f"[{low_text}, {high_text}]"


def column_decimals(values: list[float | None]) -> int | None:
    """Decimals that give the smallest non-zero value of a column three significant digits,
    so the column's decimal points line up."""
    smallest = min((abs(v) for v in values if v), default=None)
    if smallest is None:
        return None
    return min(max(2 - math.floor(math.log10(smallest)), 0), 10)


def ratio(value: Any) -> str:
    """A ratio to the control, two decimals after a multiplication sign (U+00D7)."""
    x = number(value)
    return NULL if x is None else f"{_TIMES}{x:.2f}"


def ratio_interval(bounds: Any) -> str:
    """A ratio's interval: ``[1.02, 1.31]``."""
    low, high = pair(bounds)
    return NULL if low is None or high is None else f"[{low:.2f}, {high:.2f}]"


def stamp(value: Any, now: datetime | None) -> str:
    """An ISO time to the minute, with how long before ``now`` it was (``12 min ago``).

    The age is left out when ``now`` is unknown, is not comparable (one of the two has no
    time zone) or is before the time; a value that is not an ISO time is shown as text.
    """
    when = parse_time(value)
    if when is None:
        return text(value)
    shown = when.strftime("%Y-%m-%d %H:%M") + (" UTC" if when.utcoffset() is not None else "")
    if now is None or (now.tzinfo is None) != (when.tzinfo is None):
        return shown
    elapsed = (now - when).total_seconds() / 60
    if elapsed < 0:
        return shown
    if elapsed < 1:
        return f"{shown} (just now)"
    if elapsed < 120:
        return f"{shown} ({elapsed:.0f} min ago)"
    if elapsed < 2880:
        return f"{shown} ({elapsed / 60:.1f} h ago)"
    return f"{shown} ({elapsed / 1440:.1f} d ago)"


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``Z`` read as UTC), or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
