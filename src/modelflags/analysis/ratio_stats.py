"""A request-level ratio over one arm's units, and its variance by the delta method.

Error rate, mean latency and cost per request are ratios Σs/Σc: per unit, ``s`` is the sum of
the measure over its requests and ``c`` the number of its requests that carry it. One unit may
make many requests, and the requests of one unit are not independent, so the variance is the
delta method's on the unit-level sums (Deng, Knoblich and Lu, "Applying the Delta Method in
Metric Analytics", KDD 2018), not the variance of a mean of requests, which understates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from modelflags.analysis.sums import all_finite

__all__ = ["RatioStats"]


@dataclass(frozen=True)
class RatioStats:
    """Per-unit sums for a request-level ratio Σs/Σc over ``units`` units (the aggregate table's
    ``sum`` = Σs, ``sum_sq`` = Σs², ``count`` = Σc, ``count_sq`` = Σc², ``cross`` = Σs·c)."""

    units: float
    sum: float
    sum_sq: float
    count: float
    count_sq: float
    cross: float

    @property
    def ratio(self) -> float | None:
        """Σs/Σc; None without any request carrying the measure."""
        if not all_finite(self.sum, self.count) or self.count <= 0:
            return None
        ratio = self.sum / self.count
        return ratio if math.isfinite(ratio) else None

    @property
    def variance(self) -> float | None:
        """Delta-method variance of :attr:`ratio` (Deng et al. 2018, section 3):
        ``Var(s - R·c) / (n·c̄²)`` with the unit-level sample variance (n - 1), which expands to
        ``(Σs² - 2R·Σsc + R²·Σc²) / ((n - 1)·n·c̄²)``. None with fewer than 2 units."""
        ratio = self.ratio
        fields = (self.units, self.sum_sq, self.count_sq, self.cross)
        if ratio is None or not all_finite(*fields) or self.units < 2:
            return None
        n = self.units
        r2 = ratio * ratio
        ss = self.sum_sq - 2.0 * ratio * self.cross + r2 * self.count_sq
        scale = abs(self.sum_sq) + abs(2.0 * ratio * self.cross) + r2 * abs(self.count_sq)
        if not math.isfinite(ss) or ss < -1e-9 * scale:
            return None  # the sums contradict each other, or overflow
        if ss <= 1e-12 * scale:
            ss = 0.0
        mean_count = self.count / n
        denominator = (n - 1.0) * n * mean_count * mean_count
        variance = ss / denominator if denominator > 0 else math.inf
        return variance if math.isfinite(variance) else None
