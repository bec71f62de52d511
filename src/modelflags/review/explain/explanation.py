"""Why a flag serves what it serves: the evaluation trace behind ``modelflags explain``.

The trace is not a second implementation of the evaluation order. :func:`explain` copies the
compiled flag with its splits wrapped in recorders (:mod:`.probe`), then evaluates that copy
with :meth:`FlagSet.evaluate` — the same :func:`~modelflags.engine.evaluation.decide` every
evaluation runs. The result is therefore the production result by construction, and the hot
path carries no trace hook at all. What the recorders cannot see (the state, the unit id, the
schedule window, the coverage draw) is read off the decision and recomputed for display with
the engine's own functions.

Each step says what was checked and how it came out; the conditions of reached steps are
broken down clause by clause (each clause compiled by the engine), so a reader sees *which*
attribute made a rule miss.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelflags.engine import (
    CompiledFlag,
    FlagSet,
    Resolution,
    Split,
    StepName,
    unit_id_of,
    unit_interval,
)
from modelflags.engine.bucketing import COVERAGE_TAG, ArmScore
from modelflags.engine.compiled import CompiledRule
from modelflags.errors import ModelFlagsError, did_you_mean
from modelflags.loader import LoadedConfig
from modelflags.review.explain.clauses import MISSING, Clause, ClauseReader, text, why_not
from modelflags.review.explain.probe import Probe
from modelflags.review.explain.steps import Outcome, TraceStep
from modelflags.review.timestamps import utc_text

__all__ = ["Explanation", "Step", "explain"]


@dataclass(frozen=True)
class Step:
    """One step of the evaluation order (docs/flag-files.md)."""

    step: str
    """A :class:`~.steps.TraceStep`: state, unit, exclusions, rule, eligible, schedule,
    coverage, split or default."""
    name: str
    """What the step is about: a rule's label, the unit attribute, a segment list..."""
    outcome: str
    """An :class:`~.steps.Outcome`: passed, matched, no match, decided or not reached."""
    detail: str
    """One line for people."""
    decided: bool = False
    """Whether this step chose the variation (exactly one step of a trace does)."""
    clauses: tuple[Clause, ...] = ()
    scores: tuple[ArmScore, ...] = ()
    """Every arm's draw, for split steps (the lowest positive-weight score wins)."""


@dataclass(frozen=True)
class Explanation:
    """The trace of one evaluation and its result."""

    flag: str
    location: str
    """``file:line:col`` of the flag's definition."""
    version: str
    context: Mapping[str, Any]
    now: float
    steps: tuple[Step, ...]
    resolution: Resolution


def explain(
    loaded: LoadedConfig, key: str, context: Mapping[str, Any], *, now: float
) -> Explanation:
    """Evaluate flag ``key`` for ``context`` at time ``now`` and record every step.

    Raises :class:`ModelFlagsError` (with a did-you-mean hint) when the flag does not exist.
    """
    flags = FlagSet.from_config(loaded.config, version=loaded.version, clock=lambda: now)
    flag = flags.flags.get(key)
    if flag is None:
        hint = did_you_mean(key, flags.flags) or f"known: {', '.join(sorted(flags.flags))}"
        raise ModelFlagsError(f"no flag '{key}'; {hint}")
    probe = Probe()
    traced = FlagSet(
        {key: probe.instrument(flag)},
        config=loaded.config,
        version=loaded.version,
        clock=flags.clock,
    )
    resolution = traced.evaluate(key, context)
    tracer = _Tracer(flag, context, probe, loaded.config.segments, now)
    return Explanation(
        key,
        loaded.definition("flags", key),
        loaded.version,
        context,
        now,
        tracer.steps(resolution),
        resolution,
    )


