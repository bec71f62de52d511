"""The exact joint assignment of two weighted-rendezvous splits that share their hash draws.

:func:`rendezvous_joint` answers: for one unit, with the same salt and unit id in both
versions, what is the probability that the old weights assign variation ``a`` and the new
weights ``b``? Pure maths over the weights, no flags and no sampling:
:mod:`~modelflags.review.diff.blast_radius` combines it with coverage, state and schedule.

>>> joint = rendezvous_joint({"control": 50, "candidate": 50}, {"control": 90, "candidate": 10})
>>> round(joint[("candidate", "control")], 12)
0.4

The weighted-rendezvous integral
--------------------------------
A unit draws ``E_v = -ln u(v) ~ Exp(1)`` per variation name, independently, and the same
draws in both versions (same salt and unit; see ``docs/assignment.md``). The old version
serves ``argmin E_v / w_v``, the new ``argmin E_v / w'_v``; a name missing on one side has
weight 0 there. For ``a != b``, ``old = a`` and ``new = b`` exactly when

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

The draws are per variation *name*: a variation renamed between the versions is, to the
assignment, one arm removed (weight 0 in the new version) and another added (weight 0 in the
old), and its units are re-drawn like those of any new arm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["Matrix", "rendezvous_joint"]

Matrix = dict[tuple[str, str], float]
"""(old variation, new variation) → share of units; zero cells are left out."""


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
