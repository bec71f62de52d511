"""The evaluation order (docs/flag-files.md, "Evaluation"), as one pure function, and the one
mapping of a failed evaluation.

Both ways of evaluating, the direct :class:`~modelflags.engine.flagset.FlagSet` path and the
OpenFeature provider, call :func:`decide` and turn what it returns into their own result
type; when it raises, both report :func:`failure` of the error, and for a key no flag has,
:func:`not_found_message`. So the two paths cannot disagree on a variation, a reason, a rule,
an error code or a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelflags.engine.bucketing import in_coverage
from modelflags.engine.compiled import CompiledFlag
from modelflags.engine.decision import Decision
from modelflags.engine.resolution import ErrorCode, Reason
from modelflags.engine.unit_ids import MAX_UNIT_ID, unit_id_of
from modelflags.schema.steps import StepName

__all__ = ["NOT_TEXT", "decide", "failure", "not_found_message"]

NOT_TEXT = "the unit id is not valid Unicode text (it holds a lone surrogate)"
"""Message for a unit id the hash cannot encode (``decide`` raises UnicodeEncodeError)."""


def decide(
    flag: CompiledFlag, attributes: Mapping[str, Any], targeting_key: Any, now: float | None
) -> tuple[Decision, str | None]:
    """Which variation ``flag`` serves for a context, why, and the unit id the context names.

    ``attributes`` are the context attributes (conditions read them), ``targeting_key`` the
    OpenFeature targeting key, ``now`` the time in epoch seconds (needed only by flags with a
    schedule, else None). The steps run in the order of
    :data:`StepName.ORDER <modelflags.schema.steps.StepName.ORDER>`, the rules between
    ``exclusions`` and ``not-eligible``; the decision is one the flag built when it compiled
    (shared, never copied), and the unit id is None when the context names none (or, for a
    step that reports an error, an unusable one).

    Conditions never raise, but reading the unit id and hashing it can: ``decide`` raises
    whatever ``attributes.get`` raises (a broken Mapping, when the unit id is an attribute)
    and ``UnicodeEncodeError`` for a unit id that is not valid Unicode text (a lone
    surrogate). Callers report both as :func:`failure` of the error.
    """
    decisions = flag.decisions
    raw = targeting_key if flag.unit_key is None else attributes.get(flag.unit_key)
    if not flag.enabled:  # still names the unit: outcomes after a rollback join its exposures
        return decisions.off, unit_id_of(raw)
    unit = raw if type(raw) is str and len(raw) <= MAX_UNIT_ID else unit_id_of(raw)
    if unit is None and raw is not None:
        return decisions.invalid_unit, None
    if not unit and flag.needs_unit:
        return decisions.missing_unit, None
    if flag.excluded is not None and flag.excluded(attributes):
        return decisions.excluded, unit
    for rule in flag.rules:
        if rule.matches(attributes):
            if rule.served is not None:
                return rule.served, unit
            if rule.split is not None:
                return rule.arms[rule.split.choose(unit or "")], unit
    if flag.eligible is not None and not flag.eligible(attributes):
        return decisions.not_eligible, unit
    if now is not None and flag.outside_schedule(now):
        return decisions.schedule, unit
    if flag.coverage < 100 and not in_coverage(flag.salt, unit or "", flag.coverage):
        return decisions.holdout, unit
    if flag.split is not None:
        return decisions.split[flag.split.choose(unit or "")], unit
    return decisions.default, unit


def failure(flag: CompiledFlag, error: Exception) -> Decision:
    """The decision both evaluation paths report when :func:`decide` (or reading the context)
    raised ``error``: the flag's default, reason ``ERROR``, rule ``error`` and no unit id.

    A unit id that is not valid Unicode text is ``INVALID_CONTEXT``; anything else
    ``GENERAL``, with the error in the message.
    """
    if isinstance(error, UnicodeEncodeError):
        code, message = ErrorCode.INVALID_CONTEXT, NOT_TEXT
    else:
        code, message = ErrorCode.GENERAL, f"evaluation failed: {error!r}"
    return Decision(flag.default, Reason.ERROR, StepName.ERROR, code, message)


def not_found_message(key: str) -> str:
    """The message of ``FLAG_NOT_FOUND`` (rule ``unknown``) for a key no flag has."""
    return f"flag '{key}' is not defined"
