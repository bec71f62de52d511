"""The verdict: what to do with the experiment now, why, and the command that does it.

Rules, first match wins (``docs/report.md``, "The decision"): ``rollback`` when a guardrail
is breached; ``investigate`` on a sample ratio mismatch or more than 1% of units in several
arms; ``promote`` the arm with the largest primary difference whose interval's lower bound
is above 0 (``-margin`` under non-inferiority; higher is better) and whose guardrails all
hold; ``no_difference`` once every arm has its required units and no primary difference
shows; else ``continue``, with the next ramp step (1, 5, 10, 25, 50%) when the leading arm's
guardrails hold and it is not worse. Past ``decide_by`` the first reason says so.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from modelflags.analysis import phrasing, statistics
from modelflags.analysis.arms import Arm
from modelflags.analysis.guardrails import GuardrailResult
from modelflags.analysis.sample_size import SampleSize
from modelflags.analysis.srm import Srm

__all__ = ["MULTIPLE_ASSIGNMENT_LIMIT", "RAMP_STEPS", "Decision", "Evidence", "decide"]

Action = Literal["rollback", "investigate", "promote", "no_difference", "continue"]

RAMP_STEPS = (1, 5, 10, 25, 50)
"""Percent of the split a candidate gets at each ramp step."""

MULTIPLE_ASSIGNMENT_LIMIT = 0.01
"""Share of randomised units seen in several arms above which the report investigates."""


@dataclass(frozen=True)
class Decision:
    """The action, the sentences that justify it, and the command to run (or ``None``)."""

    action: Action
    reasons: tuple[str, ...]
    command: str | None

    def as_json(self) -> dict[str, Any]:
        """The decision as the report's JSON shows it."""
        return {"action": self.action, "reasons": list(self.reasons), "command": self.command}


@dataclass(frozen=True)
class Evidence:
    """Everything the decision reads, computed by the report beforehand."""

    flag_key: str
    flags_path: str
    control: Arm
    treatments: Sequence[Arm]
    primary: str | None
    primary_binary: bool
    primary_recorded: float
    comparisons: Mapping[str, statistics.Comparison]
    guardrails: Sequence[GuardrailResult]
    srm: Srm
    multiple_assignments: float
    sample: SampleSize
    test: str = "superiority"
    margin: float | None = None
    decide_by: date | None = None
    today: date | None = None
    filtered_out: float = 0.0  # events left out by --since/--until/--config-version

    @property
    def randomized(self) -> float:
        """Units in the arms."""
        return self.control.units + sum(arm.units for arm in self.treatments)

    @property
    def past_decide_by(self) -> bool:
        """Whether the decision date is over (today is after it)."""
        return self.decide_by is not None and self.today is not None and self.today > self.decide_by

    def floor(self) -> float:
        """The lower bound the primary difference must beat: 0, or ``-margin``."""
        return -(self.margin or 0.0) if self.test == "non_inferiority" else 0.0


def decide(evidence: Evidence) -> Decision:
    """Apply the rules in order; the first that matches decides."""
    decision = (
        _rollback(evidence)
        or _investigate(evidence)
        or _promote(evidence)
        or _no_difference(evidence)
        or _continue(evidence)
    )
    if evidence.past_decide_by:
        late = (
            f"the decision date {evidence.decide_by} has passed (today is {evidence.today}): "
            "decide now instead of collecting more data"
        )
        decision = Decision(decision.action, (late, *decision.reasons), decision.command)
    return decision


def _command(*words: str) -> str:
    return shlex.join(["modelflags", *words])


def _rollback(ev: Evidence) -> Decision | None:
    breached = [g.reason for g in ev.guardrails if g.status == "breached"]
    if not breached:
        return None
    return Decision(
        "rollback", tuple(breached), _command("rollback", ev.flag_key, "--flags", ev.flags_path)
    )


def _investigate(ev: Evidence) -> Decision | None:
    reasons = []
    if ev.srm.mismatch:
        reasons.append(phrasing.srm_sentence(ev.srm.observed, ev.srm.expected, ev.srm.p_value))
    many = ev.multiple_assignments
    if many > 0 and many > MULTIPLE_ASSIGNMENT_LIMIT * ev.randomized:
        reasons.append(
            phrasing.multiple_assignments_sentence(many, ev.randomized, MULTIPLE_ASSIGNMENT_LIMIT)
        )
    return Decision("investigate", tuple(reasons), None) if reasons else None


def _holds(ev: Evidence, variation: str) -> bool:
    return all(g.status == "holds" for g in ev.guardrails if g.variation == variation)


def _pending(ev: Evidence, variation: str) -> list[str]:
    """The reasons of the arm's guardrails that do not hold (yet)."""
    return [g.reason for g in ev.guardrails if g.variation == variation and g.status != "holds"]


def _primary_text(ev: Evidence, variation: str) -> str:
    comparison = ev.comparisons[variation]
    return phrasing.difference_sentence(
        variation,
        ev.control.variation,
        ev.primary or "",
        diff=comparison.diff,
        ci95=comparison.ci95,
        p_value=comparison.p_value,
        binary=ev.primary_binary,
    )


def _qualifies(ev: Evidence, variation: str) -> bool:
    comparison = ev.comparisons.get(variation)
    if comparison is None or comparison.ci95 is None:
        return False
    return comparison.ci95[0] > ev.floor()


