"""The next step of a ramp as an edit of a flag's ``split``: one arm to a given percent.

VARIATION gets PERCENT% of the split and the other arms share the rest in their old relative
weights. Weighted rendezvous makes that step monotone: raising one arm's share while the
others keep their relative weights only moves units *into* it (see ``docs/assignment.md``).
A unit stays in VARIATION exactly when no other arm's weight grows relative to VARIATION's,
which :func:`plan_ramp` checks with integers; a step that would move units out of it
(lowering its share) needs ``force``.

Weights are integers on the smallest total of 100, 1000, ... that writes PERCENT exactly
(25 → 100, 12.5 → 1000). The other arms get the rest by largest remainder; when that cannot
keep their ratio exactly (three or more arms), the plan says so and the blast radius shows
the few units that move between them. Rounding never moves a unit out of VARIATION and never
drops an arm: where it would, the next total (ten times larger) is used.

:mod:`.edit` makes the plan an edit of the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from modelflags.errors import ModelFlagsError
from modelflags.review.diff.rendezvous import rendezvous_joint

__all__ = ["MAX_DECIMALS", "RampError", "RampPlan", "parse_percent", "plan_ramp"]

MAX_DECIMALS = 4
"""Most decimal places PERCENT may have (12.3456 → a total of 1,000,000)."""

_MAX_TOTAL_EXPONENT = 8  # totals up to 100 * 10**8 when rounding needs more room
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%?\s*")


class RampError(ModelFlagsError):
    """A ramp that cannot be planned (no arm left to take the rest, a bad percent)."""


@dataclass(frozen=True)
class RampPlan:
    """New integer weights for a split, and what they do to its units."""

    variation: str
    percent: Decimal
    before: dict[str, int]
    after: dict[str, int]
    total: int

    @property
    def changed(self) -> bool:
        return self.after != self.before

    @property
    def moves_out(self) -> bool:
        """Whether some unit in VARIATION would leave it: its weight falls to 0, or another
        arm's weight grows relative to VARIATION's."""
        v = self.variation
        old, new = self.before.get(v, 0), self.after.get(v, 0)
        if old == 0:
            return False
        return new == 0 or any(
            self.after.get(arm, 0) * old > weight * new for arm, weight in self.before.items()
        )

    @property
    def exact_ratio(self) -> bool:
        """Whether the other arms kept their relative weights exactly."""
        others = [(a, w) for a, w in self.before.items() if a != self.variation]
        return all(self.after[a] * w2 == self.after[b] * w1 for a, w1 in others for b, w2 in others)

    def share_out(self) -> float:
        """Share of VARIATION's units that the step moves to other arms (0 when none)."""
        old = self.before.get(self.variation, 0) / sum(self.before.values())
        if old == 0:
            return 0.0
        joint = rendezvous_joint(self.before, self.after)
        moved = sum(p for (a, b), p in joint.items() if a == self.variation != b)
        return moved / old


def parse_percent(text: str) -> Decimal:
    """PERCENT as written on the command line: ``25``, ``12.5`` or ``25%``, from 0 to 100."""
    match = _PERCENT.fullmatch(text)
    if match is None:
        raise RampError(f"not a percent: {text!r} (write e.g. 25 or 12.5)")
    percent = Decimal(match[1])
    if percent > 100:
        raise RampError(f"{match[1]} is out of 0-100")
    if -int(percent.normalize().as_tuple().exponent) > MAX_DECIMALS:
        raise RampError(f"{match[1]} has more than {MAX_DECIMALS} decimal places")
    return percent


def plan_ramp(weights: Mapping[str, int], variation: str, percent: Decimal) -> RampPlan:
    """Weights that give ``variation`` exactly ``percent``% and keep the other arms' ratio.

    ``weights`` is the current split (declaration order kept; a new arm comes last). The
    plan is unchanged when ``variation`` already has exactly that share. Raises
    :class:`RampError` when no other arm has weight to take the rest.
    """
    before = dict(weights)
    share = Fraction(percent) / 100
    if share == Fraction(before.get(variation, 0), sum(before.values())):
        return RampPlan(variation, percent, before, before, sum(before.values()))
    others = {arm: w for arm, w in before.items() if arm != variation}
    if share < 1 and not any(others.values()):
        raise RampError(
            f"no other arm of the split has weight to take the other {100 - percent}% "
            f"(arms: {', '.join(f'{a} {w}' for a, w in before.items())})"
        )
    places = max(0, -int(percent.normalize().as_tuple().exponent))
    keep_in = share > Fraction(before.get(variation, 0), sum(before.values()))
    for exponent in range(places, _MAX_TOTAL_EXPONENT + 1):
        total = 100 * 10**exponent
        target = int(share * total)
        rest = _apportion(others, total - target, target, before.get(variation, 0), keep_in)
        if rest is not None:
            after = {arm: rest.get(arm, target) for arm in before} | {variation: target}
            return RampPlan(variation, percent, before, after, total)
    raise RampError(  # only for a step too small for integer weights to express
        f"cannot give '{variation}' {percent}% with integer weights up to a total of "
        f"{100 * 10**_MAX_TOTAL_EXPONENT:,} without moving units out of it"
    )


def _apportion(
    others: Mapping[str, int], rest: int, target: int, old: int, keep_in: bool
) -> dict[str, int] | None:
    """``rest`` split over ``others`` in proportion (largest remainder, ties to the arm
    declared first), or ``None`` when an arm would drop to 0 or, with ``keep_in``, grow
    relative to VARIATION (whose weight goes from ``old`` to ``target``)."""
    total = sum(others.values())
    exact = {arm: Fraction(rest * w, total) if total else Fraction(0) for arm, w in others.items()}
    result = {arm: math.floor(share) for arm, share in exact.items()}
    leftover = rest - sum(result.values())
    order = sorted(others, key=lambda arm: exact[arm] - result[arm], reverse=True)  # stable
    for arm in order:
        if leftover == 0:
            break
        if keep_in and old and (result[arm] + 1) * old > others[arm] * target:
            continue  # one more unit of weight would pull units out of VARIATION
        result[arm] += 1
        leftover -= 1
    if leftover or (rest and any(result[arm] == 0 < w for arm, w in others.items())):
        return None
    return result
