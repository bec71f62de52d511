"""OpenTelemetry span events for flag evaluations: an OpenFeature hook (``modelflags[otel]``).

Register it once, and every evaluation made inside a recording span adds a
``feature_flag.evaluation`` event to that span, with the semantic-convention attributes::

    from openfeature import api
    from modelflags.integrations.otel import OtelHook

    api.add_hooks([OtelHook()])

The attributes come from :func:`modelflags.evidence.otel.evaluation_attributes`, the one
owner of the mapping (the OTel tracker uses the same names for exposures). To send the
evidence itself (exposures, outcomes, assignments) to a Collector, see
:class:`modelflags.evidence.otel_tracker.OtelTracker`.
"""

from __future__ import annotations

import logging

from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType
from openfeature.hook import Hook, HookContext, HookHints
from opentelemetry import trace

from modelflags.evidence.otel import EVENT_NAME, evaluation_attributes

__all__ = ["OtelHook"]

log = logging.getLogger("modelflags.integrations.otel")


class OtelHook(Hook):
    """Adds a ``feature_flag.evaluation`` event to the current span, if it is recording.

    The event carries ``feature_flag.key``, ``feature_flag.result.variant``,
    ``feature_flag.result.reason`` (lower case), ``feature_flag.context.id`` (the unit id,
    else the targeting key), ``feature_flag.set.id`` (the experiment key),
    ``feature_flag.version`` (the config version) and ``feature_flag.provider.name``; a
    failed evaluation adds ``error.type`` and ``feature_flag.error.message``.
    ``include_value=True`` adds ``feature_flag.result.value`` (off by default: a value may be
    large or sensitive).

    It runs at the hook's ``finally`` stage, which sees every evaluation exactly once, as the
    application gets it, successful or not (the ``error`` stage would see the exception
    without the flag metadata). It never raises: a failure is logged once, at WARNING, on the
    ``modelflags.integrations.otel`` logger.
    """

    def __init__(self, *, include_value: bool = False) -> None:
        self.include_value = include_value
        self._warned = False

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        try:
            span = trace.get_current_span()
            if not span.is_recording():
                return
            provider = hook_context.provider_metadata
            attributes = evaluation_attributes(
                details,
                hook_context.evaluation_context,
                provider_name=provider.name if provider is not None else None,
                include_value=self.include_value,
            )
            span.add_event(EVENT_NAME, attributes)
        except Exception as error:
            if not self._warned:
                self._warned = True
                log.warning(
                    "adding a feature_flag.evaluation span event failed: %r", error,
                    extra={"flag_key": hook_context.flag_key},
                )  # fmt: skip
