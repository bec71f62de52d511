"""Why a flag serves what it serves: the evaluation trace behind ``modelflags explain``.

The trace is not a second implementation of the evaluation order. :func:`explain` copies the
compiled flag with its predicates and splits wrapped in recorders, then evaluates that copy
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

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from modelflags.engine import CompiledFlag, FlagSet, Resolution, Split, unit_interval
from modelflags.engine.bucketing import ArmScore
from modelflags.engine.compiled import CompiledRule, compile_segments
from modelflags.engine.conditions import compile_condition
from modelflags.engine.evaluation import unit_id_of
from modelflags.errors import ModelFlagsError, did_you_mean
from modelflags.loader import LoadedConfig

__all__ = ["Clause", "Explanation", "Step", "explain"]

_MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
_NESTING = 4
"""How deep segments and ``$and``/``$or`` are broken down before one line summarises them."""


@dataclass(frozen=True)
class Clause:
    """One entry of a condition, how it came out, and what it read."""

    test: str
    """The entry as written, e.g. ``plan $in ['pro', 'enterprise']`` or ``$segment paid``."""
    matched: bool
    attribute: str | None = None
    """The dotted attribute path the entry reads, if it reads one."""
    value: Any = _MISSING
    """The attribute's value in the context (``_MISSING`` when absent)."""
    clauses: tuple[Clause, ...] = ()
    """The entries of a segment or of ``$and``/``$or``/``$nor``/``$not`` operands."""

    @property
    def present(self) -> bool:
        return self.value is not _MISSING


@dataclass(frozen=True)
class Step:
    """One step of the evaluation order (DESIGN section 2)."""

    step: str
    """state, unit, exclusions, rule, eligible, schedule, coverage, split or default."""
    name: str
    """What the step is about: a rule's label, the unit attribute, a segment list..."""
    outcome: str
    """passed, matched, no match, decided or not reached."""
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
    probe = _Probe()
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


class _Probe:
    """Wraps a compiled flag's splits so that evaluating it records every arm's draw.

    Predicates need no wrapping: which rule or step decided is in the resolution itself.
    """

    def __init__(self) -> None:
        self.drawn: dict[str, tuple[ArmScore, ...]] = {}

    def instrument(self, flag: CompiledFlag) -> CompiledFlag:
        rules = tuple(
            dataclasses.replace(rule, split=self._split(f"rule:{rule.label}", rule.split))
            for rule in flag.rules
        )
        return dataclasses.replace(flag, rules=rules, split=self._split("split", flag.split))

    def _split(self, name: str, split: Split | None) -> Split | None:
        return None if split is None else _RecordedSplit(split, self.drawn, name)


class _RecordedSplit(Split):
    """A :class:`Split` that records every arm's draw before choosing exactly as it does."""

    __slots__ = ("_drawn", "_name")

    _drawn: dict[str, tuple[ArmScore, ...]]
    _name: str

    def __init__(self, split: Split, drawn: dict[str, tuple[ArmScore, ...]], name: str) -> None:
        super().__init__(split.salt, split.weights)
        object.__setattr__(self, "_drawn", drawn)
        object.__setattr__(self, "_name", name)

    def choose(self, unit_id: str) -> str:
        self._drawn[self._name] = tuple(self.scores(unit_id))
        return super().choose(unit_id)


