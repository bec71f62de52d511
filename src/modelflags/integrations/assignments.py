"""An opt-in assignment logger: an OpenFeature hook that records what evaluation chose.

For teams that cannot wrap their model calls in ``evidence.exposure(...)``: register the
hook, and every evaluation with a unit records an ``assignment`` event through an
:class:`~modelflags.Evidence`, once per (unit, flag, variation)::

    from openfeature import api
    from modelflags.integrations.assignments import AssignmentLogger

    api.add_hooks([AssignmentLogger(evidence)])

An assignment is what evaluation chose; an exposure is what ran (see the evidence docs,
"Assignments"). The de-duplication and the event live in
:mod:`modelflags.evidence.assignment`; this module adapts them to OpenFeature's hook stages.
"""

from __future__ import annotations

from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType
from openfeature.hook import Hook, HookContext, HookHints

from modelflags.evidence.assignment import DEDUPE_SIZE, Assignments
from modelflags.evidence.recorder import Evidence

__all__ = ["AssignmentLogger"]


class AssignmentLogger(Hook):
    """Records an ``assignment`` event per (unit, flag, variation) through ``evidence``.

    It runs at the hook's ``finally`` stage, which sees the evaluation as the application
    gets it: an evaluation that failed (a provider error, or another hook that raised)
    records nothing, nor does one without a unit. ``dedupe_size`` bounds the keys
    remembered (least recently seen forgotten first, counted in ``counters["evicted"]``).
    Never raises into the evaluation.
    """

    def __init__(self, evidence: Evidence, *, dedupe_size: int = DEDUPE_SIZE) -> None:
        self.assignments = Assignments(evidence, dedupe_size=dedupe_size)

    @property
    def counters(self) -> dict[str, int]:
        """What became of the evaluations seen (see :attr:`Assignments.counters`)."""
        return self.assignments.counters

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        self.assignments.record(details, hook_context.evaluation_context)
