"""The sums of the aggregate table as numbers a formula may use.

Every statistic starts from sums (Σx, Σx², n, ...) read from a table that another program may
have written, so each formula first checks them: a sum that is NaN, infinite or not a number
at all makes the statistic None, never an exception or a NaN in the report. The unit-level
sample variance is here because the intervals and the comparisons both derive it from the same
sums, with the same tolerance for rounding.
"""

from __future__ import annotations

import math

__all__ = ["all_finite", "sample_variance"]


def all_finite(*values: float) -> bool:
    """True when every value is a finite number (False for NaN, infinity or a non-number)."""
    try:
        return all(math.isfinite(v) for v in values)
    except TypeError:
        return False


def sample_variance(total: float, total_sq: float, n: float) -> float | None:
    """(Σx² - (Σx)²/n)/(n - 1), with rounding noise of a constant sample taken as 0; None for
    n < 2 or sums that contradict each other."""
    if not all_finite(total, total_sq, n) or n < 2 or total_sq < 0:
        return None
    ss = total_sq - total * total / n
    if ss < -1e-9 * total_sq:
        return None
    return 0.0 if ss <= 1e-12 * total_sq else ss / (n - 1)