class _Tracer:
    """Turns the recorded calls and the decision into steps, in evaluation order."""

    def __init__(
        self,
        flag: CompiledFlag,
        context: Mapping[str, Any],
        probe: _Probe,
        segment_sources: Mapping[str, Any],
        now: float,
    ) -> None:
        self.flag = flag
        self.context = context
        self.probe = probe
        self.segment_sources = segment_sources
        self.segments = compile_segments(segment_sources)
        self.now = now
        self.reached = True

    def steps(self, resolution: Resolution) -> tuple[Step, ...]:
        flag, decided_by = self.flag, resolution.rule
        steps = [self._state(decided_by), self._unit(resolution)]
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
        if decided_by in ("default", "error"):
            steps.append(self._fallthrough(resolution))
        return tuple(steps)

    def _step(self, step: str, name: str, decided: bool, outcome: str, detail: str,
              **more: Any) -> Step:  # fmt: skip
        """A step; once a step has decided, every later one is 'not reached'."""
        if not self.reached:
            return Step(step, name, "not reached", "")
        if decided:
            self.reached = False
        return Step(step, name, outcome, detail, decided, **more)

    def _state(self, decided_by: str) -> Step:
        if decided_by == "off":
            detail = f"state: off, the kill switch: everyone gets the default '{self.flag.default}'"
            return self._step("state", "state", True, "decided", detail)
        return self._step("state", "state", False, "passed", "state: on")

    def _unit(self, resolution: Resolution) -> Step:
        flag = self.flag
        attribute = flag.unit_key or "targetingKey"
        raw = self.context.get(attribute, _MISSING)
        unit = flag.metadata.get("assignmentUnit")
        if resolution.rule == "no-unit":
            return self._step("unit", attribute, True, "decided", resolution.error_message or "")
        if raw is _MISSING or unit_id_of(raw) in (None, ""):
            detail = f"{attribute} is not set; this flag does not need a unit id"
            return self._step("unit", attribute, False, "passed", detail)
        return self._step(
            "unit", attribute, False, "passed", f"{unit} id {attribute} = {_text(raw)}"
        )

    def _exclusions(self, decided_by: str) -> Step:
        names = self.flag.source.exclusions.segments if self.flag.source.exclusions else []
        clauses = tuple(self._segment(name, 0) for name in names) if self.reached else ()
        label = ", ".join(names)
        if decided_by == "exclusions":
            serve = self.flag.exclusion_serve
            detail = f"excluded by {_matched_names(clauses)}: serves '{serve}'"
            return self._step("exclusions", label, True, "matched", detail, clauses=clauses)
        return self._step(
            "exclusions", label, False, "no match", "no exclusion segment matched", clauses=clauses
        )

    def _rule(self, rule: CompiledRule, when: Mapping[str, Any], decided_by: str) -> Step:
        if not self.reached:
            return self._step("rule", rule.label, False, "", "")
        clauses = self._breakdown(when, 0)
        if decided_by != rule.label:
            return self._step("rule", rule.label, False, "no match", _why_not(clauses),
                              clauses=clauses)  # fmt: skip
        if rule.split is None:
            detail = f"matched: serves '{rule.serve or self.flag.default}'"
            return self._step("rule", rule.label, True, "matched", detail, clauses=clauses)
        scores = self.probe.drawn.get(f"rule:{rule.label}", ())
        detail = f"matched: its split {_weights(rule.split)} assigns '{_winner(scores)}'"
        return self._step("rule", rule.label, True, "matched", detail, clauses=clauses,
                          scores=scores)  # fmt: skip

    def _eligible(self, decided_by: str) -> Step:
        eligible = self.flag.source.eligible
        clauses: tuple[Clause, ...]
        if isinstance(eligible, str):
            clauses = (self._segment(eligible, 0),) if self.reached else ()
            name = eligible
        else:
            clauses = self._breakdown(eligible or {}, 0) if self.reached else ()
            name = "inline condition"
        if decided_by == "not-eligible":
            detail = f"not eligible: {_why_not(clauses)}; serves the default '{self.flag.default}'"
            return self._step("eligible", name, True, "decided", detail, clauses=clauses)
        return self._step("eligible", name, False, "passed", "eligible", clauses=clauses)

    def _schedule(self, decided_by: str) -> Step:
        flag = self.flag
        window = f"[{_time(flag.start)}, {_time(flag.end)}) at {_time(self.now)}"
        if decided_by == "schedule":
            detail = f"outside the window {window}: serves the default '{flag.default}'"
            return self._step("schedule", "schedule", True, "decided", detail)
        return self._step("schedule", "schedule", False, "passed", f"inside the window {window}")

    def _coverage(self, decided_by: str, unit: str) -> Step:
        flag = self.flag
        if not self.reached:
            return self._step("coverage", f"{flag.coverage:g}%", False, "", "")
        share = flag.coverage / 100
        u = unit_interval(flag.salt, "coverage", unit)
        test = f"u(coverage) = {u:.6f} {'<' if u < share else '>='} {share:g}"
        name = f"{flag.coverage:g}%"
        if decided_by == "holdout":
            detail = f"held out: {test}; serves the default '{flag.default}'"
            return self._step("coverage", name, True, "decided", detail)
        return self._step("coverage", name, False, "passed", f"in the split: {test}")

    def _split(self, decided_by: str) -> Step:
        scores = self.probe.drawn.get("split", ())
        detail = f"the lowest score -ln(u)/weight wins: '{_winner(scores)}'"
        return self._step("split", _weights(self.flag.split), decided_by == "split", "decided",
                          detail, scores=scores)  # fmt: skip

    def _fallthrough(self, resolution: Resolution) -> Step:
        if resolution.rule == "error":
            detail = f"evaluation failed: {resolution.error_message}; serves the default"
        else:
            detail = f"nothing above decided: serves the default '{self.flag.default}'"
        return self._step("default", "default", True, "decided", detail)

    def _segment(self, name: str, depth: int) -> Clause:
        matched = self.segments[name](self.context)
        inner = self._breakdown(self.segment_sources[name], depth + 1) if depth < _NESTING else ()
        return Clause(f"$segment {name}", matched, clauses=inner)

    def _breakdown(self, condition: Mapping[str, Any], depth: int) -> tuple[Clause, ...]:
        return tuple(self._clause(key, value, depth) for key, value in condition.items())

    def _clause(self, key: str, value: Any, depth: int) -> Clause:
        """One entry, compiled alone by the engine and tested against the context."""
        matched = compile_condition({key: value}, self.segments)(self.context)
        inner: tuple[Clause, ...] = ()
        if key in ("$segment", "$notSegment"):
            inner = (self._segment(value, depth + 1),) if depth < _NESTING else ()
            return Clause(f"{key} {value}", matched, clauses=inner)
        if key.startswith("$"):  # $and $or $nor $not: one clause per operand
            operands = value if isinstance(value, list) else [value]
            if depth < _NESTING:
                inner = tuple(
                    Clause(
                        _text(operand),
                        compile_condition(operand, self.segments)(self.context),
                        clauses=self._breakdown(operand, depth + 1),
                    )
                    for operand in operands
                )
            return Clause(key, matched, clauses=inner)
        return Clause(f"{key} {_text(value)}", matched, key, _read(self.context, key))


