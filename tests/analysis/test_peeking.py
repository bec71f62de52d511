"""Peeking: an A/A test looked at 20 times and stopped at the first p < 0.05.

Both arms convert at the same rate, so every "significant" stop is a false positive. The
fixed-horizon z-test, valid for one look, stops wrongly far more often than 5% when it is looked
at repeatedly; the sequential method's always-valid p-value keeps the rate at or below 5%.
"""

from __future__ import annotations

import numpy as np

from modelflags.analysis.intervals import Method
from modelflags.analysis.statistics import proportion_test

EXPERIMENTS = 400
LOOKS = 20
UNITS_PER_LOOK = 100  # per arm: the last look sees 2,000 units per arm
RATE = 0.2
SEED = 20261129


def _false_positive_rate(method: Method) -> float:
    rng = np.random.default_rng(SEED)  # the same experiments for both methods
    conversions = rng.binomial(UNITS_PER_LOOK, RATE, size=(EXPERIMENTS, 2, LOOKS)).cumsum(axis=2)
    stopped = 0
    for experiment in conversions:
        for look in range(LOOKS):
            n = float(UNITS_PER_LOOK * (look + 1))
            control, treatment = experiment[0][look], experiment[1][look]
            result = proportion_test(float(control), n, float(treatment), n, method=method)
            if result.p_value is not None and result.p_value < 0.05:
                stopped += 1
                break
    return stopped / EXPERIMENTS


def test_peeking_inflates_fixed_horizon_false_positives_but_not_sequential_ones() -> None:
    sequential = _false_positive_rate("sequential")
    fixed = _false_positive_rate("fixed-horizon")
    print(
        f"A/A, {EXPERIMENTS} experiments x {LOOKS} looks, stop at first p < 0.05: "
        f"false-positive rate sequential {sequential:.1%}, fixed-horizon {fixed:.1%}"
    )
    assert sequential <= 0.05
    assert fixed > 0.10
