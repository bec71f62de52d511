"""The blast radius of a flag edit: which share of units moves from which variation to which.

The result is a matrix ``share[(old, new)]`` over the flag's units (rows: the variation the
old version serves, columns: the new one), computed by one of three named methods:

``exact``
    The outcome depends on the unit's hashes only (no conditions on either side, or the same
    conditions serving the same variations on both sides, in which case the matrix covers the
    units that reach the split and everybody else keeps their variation). The matrix follows
    from the split weights, the coverage and the schedule in closed form, below.
``independent``
    As ``exact``, but the salt or the unit key changed: every hash draw is new, so old and new
    assignments are independent and the matrix is the product of the old and new shares.
``sampled``
    Conditions differ, or decide which variation is served: the share depends on traffic. Both
    versions are evaluated by the real engine (:func:`~modelflags.engine.evaluation.decide`)
    on ``samples`` synthetic units carrying the given context attributes. Every share is
    within ``margin`` (a 95% bound, ``1.96 * sqrt(0.25 / samples)``) of its value on that
    synthetic traffic.

A version that is off serves its default to every unit, whatever the traffic: the result
says so in ``serves_everyone``, as that column (or row) of the matrix is exact even when the
other side's is sampled.

``exact`` takes the units in both versions' splits from
:func:`~modelflags.review.diff.rendezvous.rendezvous_joint` (the closed form and its derivation
live there), and adds coverage, state and schedule. Coverage draws ``u("coverage")``,
independent of the variation draws, and a unit is in when ``u < c``: in both versions with
probability ``min(c, c')``, in the old only ``(c - c')+``, in the new only ``(c' - c)+``. (No
variation may be named ``coverage``, so no arm shares that draw.) A version that is off,
outside its schedule or without a split counts as coverage 0: everyone gets its default.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from modelflags.engine.compiled import CompiledFlag
from modelflags.engine.evaluation import decide
from modelflags.review.diff.changes import canonical_json
from modelflags.review.diff.rendezvous import Matrix, rendezvous_joint
from modelflags.schema.models import TARGETING_KEY
from modelflags.schema.steps import StepName

__all__ = ["NOT_ELIGIBLE_NOTE_ABOVE", "BlastRadius", "Matrix", "blast_radius"]

Method = Literal["exact", "independent", "sampled"]
Population = Literal["all", "reaching-split", "synthetic"]

NOT_ELIGIBLE_NOTE_ABOVE = 0.5
"""Without ``contexts``, a sampled result notes that the synthetic units say little about real
traffic when more than this share of them is not eligible in either version."""


@dataclass(frozen=True)
class BlastRadius:
    """How a flag edit moves units between variations, and how that was worked out."""

    method: Method
    population: Population
    """``all`` units (with an id), the units ``reaching-split`` (the others keep their
    variation), or the ``synthetic`` units of a sample."""
    detail: str
    matrix: Matrix
    value_changed: float
    """Share of units served a different value (moved, or their variation's value edited)."""
    samples: int | None = None
    margin: float = 0.0
    decided_by: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Sampled only: per side (``old``, ``new``), the share decided by each step or rule."""
    serves_everyone: Mapping[str, str] = field(default_factory=dict)
    """Per side (``old``, ``new``) whose version is off: the variation every unit gets there,
    whatever the method and the traffic."""
    notes: tuple[str, ...] = ()

    @property
    def moved(self) -> float:
        """Share of units whose variation changes."""
        return math.fsum(share for (a, b), share in self.matrix.items() if a != b)

    @property
    def old_shares(self) -> dict[str, float]:
        return _margin(self.matrix, 0)

    @property
    def new_shares(self) -> dict[str, float]:
        return _margin(self.matrix, 1)


def blast_radius(
    old: CompiledFlag,
    new: CompiledFlag,
    *,
    now: float,
    same_targeting: bool,
    contexts: Sequence[Mapping[str, Any]] = (),
    samples: int = 100_000,
) -> BlastRadius:
    """The matrix for one flag present in both versions, at time ``now`` (epoch seconds).

    ``same_targeting`` says that exclusions, rules and eligibility (with the segments they
    use) are identical and serve the same variations in both versions (see
    :func:`~modelflags.review.diff.changes.same_targeting`); ``contexts`` (none: units without
    attributes) and ``samples`` shape the synthetic traffic when the matrix has to be sampled.
    """
    fronts = (_has_front(old), _has_front(new))
    exact = fronts == (False, False) or (fronts == (True, True) and same_targeting)
    tails = (_tail(old, now), _tail(new, now))
    if exact:
        population: Population = "all" if fronts == (False, False) else "reaching-split"
        linked = old.salt == new.salt and old.unit_key == new.unit_key
        if not linked and tails[0][0] > 0 and tails[1][0] > 0:
            matrix = _product(_tail_shares(tails[0]), _tail_shares(tails[1]))
            detail = (
                "the salt or the unit key changed, so every unit draws anew: old and new "
                "assignments are independent and each cell is old share times new share"
            )
            return _result("independent", population, detail, matrix, old=old, new=new)
        matrix = _tail_joint(tails[0], tails[1])
        detail = "closed form from the split weights, coverage and schedule; same hash draws"
        result = _result("exact", population, detail, matrix, old=old, new=new)
        return replace(result, notes=_arm_notes(old, new))
    matrix, decided_by = _sample(old, new, now, contexts, samples)
    margin = 1.96 * math.sqrt(0.25 / samples)
    detail = (
        f"both versions evaluated by the engine on {samples:,} synthetic units, "
        f"each share within ±{margin * 100:.2f} points at 95%"
    )
    notes = _arm_notes(old, new)
    ineligible = [
        f"{steps[StepName.NOT_ELIGIBLE]:.0%} in the {side} version"
        for side, steps in decided_by.items()
        if steps.get(StepName.NOT_ELIGIBLE, 0) > NOT_ELIGIBLE_NOTE_ABOVE
    ]
    if ineligible and not contexts:
        notes += (
            f"most synthetic units were not eligible ({', '.join(ineligible)}): they carry "
            "no attributes; pass --context with attributes of your traffic",
        )
    result = _result("sampled", "synthetic", detail, matrix, old=old, new=new)
    return replace(result, samples=samples, margin=margin, decided_by=decided_by, notes=notes)


def _arm_notes(old: CompiledFlag, new: CompiledFlag) -> tuple[str, ...]:
    """Why units move when split arms are renamed, added or removed (draws are per name)."""
    before, after = _arms(old), _arms(new)
    if not before or not after or before.keys() == after.keys():
        return ()
    removed = [name for name in before if name not in after]
    added = [name for name in after if name not in before]
    renamed = []
    for name in list(removed):  # an arm removed and one added with the same value: renamed
        value = canonical_json(before[name])
        twin = next((other for other in added if canonical_json(after[other]) == value), None)
        if twin is not None:
            renamed.append(f"{name} → {twin}")
            removed.remove(name)
            added.remove(twin)
    parts = [
        f"{verb} {', '.join(names)}"
        for verb, names in (("renamed", renamed), ("added", added), ("removed", removed))
        if names
    ]
    return (
        f"split arms {'; '.join(parts)}: the hash draws are per variation name, so a renamed "
        "arm is a new arm to assignment and its units are re-randomised across the arms, "
        "not carried over (keep a name to keep its units)",
    )


def _arms(flag: CompiledFlag) -> dict[str, Any]:
    """Variations with a positive weight in the flag's or a rule's split, with their values."""
    if not flag.enabled:
        return {}
    splits = [flag.split, *(rule.split for rule in flag.rules)]
    names = [name for split in splits if split for name, w in split.weights.items() if w > 0]
    return {name: flag.values[name] for name in dict.fromkeys(names)}


Tail = tuple[float, dict[str, float], str]
"""What a unit that reaches the schedule step gets: (coverage in 0..1, weights, default)."""


def _tail(flag: CompiledFlag, now: float) -> Tail:
    """Coverage 0 stands for "everyone gets the default" (off, outside the window, no split)."""
    if not flag.enabled or flag.outside_schedule(now) or flag.split is None:
        return 0.0, {}, flag.default
    return min(max(flag.coverage / 100, 0.0), 1.0), flag.split.weights, flag.default


def _tail_shares(tail: Tail) -> dict[str, float]:
    coverage, weights, default = tail
    shares = {default: 1 - coverage}
    for name, share in _split_shares(weights, coverage).items():
        shares[name] = shares.get(name, 0.0) + share
    return shares


def _split_shares(weights: Mapping[str, float], scale: float) -> dict[str, float]:
    total = math.fsum(weights.values())
    return {name: scale * weight / total for name, weight in weights.items() if weight > 0}


def _tail_joint(old: Tail, new: Tail) -> Matrix:
    (c0, w0, d0), (c1, w1, d1) = old, new
    cells: list[tuple[str, str, float]] = [(d0, d1, 1 - max(c0, c1))]
    if min(c0, c1) > 0:
        cells += [(a, b, min(c0, c1) * p) for (a, b), p in rendezvous_joint(w0, w1).items()]
    if c0 > c1:  # in the old coverage only: old split → new default
        cells += [(a, d1, p) for a, p in _split_shares(w0, c0 - c1).items()]
    if c1 > c0:  # in the new coverage only: old default → new split
        cells += [(d0, b, p) for b, p in _split_shares(w1, c1 - c0).items()]
    matrix: Matrix = {}
    for a, b, share in cells:
        if share > 0:
            matrix[(a, b)] = matrix.get((a, b), 0.0) + share
    return matrix


def _product(old: Mapping[str, float], new: Mapping[str, float]) -> Matrix:
    return {(a, b): p * q for a, p in old.items() for b, q in new.items() if p * q > 0}


def _has_front(flag: CompiledFlag) -> bool:
    """Whether conditions can decide before the split (off flags decide nothing)."""
    return flag.enabled and bool(flag.excluded or flag.rules or flag.eligible)


def _margin(matrix: Matrix, side: int) -> dict[str, float]:
    shares: dict[str, float] = {}
    for cell, share in matrix.items():
        shares[cell[side]] = shares.get(cell[side], 0.0) + share
    return shares


def _result(
    method: Method,
    population: Population,
    detail: str,
    matrix: Matrix,
    *,
    old: CompiledFlag,
    new: CompiledFlag,
) -> BlastRadius:
    changed = math.fsum(
        share
        for (a, b), share in matrix.items()
        if canonical_json(old.values[a]) != canonical_json(new.values[b])
    )
    sides = {"old": old, "new": new}
    everyone = {side: flag.default for side, flag in sides.items() if not flag.enabled}
    return BlastRadius(method, population, detail, matrix, changed, serves_everyone=everyone)


def _sample(
    old: CompiledFlag,
    new: CompiledFlag,
    now: float,
    contexts: Sequence[Mapping[str, Any]],
    samples: int,
) -> tuple[Matrix, dict[str, dict[str, float]]]:
    """Evaluate both versions with :func:`decide` on synthetic units ``unit-0``, ``unit-1``…

    Unit ``i`` carries the attributes of ``contexts[i % len(contexts)]`` with its id as the
    targeting key and as the value of each version's ``assignment.key``. When the two
    versions read the unit from different attributes, the new one gets a different id, so
    the re-keyed assignment is independent as it would be on real traffic.
    """
    bases = [dict(context) for context in contexts] or [{}]
    cells: Counter[tuple[str, str]] = Counter()
    steps: dict[str, Counter[str]] = {"old": Counter(), "new": Counter()}
    rekeyed = old.unit_key != new.unit_key
    for i in range(samples):
        unit = f"unit-{i}"
        attributes = {**bases[i % len(bases)], TARGETING_KEY: unit}
        if old.unit_key is not None:
            attributes[old.unit_key] = unit
        new_attributes = attributes
        if rekeyed:
            new_attributes = {**attributes, new.unit_attribute: f"rekeyed-{i}"}
        a, _ = decide(old, attributes, attributes[TARGETING_KEY], now)
        b, _ = decide(new, new_attributes, new_attributes[TARGETING_KEY], now)
        cells[(a.variant, b.variant)] += 1
        steps["old"][a.rule] += 1
        steps["new"][b.rule] += 1
    matrix = {cell: count / samples for cell, count in cells.items()}
    decided_by = {
        side: {step: count / samples for step, count in sorted(counter.items())}
        for side, counter in steps.items()
    }
    return matrix, decided_by
