"""Numbers and metric names as the report's reasons say them to a person.

Reasons are sentences someone acts on ("candidate's p95 latency is 1.42x control's (95% CI
1.31 to 1.55), above the 1.3x guardrail", printed with a multiplication sign and an en dash),
so rates read as percentages, latencies in milliseconds, and everything else with four
significant digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DASH",
    "MINUS",
    "TIMES",
    "GuardrailWording",
    "count",
    "difference_sentence",
    "interval_text",
    "metric_label",
    "multiple_assignments_sentence",
    "number",
    "ratio_interval",
    "ratio_text",
    "signed",
    "srm_sentence",
    "value",
]

_LABELS = {
    ("latency_ms", "mean"): "mean latency",
    ("cost", "mean"): "cost per request",
    ("error", "rate"): "error rate",
    ("error", "mean"): "error rate",
    ("fallback", "rate"): "fallback rate",
    ("fallback", "mean"): "fallback rate",
}

_PERCENT = ("error", "fallback")

TIMES = "\u00d7"
"""The multiplication sign of a ratio between arms."""
DASH = "\u2013"
"""The en dash between the bounds of a ratio's interval."""
MINUS = "\u2212"
"""The minus sign of a negative difference."""


def metric_label(metric: str, stat: str | None = None, *, binary: bool = False) -> str:
    """``p95 latency``, ``error rate``, ``resolvedWithoutEscalation rate``, ..."""
    if stat in ("p50", "p95", "p99"):
        return f"{stat} latency" if metric == "latency_ms" else f"{stat} of {metric}"
    stat = stat or ("rate" if binary or metric in _PERCENT else "mean")
    return _LABELS.get((metric, stat), f"{metric} {stat}" if stat == "rate" else f"mean {metric}")


def number(x: float) -> str:
    """Four significant digits, no exponent for everyday magnitudes: ``0.004``, ``1,700``;
    rounding noise (below 1e-12) reads as 0."""
    if abs(x) < 1e-12:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def value(metric: str, x: float, *, binary: bool = False) -> str:
    """A metric's value with its unit: ``3.1%`` for rates, ``1,700 ms`` for latency."""
    if binary or metric in _PERCENT:
        return "0%" if abs(x) < 1e-12 else f"{x * 100:.3g}%"
    if metric == "latency_ms":
        return f"{number(x)} ms"
    return number(x)


def _difference(metric: str, x: float, *, binary: bool) -> tuple[str, str]:
    """A difference without and with its unit: ``("+2.9", " points")``, ``("-35", " ms")``."""
    sign = "+" if x >= 0 else MINUS
    if binary or metric in _PERCENT:
        shown = f"{abs(x) * 100:.2g}"
        return f"{sign}{shown}", " point" if shown == "1" else " points"
    return f"{sign}{number(abs(x))}", " ms" if metric == "latency_ms" else ""


def signed(metric: str, x: float, *, binary: bool = False) -> str:
    """A difference with its sign and unit: ``+2.9 points`` for rates (percentage points),
    ``-35 ms`` (with a true minus sign), ``+0.002``."""
    shown, unit = _difference(metric, x, binary=binary)
    return shown + unit


def interval_text(
    metric: str, bounds: Sequence[float] | None, *, binary: bool = False, diff: bool = False
) -> str:
    """``95% CI 2.5% to 3.8%``; of a difference ``95% CI -1.6 to +7.5 points``."""
    if bounds is None:
        return "95% CI not computable"
    if diff:
        lo, _ = _difference(metric, bounds[0], binary=binary)
        hi, unit = _difference(metric, bounds[1], binary=binary)
        return f"95% CI {lo} to {hi}{unit}"
    lo, hi = value(metric, bounds[0], binary=binary), value(metric, bounds[1], binary=binary)
    return f"95% CI {lo} to {hi}"


def ratio_text(x: float) -> str:
    """A ratio of two arms: ``1.42`` and a multiplication sign."""
    return f"{x:.3g}{TIMES}"


def ratio_interval(bounds: Sequence[float]) -> str:
    """``95% CI 1.31-1.55`` with an en dash."""
    return f"95% CI {bounds[0]:.3g}{DASH}{bounds[1]:.3g}"


def count(x: float) -> str:
    """A whole count with thousands separators: ``9,000``."""
    return f"{round(x):,}"


def difference_sentence(
    variation: str,
    control: str,
    metric: str,
    *,
    diff: float | None,
    ci95: Sequence[float] | None,
    p_value: float | None,
    binary: bool,
) -> str:
    """``candidate's X rate differs from control's by +2.9 points (95% CI -1.6 to +7.5
    points, p = 0.67)``."""
    name = metric_label(metric, binary=binary)
    if diff is None:
        return f"{variation} vs {control} on {name} is not computable yet"
    shown = interval_text(metric, ci95, binary=binary, diff=True)
    p = "" if p_value is None else f", p = {p_value:.2g}"
    by = signed(metric, diff, binary=binary)
    return f"{variation}'s {name} differs from {control}'s by {by} ({shown}{p})"


def srm_sentence(
    observed: Mapping[str, float], expected: Mapping[str, float], p_value: float | None
) -> str:
    """Units per arm against what the split expects, and what a mismatch means."""
    seen = " / ".join(f"{arm} {count(n)}" for arm, n in observed.items())
    wanted = " / ".join(f"{arm} {count(n)}" for arm, n in expected.items())
    p = "" if p_value is None else f" (p = {p_value:.2g})"
    return (
        f"sample ratio mismatch: units per arm are {seen} where the split expects {wanted}{p}; "
        "assignment or logging is losing units in some arm, so no comparison can be trusted "
        "until the cause is found"
    )


def multiple_assignments_sentence(units: float, randomized: float, limit: float) -> str:
    """Units seen in several arms, against the tolerance, and what to check."""
    share = (
        f" ({units / randomized:.1%} of the {count(randomized)} randomised)" if randomized else ""
    )
    return (
        f"{count(units)} units{share} were assigned to more than one arm, above the {limit:.0%} "
        "tolerance: check that the assignment key is stable for a unit and that the salt or "
        "the arms did not change mid-experiment"
    )


@dataclass(frozen=True)
class GuardrailWording:
    """How one guardrail's verdict is said: the label, the control's name, the units."""

    label: str
    control: str
    metric: str
    binary: bool

    def sentence(
        self,
        bound: str,
        threshold: float,
        observed: float | None,
        ci95: Sequence[float] | None,
        status: str,
    ) -> str:
        """``candidate's p95 latency is 1.42x control's (95% CI 1.31-1.55), above the 1.3x
        guardrail`` (``bound`` is ``max_ratio`` or ``max``)."""
        label, metric, binary = self.label, self.metric, self.binary
        if bound == "max_ratio":
            limit = f"the {ratio_text(threshold)} guardrail"
            if observed is None:
                return f"{label} cannot be compared with {self.control}'s yet (no data)"
            said = f"{label} is {ratio_text(observed)} {self.control}'s"
            if ci95 is not None:
                said += f" ({ratio_interval(ci95)})"
        else:
            limit = f"the {value(metric, threshold, binary=binary)} maximum"
            if observed is None:
                return f"{label} is not known yet (no data in this arm)"
            said = f"{label} is {value(metric, observed, binary=binary)}"
            if ci95 is not None:
                said += f" ({interval_text(metric, ci95, binary=binary)})"
        if status == "breached":
            return f"{said}, above {limit}"
        if status == "holds":
            return f"{said}, within {limit}"
        return f"{said}: not yet clear whether it stays within {limit}"
