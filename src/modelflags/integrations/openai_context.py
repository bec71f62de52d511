"""Who a routed call is for: the unit the caller names, and the context the flag sees.

A router's ``chat`` takes the unit as an OpenFeature ``EvaluationContext``, a mapping of its
attributes or a targeting key, or nothing at all. Either way the flag is evaluated the way
every OpenFeature client evaluates: the API's global context, then the transaction context
(what a web middleware sets for the request), then the client's own context, then the
caller's, each merged over the one before (the later wins on a clash). The exposure is
recorded with that same merged context, so its context attributes are those the evaluation
saw, wherever they were set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openfeature.evaluation_context import EvaluationContext, get_evaluation_context
from openfeature.transaction_context import get_transaction_context

from modelflags.integrations.openai_routing import log

__all__ = ["Context", "evaluated_context", "invocation_context"]

Context = EvaluationContext | Mapping[str, Any] | str
"""Who the call is for: an OpenFeature context, its attributes, or a targeting key."""


def invocation_context(unit: Context | None) -> EvaluationContext | None:
    """The OpenFeature context of ``unit`` (a ``targetingKey`` attribute becomes the targeting
    key); None when the caller named no unit. TypeError for anything else."""
    if unit is None or isinstance(unit, EvaluationContext):
        return unit
    if isinstance(unit, str):
        return EvaluationContext(targeting_key=unit)
    if not isinstance(unit, Mapping):
        raise TypeError(
            "the unit is an EvaluationContext, a mapping of its attributes or a targeting "
            f"key, not {type(unit).__name__}"
        )
    attributes = dict(unit)
    key = attributes.pop("targetingKey", None)
    return EvaluationContext(targeting_key=None if key is None else str(key), attributes=attributes)


def evaluated_context(flags: Any, invocation: EvaluationContext | None) -> EvaluationContext:
    """The context an OpenFeature client evaluates ``invocation`` with: the global context,
    the transaction context, the client's context (``flags.context``) and ``invocation``,
    merged in that order, as the SDK's client merges them.

    Hooks may change the context further inside the evaluation; what they add is not seen
    here. Never raises: when a context cannot be read, ``invocation`` alone is used.
    """
    try:
        merged = get_evaluation_context().merge(get_transaction_context())
        client = getattr(flags, "context", None)
        if isinstance(client, EvaluationContext):
            merged = merged.merge(client)
        return merged if invocation is None else merged.merge(invocation)
    except Exception as error:  # a third-party propagator failing must not fail the call
        log.error("reading OpenFeature's context failed: %r", error)
        return invocation or EvaluationContext()
