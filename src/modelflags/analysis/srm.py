"""Sample-ratio mismatch: whether the arms got the traffic the split sends them.

A chi-square goodness-of-fit test of the units per arm against the split's weights. A mismatch
means assignment or logging is broken, and then no comparison of the arms can be trusted, so
the report checks it before anything else. It is flagged at p < 0.001 (a real bug gives far
smaller p-values; many reports would raise false alarms at 0.05), and skipped, with the
reason, where the chi-square approximation does not hold. Nothing here raises on degenerate
input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from modelflags.analysis.distributions import chi2_sf
from modelflags.analysis.sums import all_finite

__all__ = ["SRM_MIN_UNITS", "SRM_THRESHOLD", "Srm", "srm_test"]

SRM_THRESHOLD = 0.001
"""An SRM p-value below this flags a sample-ratio mismatch."""
SRM_MIN_UNITS = 8
"""The chi-square approximation needs this many units in every arm."""


@dataclass(frozen=True)
class Srm:
    """Sample-ratio mismatch: units per arm against the split's weights (chi-square)."""

    p_value: float | None
    mismatch: bool  # p < SRM_THRESHOLD
    observed: Mapping[str, float]
    expected: Mapping[str, float]
    skipped: str | None = None


def srm_test(observed: Mapping[str, float], weights: Mapping[str, float]) -> Srm:
    """Chi-square goodness of fit of the units per arm against the split's weights, flagged at
    p < 0.001; skipped (with the reason) when any arm has fewer than 8 units. Arms with a
    positive weight are the categories; an arm missing from ``observed`` has 0 units."""
    arms = [arm for arm, weight in weights.items() if all_finite(weight) and weight > 0]
    counts = {arm: float(observed.get(arm, 0.0)) for arm in arms}
    total_weight = sum(weights[arm] for arm in arms)
    total = sum(counts.values())
    expected: dict[str, float] = {}
    if all_finite(total, total_weight) and total_weight > 0:
        expected = {arm: total * (weights[arm] / total_weight) for arm in arms}

    def skip(why: str) -> Srm:
        return Srm(None, False, counts, expected, skipped=why)

    if len(arms) < 2:
        return skip("the split has fewer than two arms with a positive weight")
    if not all_finite(*counts.values()) or any(c < 0 for c in counts.values()):
        return skip("a unit count is negative or not a finite number")
    stray = sorted(a for a, c in observed.items() if a not in counts and all_finite(c) and c > 0)
    if stray:
        return skip(f"units in arms without a positive weight: {', '.join(stray)}")
    small = sorted(arm for arm, c in counts.items() if c < SRM_MIN_UNITS)
    if small:
        return skip(
            f"fewer than {SRM_MIN_UNITS} units in {', '.join(small)}: "
            "too few for the chi-square test"
        )
    if len(expected) != len(arms) or not all(all_finite(e) and e > 0 for e in expected.values()):
        return skip("a weight is too small next to the others to expect any unit")
    chi2 = sum((counts[a] - expected[a]) * (counts[a] - expected[a]) / expected[a] for a in arms)
    if not all_finite(chi2):
        return skip("the unit counts are too large to compute with")
    p = chi2_sf(chi2, len(arms) - 1)
    return Srm(p, p < SRM_THRESHOLD, counts, expected)
