"""How many units each arm needs before "no difference" can be read as a result.

The required size per arm is the classical one for a two-sided 5% test with 80% power to
detect the flag's ``minimum_detectable_effect`` (absolute, on the primary metric):
``n = 2·σ²·(z₀.₉₇₅ + z₀.₈)² / MDE²``, with ``σ²`` the control's unit variance of the primary
metric (``p(1 - p)`` for a binary one). Without a primary metric, an MDE or a control
estimate it is ``null``, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelflags.analysis import statistics
from modelflags.analysis.arms import BUILT_INS, Arm, unit_variance
from modelflags.analysis.report_values import count

__all__ = ["SampleSize", "sample_size"]


@dataclass(frozen=True)
class SampleSize:
    """Units needed per arm (``None`` with a ``reason``) and units each arm has."""

    required_per_arm: int | None
    observed_per_arm: dict[str, float]
    reason: str | None = None

    def reached(self) -> bool:
        """Whether every arm has at least the required units (False when not known)."""
        if self.required_per_arm is None or not self.observed_per_arm:
            return False
        return all(units >= self.required_per_arm for units in self.observed_per_arm.values())

    def as_json(self) -> dict[str, Any]:
        """The sample size as the report's JSON shows it."""
        return {
            "requiredPerArm": self.required_per_arm,
            "observedPerArm": {arm: count(units) for arm, units in self.observed_per_arm.items()},
            "reason": self.reason,
        }


def sample_size(
    control: Arm, arms: Sequence[Arm], primary: str | None, mde: float | None, *, binary: bool
) -> SampleSize:
    """The sample size of the experiment from the control's primary metric and the MDE."""
    observed = {arm.variation: arm.units for arm in arms}
    if primary is None:
        return SampleSize(None, observed, "the experiment names no primary_metric")
    if mde is None:
        return SampleSize(None, observed, "the experiment sets no minimum_detectable_effect")
    if primary in BUILT_INS:
        return SampleSize(
            None, observed, f"{primary} is a request-level measure: no unit variance to size on"
        )
    variance = unit_variance(control, primary, binary=binary)
    if variance is None:
        return SampleSize(
            None, observed, f"the control has too few units to estimate {primary}'s variance"
        )
    if variance <= 0:
        return SampleSize(
            None, observed, f"{primary} does not vary in the control yet (variance 0)"
        )
    required = statistics.required_sample_size(variance, mde)
    if required is None:
        return SampleSize(None, observed, "the required sample size is not computable")
    return SampleSize(required, observed)
