"""Flags compiled for evaluation: conditions as closures, splits as precomputed arms, and
every decision a flag can return (:mod:`.decision`) built ahead.

Compilation runs once per load on a validated :class:`~modelflags.schema.FlagFile`; the
result is immutable and shared by every thread that evaluates.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelflags.engine.bucketing import Split
from modelflags.engine.conditions import Predicate, compile_condition
from modelflags.engine.decision import Decision, FlagDecisions, rule_decisions
from modelflags.schema.conditions import referenced_attributes, referenced_segments
from modelflags.schema.models import TARGETING_KEY, Flag, FlagFile
from modelflags.schema.semantics import json_kind

__all__ = ["CompiledFlag", "CompiledRule", "compile_flags", "compile_segments"]

Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule: its label (name or position), test, and what it serves: exactly one of
    ``serve`` and ``split``."""

    label: str
    matches: Predicate
    serve: str | None
    split: Split | None
    served: Decision | None = field(init=False)
    """The decision when the rule serves ``serve``; None when it splits."""
    arms: Mapping[str, Decision] = field(init=False)
    """The decision for each arm of ``split``; empty when it serves one variation."""

    def __post_init__(self) -> None:
        if (self.serve is None) == (self.split is None):
            raise ValueError(f"rule {self.label!r} needs exactly one of serve and split")
        arms = self.split.weights if self.split is not None else ()
        served, decisions = rule_decisions(self.label, self.serve, arms)
        object.__setattr__(self, "served", served)
        object.__setattr__(self, "arms", decisions)