class _Tracer:
    """Turns the recorded calls and the decision into steps, in evaluation order."""

    def __init__(
        self,
        flag: CompiledFlag,
        context: Mapping[str, Any],
        probe: Probe,
        segment_sources: Mapping[str, Any],
        now: float,
    ) -> None:
        self.flag = flag
        self.context = context
        self.probe = probe
        self.clauses = ClauseReader(context, segment_sources)
        self.now = now
        self.reached = True

    def steps(self, resolution: Resolution) -> tuple[Step, ...]:
        flag, decided_by = self.flag, resolution.rule
        steps = [self._state(decided_by), self._unit(resolution)]  # an error stops at the unit
        if flag.excluded is not None:
            steps.append(self._exclusions(decided_by))
        steps.extend(
            self._rule(rule, source.when, decided_by)
            for rule, source in zip(flag.rules, flag.source.rules, strict=True)
        )
        if flag.eligible is not None:
            steps.append(self._eligible(decided_by))
        if flag.has_schedule:
            steps.append(self._schedule(decided_by))
        if flag.coverage < 100:
            steps.append(self._coverage(decided_by, resolution.unit_id or ""))
        if flag.split is not None:
            steps.append(self._split(decided_by))
        if decided_by == StepName.DEFAULT:
            steps.append(self._fallthrough())
        return tuple(steps)

    def _step(self, step: str, name: str, decided: bool, outcome: str, detail: str,
              **more: Any) -> Step:  # fmt: skip
        """A step; once a step has decided, every later one is 'not reached'."""
        if not self.reached:
            return Step(step, name, Outcome.NOT_REACHED, "")
        if decided:
            self.reached = False
        return Step(step, name, outcome, detail, decided, **more)

    def _state(self, decided_by: str) -> Step:
        if decided_by == StepName.OFF:
            detail = f"state: off, the kill switch: everyone gets the default '{self.flag.default}'"
            return self._step(TraceStep.STATE, TraceStep.STATE, True, Outcome.DECIDED, detail)
        return self._step(TraceStep.STATE, TraceStep.STATE, False, Outcome.PASSED, "state: on")

    def _unit(self, resolution: Resolution) -> Step:
        flag = self.flag
        attribute = flag.unit_attribute
        raw = self.context.get(attribute, MISSING)
        unit = flag.metadata.get("assignmentUnit")
        if resolution.rule in (StepName.NO_UNIT, StepName.ERROR):
            return self._step(
                TraceStep.UNIT, attribute, True, Outcome.DECIDED, resolution.error_message or ""
            )
        if raw is MISSING or unit_id_of(raw) in (None, ""):
            detail = f"{attribute} is not set; this flag does not need a unit id"
            return self._step(TraceStep.UNIT, attribute, False, Outcome.PASSED, detail)
        return self._step(
            TraceStep.UNIT, attribute, False, Outcome.PASSED, f"{unit} id {attribute} = {text(raw)}"
        )

    def _exclusions(self, decided_by: str) -> Step:
        names = self.flag.source.exclusions.segments if self.flag.source.exclusions else []
        clauses = tuple(self.clauses.segment(name, 0) for name in names) if self.reached else ()
        label = ", ".join(names)
        if decided_by == StepName.EXCLUSIONS:
            serve = self.flag.exclusion_serve
            by = ", ".join(str(c.segment) for c in clauses if c.matched)
            detail = f"excluded by {by}: serves '{serve}'"
            return self._step(TraceStep.EXCLUSIONS, label, True, Outcome.MATCHED, detail,
                              clauses=clauses)  # fmt: skip
        return self._step(
            TraceStep.EXCLUSIONS, label, False, Outcome.NO_MATCH, "no exclusion segment matched",
            clauses=clauses,
        )  # fmt: skip

    def _rule(self, rule: CompiledRule, when: Mapping[str, Any], decided_by: str) -> Step:
        if not self.reached:
            return self._step(TraceStep.RULE, rule.label, False, "", "")
        clauses = self.clauses.breakdown(when, 0)
        if decided_by != rule.label:
            return self._step(TraceStep.RULE, rule.label, False, Outcome.NO_MATCH, why_not(clauses),
                              clauses=clauses)  # fmt: skip
        if rule.split is None:
            detail = f"matched: serves '{rule.serve or self.flag.default}'"
            return self._step(TraceStep.RULE, rule.label, True, Outcome.MATCHED, detail,
                              clauses=clauses)  # fmt: skip
        scores = self.probe.rule_scores(rule.label)
        detail = f"matched: its split {_weights(rule.split)} assigns '{_winner(scores)}'"
        return self._step(TraceStep.RULE, rule.label, True, Outcome.MATCHED, detail,
                          clauses=clauses, scores=scores)  # fmt: skip

    def _eligible(self, decided_by: str) -> Step:
        eligible = self.flag.source.eligible
        clauses: tuple[Clause, ...]
        if isinstance(eligible, str):
            clauses = (self.clauses.segment(eligible, 0),) if self.reached else ()
            name = eligible
        else:
            clauses = self.clauses.breakdown(eligible or {}, 0) if self.reached else ()
            name = "inline condition"
        if decided_by == StepName.NOT_ELIGIBLE:
            detail = f"not eligible: {why_not(clauses)}; serves the default '{self.flag.default}'"
            return self._step(TraceStep.ELIGIBLE, name, True, Outcome.DECIDED, detail,
                              clauses=clauses)  # fmt: skip
        return self._step(TraceStep.ELIGIBLE, name, False, Outcome.PASSED, "eligible",
                          clauses=clauses)  # fmt: skip

    def _schedule(self, decided_by: str) -> Step:
        flag = self.flag
        window = f"[{_time(flag.start)}, {_time(flag.end)}) at {_time(self.now)}"
        schedule = StepName.SCHEDULE
        if decided_by == schedule:
            detail = f"outside the window {window}: serves the default '{flag.default}'"
            return self._step(schedule, schedule, True, Outcome.DECIDED, detail)
        return self._step(schedule, schedule, False, Outcome.PASSED, f"inside the window {window}")

    def _coverage(self, decided_by: str, unit: str) -> Step:
        flag = self.flag
        if not self.reached:
            return self._step(TraceStep.COVERAGE, f"{flag.coverage:g}%", False, "", "")
        share = flag.coverage / 100
        u = unit_interval(flag.salt, COVERAGE_TAG, unit)
        test = f"u(coverage) = {u:.6f} {'<' if u < share else '>='} {share:g}"
        name = f"{flag.coverage:g}%"
        if decided_by == StepName.HOLDOUT:
            detail = f"held out: {test}; serves the default '{flag.default}'"
            return self._step(TraceStep.COVERAGE, name, True, Outcome.DECIDED, detail)
        return self._step(TraceStep.COVERAGE, name, False, Outcome.PASSED, f"in the split: {test}")

    def _split(self, decided_by: str) -> Step:
        scores = self.probe.split_scores()
        detail = f"the lowest score -ln(u)/weight wins: '{_winner(scores)}'"
        return self._step(TraceStep.SPLIT, _weights(self.flag.split), decided_by == StepName.SPLIT,
                          Outcome.DECIDED, detail, scores=scores)  # fmt: skip

    def _fallthrough(self) -> Step:
        detail = f"nothing above decided: serves the default '{self.flag.default}'"
        return self._step(TraceStep.DEFAULT, TraceStep.DEFAULT, True, Outcome.DECIDED, detail)


def _weights(split: Split | None) -> str:
    weights = split.weights if split is not None else {}
    return ", ".join(f"{name}: {weight:g}" for name, weight in weights.items())


def _winner(scores: tuple[ArmScore, ...]) -> str:
    live = [arm for arm in scores if arm.score != math.inf]
    return min(live, key=lambda arm: arm.score).variation if live else "?"


def _time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return utc_text(epoch)
