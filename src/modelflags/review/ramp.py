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

The text edit goes through :mod:`.yaml_edit`: only the weights change (an arm new to the split
is appended to it), every other byte is kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from modelflags.errors import ModelFlagsError
from modelflags.review.flag_files import load_with, validate_edit
from modelflags.review.rendezvous import rendezvous_joint
from modelflags.review.yaml_edit import FlagText, Span, unified_diff

__all__ = [
    "MAX_DECIMALS",
    "RampEdit",
    "RampError",
    "RampPlan",
    "parse_percent",
    "plan_ramp",
    "ramp_text",
]

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


@dataclass(frozen=True)
class RampEdit:
    """The result of a ramp: the plan, the new file text and a unified diff against the old."""

    file: str
    flag_key: str
    plan: RampPlan
    text: str
    diff: str

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def ramp_text(
    text: str,
    file: str,
    flag_key: str,
    variation: str,
    percent: Decimal,
    *,
    force: bool = False,
    others: Sequence[tuple[str, bytes]] = (),
) -> RampEdit:
    """Ramp ``variation`` of ``flag_key`` to ``percent``% of its split in the file ``text``.

    ``others`` are the other files of the source, validated with the result. Raises
    :class:`FlagFileError`, located, when the file or the edited file does not validate, the
    flag, the variation or the split does not exist, the split is shared through an anchor or
    merge key with another flag, or the step would move units out of ``variation`` and
    ``force`` is false (``ramp-down``).
    """
    load_with(file, text, others)  # the file as it is must be valid
    flag = FlagText.parse(text, file, flag_key, "ramp")
    flag.require_variation(variation)
    split = flag.data.get("split")
    if not isinstance(split, dict):
        message = f"flag '{flag_key}' has no split to ramp"
        hint = f"add one first, e.g. 'split: {{{flag.data['default']}: 100}}'"
        raise flag.refusal("no-split", message, hint)
    flag.require_own(("split",))
    try:
        plan = plan_ramp(split, variation, percent)
    except RampError as error:
        raise flag.refusal("ramp-impossible", str(error), "", ("split",)) from error
    if plan.moves_out and not force:
        old = Fraction(split.get(variation, 0), sum(split.values()))
        message = (
            f"ramping '{variation}' from {float(old) * 100:.4g}% to {percent}% of the split "
            f"moves {plan.share_out():.1%} of its units out of it"
        )
        hint = "pass --force to ramp down anyway, or roll back instead"
        raise flag.refusal("ramp-down", message, hint, ("split", variation))
    spans: list[Span | None] = [
        flag.replace(("split", arm), w) if arm in split else flag.append(("split",), arm, w)
        for arm, w in plan.after.items()
    ]
    new_text = flag.apply(spans)
    flag.check(new_text, {**flag.data, "split": plan.after})
    validate_edit(file, new_text, others, command="ramp", where=flag.where)
    return RampEdit(file, flag_key, plan, new_text, unified_diff(text, new_text, file))