@dataclass(frozen=True, slots=True)
class CompiledFlag:
    """Everything evaluation needs about one flag, precomputed."""

    key: str
    enabled: bool
    default: str
    kind: str
    """boolean, string, integer, float, object or array (see ``_value_kind``)."""
    values: Mapping[str, Any]
    fresh: Mapping[str, Callable[[], Any]]
    unit_key: str | None
    needs_unit: bool
    salt: str
    excluded: Predicate | None
    exclusion_serve: str
    rules: tuple[CompiledRule, ...]
    eligible: Predicate | None
    start: float | None
    end: float | None
    coverage: float
    split: Split | None
    reads_targeting_key: bool
    metadata: dict[str, Scalar]
    source: Flag
    has_schedule: bool = field(init=False)
    """Whether evaluation needs the current time (``start`` or ``end`` is set). Derived in
    ``__post_init__`` (so ``dataclasses.replace`` keeps it right) and stored rather than a
    property, because both evaluation paths read it on every call."""
    decisions: FlagDecisions = field(init=False)
    """What each step decides, derived like ``has_schedule``."""
    unit_attribute: str = field(init=False)
    """The context attribute holding the unit id on the direct path: ``unit_key``, else
    ``targetingKey``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_schedule", self.start is not None or self.end is not None)
        arms = self.split.weights if self.split is not None else ()
        decisions = FlagDecisions.of(
            self.key,
            self.default,
            unit_key=self.unit_key,
            exclusion_serve=self.exclusion_serve,
            has_rules=bool(self.rules),
            arms=arms,
        )
        object.__setattr__(self, "decisions", decisions)
        object.__setattr__(self, "unit_attribute", self.unit_key or TARGETING_KEY)

    def outside_schedule(self, now: float) -> bool:
        """Whether ``now`` (epoch seconds) is outside the window ``start <= now < end``.

        A flag without a schedule is never outside it.
        """
        return (self.start is not None and now < self.start) or (
            self.end is not None and now >= self.end
        )

    def forced(self, variation: str) -> CompiledFlag:
        """This flag serving ``variation`` to everyone, with reason ``STATIC`` and rule
        ``default`` (what :func:`modelflags.testing.force` serves).

        The copy keeps what describes the flag (its variations and their type, its assignment,
        metadata and experiment, so events stay joinable) and nothing that decides: it is
        compiled from a flag made of those parts alone, so every evaluation step, including
        any step added later, is at its file default, which is inactive. Raises ``ValueError``
        for a variation the flag does not have.
        """
        if variation not in self.values:
            raise ValueError(f"flag '{self.key}' has no variation '{variation}'")
        source = self.source
        bare = Flag(
            description=source.description,
            owner=source.owner,
            default=variation,
            variations=source.variations,
            assignment=source.assignment,
            experiment=source.experiment,
            metadata=source.metadata,
        )
        return _compile_flag(self.key, bare, {}, str(self.metadata["configVersion"]))


def compile_segments(segments: Mapping[str, Any]) -> dict[str, Predicate]:
    """Compile named segments, each after the segments it uses (cycles are load errors)."""
    compiled: dict[str, Predicate] = {}

    def build(name: str) -> Predicate:
        if name not in compiled:
            for ref, _ in referenced_segments(segments[name]):
                build(ref)
            compiled[name] = compile_condition(segments[name], compiled)
        return compiled[name]

    for name in segments:
        build(name)
    return compiled


def compile_flags(config: FlagFile, version: str) -> dict[str, CompiledFlag]:
    """Compile every flag of a validated config; ``version`` goes into flag metadata."""
    segments = compile_segments(config.segments)
    return {key: _compile_flag(key, flag, segments, version) for key, flag in config.flags.items()}


def _compile_flag(
    key: str, flag: Flag, segments: Mapping[str, Predicate], version: str
) -> CompiledFlag:
    salt = flag.assignment.salt if flag.assignment.salt is not None else key
    conditions: list[Any] = [rule.when for rule in flag.rules]
    rules = tuple(
        CompiledRule(
            label=rule.name or f"rules[{i}]",
            matches=compile_condition(rule.when, segments),
            serve=rule.serve,
            split=Split(salt, rule.split) if rule.split else None,
        )
        for i, rule in enumerate(flag.rules)
    )
    eligible: Predicate | None = None
    if isinstance(flag.eligible, str):
        eligible = segments[flag.eligible]
    elif flag.eligible is not None:
        eligible = compile_condition(flag.eligible, segments)
        conditions.append(flag.eligible)
    excluded: Predicate | None = None
    if flag.exclusions is not None:
        excluded = compile_condition(
            {"$or": [{"$segment": name} for name in flag.exclusions.segments]}, segments
        )
    split = Split(salt, flag.split) if flag.split else None
    schedule = flag.schedule
    metadata: dict[str, Scalar] = {**flag.metadata, "assignmentUnit": flag.assignment.unit_name}
    metadata["configVersion"] = version
    if flag.experiment is not None:
        metadata["experimentKey"] = flag.experiment.key
    return CompiledFlag(
        key=key,
        enabled=flag.state == "on",
        default=flag.default,
        kind=_value_kind(flag.variations.values()),
        values=flag.variations,
        fresh={name: _fresh_copier(value) for name, value in flag.variations.items()},
        unit_key=flag.assignment.key,
        needs_unit=split is not None or flag.coverage < 100 or any(r.split for r in rules),
        salt=salt,
        excluded=excluded,
        exclusion_serve=(flag.exclusions.serve if flag.exclusions else None) or flag.default,
        rules=rules,
        eligible=eligible,
        start=schedule.start.timestamp() if schedule and schedule.start else None,
        end=schedule.end.timestamp() if schedule and schedule.end else None,
        coverage=flag.coverage,
        split=split,
        reads_targeting_key=any(
            TARGETING_KEY in referenced_attributes(condition) for condition in conditions
        ),
        metadata=metadata,
        source=flag,
    )


def _value_kind(values: Collection[Any]) -> str:
    """What the variations are: boolean, string, integer, float, object or array.

    Validation guarantees one JSON type per flag; numbers are ``integer`` when every
    variation is a whole number written without a decimal point, else ``float``.
    """
    kinds = {json_kind(value) for value in values}
    kind = kinds.pop()
    if kind == "number":
        return "integer" if all(type(value) is int for value in values) else "float"
    return kind


def _fresh_copier(value: Any) -> Callable[[], Any]:
    """A function returning a copy of ``value`` that callers may mutate.

    Scalars are immutable and returned as they are; flat objects and lists get the cheap
    shallow copy (which is a full copy for them); nested values get a deep copy.
    """
    if isinstance(value, dict):
        if all(isinstance(item, Scalar | None) for item in value.values()):
            return value.copy
    elif isinstance(value, list):
        if all(isinstance(item, Scalar | None) for item in value):
            return value.copy
    else:
        return lambda: value
    return lambda: copy.deepcopy(value)