def _read(attributes: Mapping[str, Any], path: str) -> Any:
    """The value a condition on ``path`` reads (dotted paths go through mappings only)."""
    current: Any = attributes
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _text(value: Any) -> str:
    """A condition value as compact flow-style text: ``{$in: [pro, enterprise]}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def _weights(split: Split | None) -> str:
    weights = split.weights if split is not None else {}
    return ", ".join(f"{name}: {weight:g}" for name, weight in weights.items())


def _winner(scores: tuple[ArmScore, ...]) -> str:
    live = [arm for arm in scores if arm.score != math.inf]
    return min(live, key=lambda arm: arm.score).variation if live else "?"


def _why_not(clauses: tuple[Clause, ...]) -> str:
    """The clauses that made a condition fail, down through segments and ``$and``."""
    failed = [_failing(clause) for clause in clauses if not clause.matched]
    return "failed: " + "; ".join(failed) if failed else "no clause failed"


def _failing(clause: Clause) -> str:
    if clause.test.startswith(("$segment ", "$and")) and clause.clauses:
        inner = [clause for clause in clause.clauses if not clause.matched]
        if clause.test == "$and":  # its operands are documents: one level further
            inner = [part for operand in inner for part in operand.clauses if not part.matched]
        if inner:
            return "; ".join(_failing(part) for part in inner)
    if clause.present:
        return f"{clause.test} ({clause.attribute} = {_text(clause.value)})"
    if clause.attribute is not None:
        return f"{clause.test} ({clause.attribute} is not set)"
    return clause.test


def _matched_names(clauses: tuple[Clause, ...]) -> str:
    return ", ".join(clause.test.removeprefix("$segment ") for clause in clauses if clause.matched)


def _time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")
