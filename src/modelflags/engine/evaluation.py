"""The evaluation order (docs/flag-files.md, "Evaluation"), as one pure function.

:func:`decide` returns plain values rather than an object so that both callers, the direct
:class:`~modelflags.engine.flagset.FlagSet` path and the OpenFeature provider, build exactly
the result type they need with no intermediate allocation. It never raises for any context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelflags.engine.bucketing import in_coverage
from modelflags.engine.compiled import CompiledFlag
from modelflags.engine.resolution import ErrorCode, Reason

__all__ = ["MAX_UNIT_ID", "NOT_TEXT", "Decision", "decide", "error_message", "unit_id_of"]

MAX_UNIT_ID = 1024
"""The longest unit id, in characters; a longer one is ``INVALID_CONTEXT``."""

NOT_TEXT = "the unit id is not valid Unicode text (it holds a lone surrogate)"
"""Message for a unit id the hash cannot encode (``decide`` raises UnicodeEncodeError)."""

Decision = tuple[str, str, str, "str | None", "str | None"]
"""(variant, reason, rule, unit id, error code)."""


def decide(
    flag: CompiledFlag, attributes: Mapping[str, Any], targeting_key: Any, now: float | None
) -> Decision:
    """Which variation ``flag`` serves for a context, and why.

    ``attributes`` are the context attributes (conditions read them), ``targeting_key`` the
    OpenFeature targeting key, ``now`` the time in epoch seconds (needed only by flags with a
    schedule). The ``rule`` names the step or rule that decided: ``off``, ``no-unit``,
    ``exclusions``, a rule's name, ``not-eligible``, ``schedule``, ``holdout``, ``split`` or
    ``default``.
    """
    default = flag.default
    raw = targeting_key if flag.unit_key is None else attributes.get(flag.unit_key)
    if not flag.enabled:  # still names the unit: outcomes after a rollback join its exposures
        return default, Reason.DISABLED, "off", unit_id_of(raw), None
    unit = raw if type(raw) is str and len(raw) <= MAX_UNIT_ID else unit_id_of(raw)
    if unit is None and raw is not None:
        return default, Reason.ERROR, "no-unit", None, ErrorCode.INVALID_CONTEXT
    if not unit and flag.needs_unit:
        return default, Reason.ERROR, "no-unit", None, ErrorCode.TARGETING_KEY_MISSING
    if flag.excluded is not None and flag.excluded(attributes):
        return flag.exclusion_serve, Reason.TARGETING_MATCH, "exclusions", unit, None
    for rule in flag.rules:
        if rule.matches(attributes):
            if rule.split is None:
                return rule.serve or default, Reason.TARGETING_MATCH, rule.label, unit, None
            return rule.split.choose(unit or ""), Reason.SPLIT, rule.label, unit, None
    if flag.eligible is not None and not flag.eligible(attributes):
        return default, Reason.DEFAULT, "not-eligible", unit, None
    if now is not None and (
        (flag.start is not None and now < flag.start) or (flag.end is not None and now >= flag.end)
    ):
        return default, Reason.DEFAULT, "schedule", unit, None
    if flag.coverage < 100 and not in_coverage(flag.salt, unit or "", flag.coverage):
        return default, Reason.DEFAULT, "holdout", unit, None
    if flag.split is not None:
        return flag.split.choose(unit or ""), Reason.SPLIT, "split", unit, None
    reason = Reason.DEFAULT if flag.rules else Reason.STATIC
    return default, reason, "default", unit, None


def unit_id_of(raw: Any) -> str | None:
    """A unit id as a string: strings as they are, integers in decimal, else ``None``.

    Booleans, floats and structured values are not unit ids: two services that spell the
    same unit differently would otherwise land in different arms. Text longer than
    :data:`MAX_UNIT_ID` characters is not one either: a request could otherwise make every
    evaluation hash and copy megabytes.
    """
    if type(raw) is str:
        return raw if len(raw) <= MAX_UNIT_ID else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def error_message(code: str | None, flag: CompiledFlag) -> str | None:
    """The human text for an evaluation error code."""
    if code == ErrorCode.TARGETING_KEY_MISSING:
        where = f"attribute '{flag.unit_key}'" if flag.unit_key else "targeting key"
        return f"flag '{flag.key}' splits on the {where}, which the context does not set"
    if code == ErrorCode.INVALID_CONTEXT:
        where = f"attribute '{flag.unit_key}'" if flag.unit_key else "targeting key"
        return (
            f"flag '{flag.key}': the {where} must be a string of at most {MAX_UNIT_ID} "
            "characters or an integer"
        )
    return None
