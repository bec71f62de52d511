"""Values as the report's JSON holds them: finite numbers or null, RFC 3339 UTC times.

JSON has no NaN or infinity, and the report is a public contract read by other programs, so
every number passes through :func:`finite` on its way in: a statistic that cannot be
computed is ``null`` (with a reason next to it), never ``NaN``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

__all__ = ["count", "finite", "interval", "rfc3339", "share"]


def finite(value: float | None) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def count(value: float | None) -> int | float | None:
    """A count as JSON shows it: a whole number as an integer (``9000``, not ``9000.0``);
    a fractional one (a warehouse table may hold weighted counts) stays a float."""
    number = finite(value)
    if number is None:
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def interval(bounds: Sequence[float] | None) -> list[float] | None:
    """A 95% interval as ``[lo, hi]``, or ``None`` unless both bounds are finite."""
    if bounds is None or len(bounds) != 2:
        return None
    lo, hi = finite(bounds[0]), finite(bounds[1])
    return None if lo is None or hi is None else [lo, hi]


def share(part: float, whole: float) -> float | None:
    """``part / whole``, or ``None`` when ``whole`` is zero (nothing to divide by)."""
    return finite(part / whole) if whole > 0 else None


def rfc3339(epoch: float | None) -> str | None:
    """``2026-11-29T19:59:00Z`` for epoch seconds (whole seconds), ``None`` for no time.

    The aggregate table stores "never" as a missing row or 0; both read as ``None``.
    """
    if epoch is None or not math.isfinite(epoch) or epoch <= 0:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch // 1)))
