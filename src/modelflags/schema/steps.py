"""The evaluation steps, by the names flag metadata's ``rule`` gives them, in evaluation order.

When a step rather than one of the flag's rules decides what a flag serves, the ``rule`` of
the flag metadata (and of exposure events and ``explain`` traces) names that step. The names
are part of the file format: no rule may be named like a step, or events could not tell the
rule from the step (``reserved-name``). The engine evaluates the steps in :data:`ORDER`,
trying the flag's rules, in file order, between :data:`BEFORE_RULES` and :data:`AFTER_RULES`.

>>> StepName.ORDER.index(StepName.HOLDOUT) < StepName.ORDER.index(StepName.SPLIT)
True
"""

from __future__ import annotations

from typing import Final

__all__ = ["StepName"]


class StepName:
    """The step names, their order, and the names no rule may take."""

    OFF: Final = "off"
    """``state: off``: everyone gets the default."""
    NO_UNIT: Final = "no-unit"
    """The flag needs a unit id and the context has none, or one of an unusable type."""
    EXCLUSIONS: Final = "exclusions"
    """An exclusion segment matched."""
    NOT_ELIGIBLE: Final = "not-eligible"
    """The unit is not ``eligible``."""
    SCHEDULE: Final = "schedule"
    """The time is outside the ``schedule`` window."""
    HOLDOUT: Final = "holdout"
    """The unit is held out by ``coverage``."""
    SPLIT: Final = "split"
    """The flag's ``split`` picked the variation."""
    DEFAULT: Final = "default"
    """Nothing above decided: the flag serves its default."""
    ERROR: Final = "error"
    """Not a step: the evaluation failed (a broken context); the flag's default is served."""
    UNKNOWN: Final = "unknown"
    """Not a step: no flag has the requested key."""

    BEFORE_RULES: Final = (OFF, NO_UNIT, EXCLUSIONS)
    """The steps tried before the flag's rules, in order."""
    AFTER_RULES: Final = (NOT_ELIGIBLE, SCHEDULE, HOLDOUT, SPLIT, DEFAULT)
    """The steps tried after the flag's rules, in order; the last one always decides."""
    ORDER: Final = (*BEFORE_RULES, *AFTER_RULES)
    """Every step, in evaluation order (the rules come between the two parts)."""
    OUTCOMES: Final = (ERROR, UNKNOWN)
    """What ``rule`` says when no step decided."""
    RESERVED: Final = frozenset((*ORDER, *OUTCOMES))
    """The names no rule may take."""