def _promote(ev: Evidence) -> Decision | None:
    if ev.primary is None:
        return None
    winners = [arm for arm in ev.treatments if _qualifies(ev, arm.variation)]
    winners = [arm for arm in winners if _holds(ev, arm.variation)]
    if not winners:
        return None
    best = max(winners, key=lambda arm: ev.comparisons[arm.variation].diff or 0.0)
    if ev.test == "non_inferiority":
        verdict = f"whose lower bound is above the non-inferiority margin ({_margin_text(ev)})"
    else:
        verdict = f"so {best.variation} is better"
    guarded = [g for g in ev.guardrails if g.variation == best.variation]
    guard = "every guardrail holds" if guarded else "the experiment declares no guardrails"
    reasons = (f"{_primary_text(ev, best.variation)}, {verdict}; {guard}",)
    return Decision(
        "promote",
        reasons,
        _command("promote", ev.flag_key, best.variation, "--flags", ev.flags_path),
    )


def _significant(comparison: statistics.Comparison) -> bool:
    return comparison.ci95 is not None and (comparison.ci95[0] > 0 or comparison.ci95[1] < 0)


def _no_difference(ev: Evidence) -> Decision | None:
    if ev.primary is None or not ev.treatments or not ev.sample.reached():
        return None
    comparisons = [ev.comparisons.get(arm.variation) for arm in ev.treatments]
    if any(c is None or c.ci95 is None or _significant(c) for c in comparisons):
        return None
    needed = phrasing.count(ev.sample.required_per_arm or 0)
    details = "; ".join(_primary_text(ev, arm.variation) for arm in ev.treatments)
    reason = (
        f"every arm has reached the {needed} units per arm needed and no arm differs from "
        f"{ev.control.variation} ({details}): keep {ev.control.variation}"
    )
    return Decision(
        "no_difference",
        (reason,),
        _command("promote", ev.flag_key, ev.control.variation, "--flags", ev.flags_path),
    )


def _leader(ev: Evidence) -> Arm | None:
    """The arm with the largest primary difference (the first arm when none is known)."""

    def diff(arm: Arm) -> float:
        comparison = ev.comparisons.get(arm.variation)
        found = None if comparison is None else comparison.diff
        return float("-inf") if found is None else found

    return max(ev.treatments, key=diff) if ev.treatments else None


def _continue(ev: Evidence) -> Decision:
    reasons: list[str] = []
    if ev.randomized <= 0 and ev.filtered_out > 0:
        reasons.append(
            f"no unit is left to compare: the --since, --until or --config-version filters "
            f"left out all {ev.filtered_out:,.0f} events of this flag; widen them, or check "
            "the config version against the events"
        )
        return Decision("continue", tuple(reasons), None)
    if ev.randomized <= 0:
        reasons.append(
            "no unit has been randomised yet (no exposure in the experiment was recorded for "
            "this flag): nothing can be concluded"
        )
        return Decision("continue", tuple(reasons), None)
    if ev.primary is None:
        reasons.append(
            "the experiment names no primary_metric, so no arm can be judged better: add one "
            "to the flag's experiment"
        )
    elif ev.primary_recorded <= 0:
        reasons.append(
            f"no outcome has recorded the primary metric {ev.primary} yet: check the outcome "
            "events' metric name"
        )
    worse = []
    for arm in ev.treatments if ev.primary is not None else ():
        comparison = ev.comparisons[arm.variation]
        text = _primary_text(ev, arm.variation)
        if comparison.diff is None or comparison.ci95 is None:
            reasons.append(f"{text}: {comparison.reason or 'not enough data'}")
        elif comparison.ci95[1] < ev.floor():
            worse.append(arm.variation)
            reasons.append(f"{text}: {arm.variation} is {_worse(ev)}")
        elif _qualifies(ev, arm.variation):
            pending = "; ".join(_pending(ev, arm.variation))
            reasons.append(f"{text}, but not every guardrail holds yet: {pending}")
        else:
            reasons.append(f"{text}: {_not_yet(ev)}")
    reasons.append(_progress(ev))
    leader = _leader(ev)
    if leader is None or leader.variation in worse:
        return Decision("continue", tuple(reasons), None)
    if not _holds(ev, leader.variation):
        if not _qualifies(ev, leader.variation):  # else its pending guardrails are said above
            pending = "; ".join(_pending(ev, leader.variation))
            reasons.append(f"no ramp step until every guardrail holds: {pending}")
        return Decision("continue", tuple(reasons), None)
    return Decision("continue", tuple(reasons), _ramp(ev, leader))


def _margin_text(ev: Evidence) -> str:
    return phrasing.signed(ev.primary or "", ev.floor(), binary=ev.primary_binary)


def _worse(ev: Evidence) -> str:
    if ev.test == "non_inferiority":
        return f"worse than {ev.control.variation} by more than the margin ({_margin_text(ev)})"
    return f"worse than {ev.control.variation}"


def _not_yet(ev: Evidence) -> str:
    if ev.test == "non_inferiority":
        return (
            "not yet shown non-inferior (the interval's lower bound must be above the margin, "
            f"{_margin_text(ev)})"
        )
    return "not significant yet"


def _progress(ev: Evidence) -> str:
    if ev.sample.required_per_arm is None:
        return f"the required sample size is unknown: {ev.sample.reason}"
    needed = ev.sample.required_per_arm
    arms = [ev.control, *ev.treatments]
    smallest = min(arms, key=lambda arm: arm.units)
    return (
        f"{smallest.variation} has {phrasing.count(smallest.units)} of the "
        f"{phrasing.count(needed)} units per arm needed ({smallest.units / needed:.0%})"
    )


def _ramp(ev: Evidence, arm: Arm) -> str | None:
    if arm.units <= 0 or ev.control.units <= 0:
        return None
    total = ev.control.weight + sum(other.weight for other in ev.treatments)
    if total <= 0:
        return None
    share = 100.0 * arm.weight / total
    step = next((s for s in RAMP_STEPS if s > share + 1e-9), None)
    if step is None:
        return None
    return _command("ramp", ev.flag_key, arm.variation, str(step), "--flags", ev.flags_path)
