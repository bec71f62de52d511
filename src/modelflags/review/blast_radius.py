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

The weighted-rendezvous integral
--------------------------------
A unit draws ``E_v = -ln u(v) ~ Exp(1)`` per variation name, independently, and the same
draws in both versions (same salt and unit). The old version serves ``argmin E_v / w_v``, the
new ``argmin E_v / w'_v``; a name missing on one side has weight 0 there. For ``a != b``,
``old = a`` and ``new = b`` exactly when

* ``E_b > E_a * w_b / w_a`` and ``E_b < E_a * w'_b / w'_a``, and
* for every other ``v``: ``E_v > E_a * m_v(t)`` with ``t = E_b / E_a`` and
  ``m_v(t) = max(w_v / w_a, t * w'_v / w'_b)``.

Condition on ``E_a = x`` and substitute ``E_b = t x`` (``dE_b = x dt``); each other ``E_v``
survives with probability ``exp(-x m_v(t))``, so

    P(a, b) = ∫ dt ∫ x exp(-x (1 + t + Σ m_v(t))) dx = ∫_{w_b/w_a}^{w'_b/w'_a} dt / K(t)²,
    K(t) = 1 + t + Σ_{v ≠ a, b} max(w_v / w_a, t * w'_v / w'_b)

(the upper limit is ``∞`` when ``w'_a = 0``). ``K`` is piecewise linear with breakpoints at
``t = (w_v / w_a) / (w'_v / w'_b)``, and on a linear piece ``∫_s^r dt / K² = (r - s) / (K(s)
K(r))``, or ``1 / (K(s) * slope)`` up to infinity: a finite sum, exact up to rounding. A unit
stays in ``a`` when ``E_v > E_a * max(w_v / w_a, w'_v / w'_a)`` for all ``v``, which gives the
diagonal independently, ``P(a, a) = 1 / (1 + Σ_v max(w_v / w_a, w'_v / w'_a))``; that rows
then sum to ``w_a / Σw`` and columns to ``w'_b / Σw'`` checks the whole matrix.
For ``{control: 50, candidate: 50} -> {90, 10}``: ``P(candidate, control) = ∫_1^9 dt/(1+t)²
= 0.4``.

Coverage draws ``u("coverage")``, independent of the variation draws, and a unit is in when
``u < c``: in both versions with probability ``min(c, c')``, in the old only ``(c - c')+``,
in the new only ``(c' - c)+``. (No variation may be named ``coverage``, so no arm shares
that draw.)
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from modelflags.engine.compiled import CompiledFlag
from modelflags.engine.evaluation import decide

__all__ = ["BlastRadius", "Matrix", "blast_radius", "rendezvous_joint"]

Matrix = dict[tuple[str, str], float]
"""(old variation, new variation) → share of units; zero cells are left out."""

Method = Literal["exact", "independent", "sampled"]
Population = Literal["all", "reaching-split", "synthetic"]


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
    contexts: Sequence[Mapping[str, Any]] = ({},),
    samples: int = 100_000,
) -> BlastRadius:
    """The matrix for one flag present in both versions, at time ``now`` (epoch seconds).

    ``same_targeting`` says that exclusions, rules and eligibility (with the segments they
    use) are identical and serve the same variations in both versions (see
    :func:`~modelflags.review.changes.same_targeting`); ``contexts`` and ``samples`` shape
    the synthetic traffic when the matrix has to be sampled.
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
        return _result("exact", population, detail, matrix, old=old, new=new)
    matrix, decided_by = _sample(old, new, now, contexts, samples)
    margin = 1.96 * math.sqrt(0.25 / samples)
    detail = (
        f"both versions evaluated by the engine on {samples:,} synthetic units, "
        f"each share within ±{margin * 100:.2f} points at 95%"
    )
    ineligible = [
        f"{steps['not-eligible']:.0%} in the {side} version"
        for side, steps in decided_by.items()
        if steps.get("not-eligible", 0) >= 0.5
    ]
    notes = (
        (
            f"most synthetic units were not eligible ({', '.join(ineligible)}); "
            "pass --context with attributes of your traffic",
        )
        if ineligible
        else ()
    )
    result = _result("sampled", "synthetic", detail, matrix, old=old, new=new)
    return replace(result, samples=samples, margin=margin, decided_by=decided_by, notes=notes)


def rendezvous_joint(old: Mapping[str, float], new: Mapping[str, float]) -> Matrix:
    """P(old split serves a, new split serves b) for the same unit, by the integral above.

    Weights are relative and may be zero; a name missing from one mapping weighs 0 there.
    """
    names = list(dict.fromkeys([*old, *new]))
    w0 = {v: float(old.get(v, 0)) for v in names}
    w1 = {v: float(new.get(v, 0)) for v in names}
    joint: Matrix = {}
    for a in (v for v in names if w0[v] > 0):
        for b in (v for v in names if w1[v] > 0):
            share = _stay(a, w0, w1) if a == b else _move(a, b, w0, w1)
            if share > 0:
                joint[(a, b)] = share
    return joint


def _stay(a: str, w0: Mapping[str, float], w1: Mapping[str, float]) -> float:
    return 1 / (1 + math.fsum(max(w0[v] / w0[a], w1[v] / w1[a]) for v in w0 if v != a))


def _move(a: str, b: str, w0: Mapping[str, float], w1: Mapping[str, float]) -> float:
    low = w0[b] / w0[a]
    high = w1[b] / w1[a] if w1[a] > 0 else math.inf
    if high <= low:
        return 0.0
    others = [(w0[v] / w0[a], w1[v] / w1[b]) for v in w0 if v not in (a, b)]

    def k(t: float) -> float:
        return 1 + t + math.fsum(max(c, d * t) for c, d in others)

    cuts = sorted({low, *(c / d for c, d in others if d > 0 and low < c / d < high)})
    total = math.fsum(
        (r - s) / (k(s) * k(r))
        for s, r in zip(cuts, [*cuts[1:], high], strict=True)
        if r < math.inf
    )
    if high == math.inf:  # beyond the last cut every max(c, d t) with d > 0 is d t
        total += 1 / (k(cuts[-1]) * (1 + math.fsum(d for _, d in others)))
    return total


Tail = tuple[float, dict[str, float], str]
"""What a unit that reaches the schedule step gets: (coverage in 0..1, weights, default)."""


def _tail(flag: CompiledFlag, now: float) -> Tail:
    """Coverage 0 stands for "everyone gets the default" (off, outside the window, no split)."""
    outside = (flag.start is not None and now < flag.start) or (
        flag.end is not None and now >= flag.end
    )
    if not flag.enabled or outside or flag.split is None:
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
        if _canonical(old.values[a]) != _canonical(new.values[b])
    )
    return BlastRadius(method, population, detail, matrix, changed)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


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
        attributes = {**bases[i % len(bases)], "targetingKey": unit}
        if old.unit_key is not None:
            attributes[old.unit_key] = unit
        new_attributes = attributes
        if rekeyed:
            new_attributes = {**attributes, new.unit_key or "targetingKey": f"rekeyed-{i}"}
        a, _, old_step, _, _ = decide(old, attributes, attributes["targetingKey"], now)
        b, _, new_step, _, _ = decide(new, new_attributes, new_attributes["targetingKey"], now)
        cells[(a, b)] += 1
        steps["old"][old_step] += 1
        steps["new"][new_step] += 1
    matrix = {cell: count / samples for cell, count in cells.items()}
    decided_by = {
        side: {step: count / samples for step, count in sorted(counter.items())}
        for side, counter in steps.items()
    }
    return matrix, decided_by
