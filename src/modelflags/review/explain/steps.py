"""The vocabulary of an ``explain`` trace: what each step is called and how it can come out.

The trace names its steps as the flag file names what they check (``state``, ``unit``,
``rule``, ``eligible``, ``coverage``); where a step is also an evaluation step of the engine,
the engine's name is used (:class:`~modelflags.schema.steps.StepName`).
"""

from __future__ import annotations

from typing import Final

from modelflags.schema.steps import StepName

__all__ = ["Outcome", "TraceStep"]


class TraceStep:
    """The names of a trace's steps (``Step.step``), in evaluation order."""

    STATE: Final = "state"
    UNIT: Final = "unit"
    EXCLUSIONS: Final = StepName.EXCLUSIONS
    RULE: Final = "rule"
    ELIGIBLE: Final = "eligible"
    SCHEDULE: Final = StepName.SCHEDULE
    COVERAGE: Final = "coverage"
    SPLIT: Final = StepName.SPLIT
    DEFAULT: Final = StepName.DEFAULT


class Outcome:
    """How a trace step came out (``Step.outcome``)."""

    PASSED: Final = "passed"
    """The step was checked and let the evaluation go on."""
    MATCHED: Final = "matched"
    """A rule or an exclusion matched."""
    NO_MATCH: Final = "no match"
    """A rule or the exclusions did not match."""
    DECIDED: Final = "decided"
    """The step chose the variation."""
    NOT_REACHED: Final = "not reached"
    """An earlier step decided."""
