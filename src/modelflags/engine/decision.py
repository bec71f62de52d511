"""What an evaluation decided: the variation, the reason, and the step or rule that chose it.

Every answer a flag can give is a :class:`Decision` built once, when the flag compiles
(:class:`FlagDecisions` for the steps, :func:`rule_decisions` for a rule): evaluating returns
one of them and allocates nothing for it. Only a failed evaluation, whose message quotes the
error, gets a decision of its own (:func:`~modelflags.engine.evaluation.failure`).

>>> decisions = FlagDecisions.of(
...     "route", "control", unit_key=None, exclusion_serve="control", has_rules=False,
...     arms=("a", "b"),
... )
>>> decisions.split["b"]
Decision(variant='b', reason='SPLIT', rule='split', error=None, message=None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from modelflags.engine.resolution import ErrorCode, Reason
from modelflags.engine.unit_ids import MAX_UNIT_ID
from modelflags.schema.steps import StepName

__all__ = ["Decision", "FlagDecisions", "rule_decisions"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Which variation a flag serves, why (an OpenFeature reason), and who decided.

    ``rule`` is the deciding rule's label or a :class:`~modelflags.schema.steps.StepName`;
    ``error`` an OpenFeature error code, with its ``message``, when the evaluation failed.
    """

    variant: str
    reason: str
    rule: str
    error: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class FlagDecisions:
    """The decision of each step of one flag (:data:`StepName.ORDER
    <modelflags.schema.steps.StepName.ORDER>`); ``split`` holds one per arm."""

    off: Decision
    invalid_unit: Decision
    missing_unit: Decision
    excluded: Decision
    not_eligible: Decision
    schedule: Decision
    holdout: Decision
    split: Mapping[str, Decision]
    default: Decision

    @classmethod
    def of(
        cls,
        key: str,
        default: str,
        *,
        unit_key: str | None,
        exclusion_serve: str,
        has_rules: bool,
        arms: Iterable[str],
    ) -> FlagDecisions:
        """The decisions of flag ``key``: ``unit_key`` is its ``assignment.key``, ``arms`` the
        variations of its own split (none without one)."""
        where = f"attribute '{unit_key}'" if unit_key else "targeting key"
        invalid = (
            f"flag '{key}': the {where} must be a string of at most {MAX_UNIT_ID} "
            "characters or an integer"
        )
        missing = f"flag '{key}' splits on the {where}, which the context does not set"
        return cls(
            off=Decision(default, Reason.DISABLED, StepName.OFF),
            invalid_unit=Decision(
                default, Reason.ERROR, StepName.NO_UNIT, ErrorCode.INVALID_CONTEXT, invalid
            ),
            missing_unit=Decision(
                default, Reason.ERROR, StepName.NO_UNIT, ErrorCode.TARGETING_KEY_MISSING, missing
            ),
            excluded=Decision(exclusion_serve, Reason.TARGETING_MATCH, StepName.EXCLUSIONS),
            not_eligible=Decision(default, Reason.DEFAULT, StepName.NOT_ELIGIBLE),
            schedule=Decision(default, Reason.DEFAULT, StepName.SCHEDULE),
            holdout=Decision(default, Reason.DEFAULT, StepName.HOLDOUT),
            split={arm: Decision(arm, Reason.SPLIT, StepName.SPLIT) for arm in arms},
            default=Decision(
                default, Reason.DEFAULT if has_rules else Reason.STATIC, StepName.DEFAULT
            ),
        )


def rule_decisions(
    label: str, serve: str | None, arms: Iterable[str]
) -> tuple[Decision | None, dict[str, Decision]]:
    """A rule's decisions: the one for its ``serve`` (None when it splits), and one per arm
    of its split (none when it serves one variation)."""
    served = Decision(serve, Reason.TARGETING_MATCH, label) if serve is not None else None
    return served, {arm: Decision(arm, Reason.SPLIT, label) for arm in arms}
