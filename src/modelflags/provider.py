"""The OpenFeature provider: modelflags' flags behind the standard OpenFeature client.

It is where the library meets ``openfeature``: no layer below it imports it (only this module,
:mod:`modelflags.testing` and the layers above them do). It adapts the engine's resolutions to
``FlagResolutionDetails``, turns reloads into provider events, and hands ``track()`` calls
to the evidence recorder. While initialized it is a flag lookup for every evidence that is
not bound to a provider (fallback values, outcomes named by flag key). It logs through
:mod:`logging` (logger ``modelflags.provider``).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from openfeature import _event_support
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.hook import Hook
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from modelflags.engine.compiled import CompiledFlag
from modelflags.engine.decision import Decision
from modelflags.engine.evaluation import decide, failure, not_found_message
from modelflags.engine.flagset import FlagSet
from modelflags.engine.resolution import Resolution, with_unit
from modelflags.evidence.lookups import register, unregister
from modelflags.evidence.recorder import Evidence
from modelflags.loader.source import Source
from modelflags.schema.models import TARGETING_KEY
from modelflags.schema.steps import StepName
from modelflags.store import FlagStore, Reload

__all__ = ["ModelFlagsProvider"]

log = logging.getLogger("modelflags.provider")

_METADATA = Metadata(name="modelflags")
_EMPTY: Mapping[str, Any] = {}
_NO_METADATA: dict[str, str | int | float | bool] = {}


# Which flag kinds (CompiledFlag.kind) each typed resolver serves.
_BOOLEAN = frozenset({"boolean"})
_STRING = frozenset({"string"})
_INTEGER = frozenset({"integer"})
_FLOAT = frozenset({"integer", "float"})
_OBJECT = frozenset({"object", "array"})


class ModelFlagsProvider(AbstractProvider):
    """An OpenFeature provider serving flags from YAML files, a directory or a URL.

    >>> from openfeature import api
    >>> api.set_provider_and_wait(ModelFlagsProvider("flags/"))        # doctest: +SKIP

    ``poll_interval`` (seconds) sets how often the source is checked for edits: by default
    0.25 s for files and directories, 15 s for URLs; 0 turns watching off. ``evidence``
    receives ``track()`` calls as outcome events (default: the tracker URL in the
    ``MODELFLAGS_EVIDENCE`` environment variable, if set); shutdown closes it. ``clock``
    (epoch seconds) is read for flags with a schedule.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Source,
        *,
        evidence: Evidence | None = None,
        poll_interval: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.evidence = evidence if evidence is not None else Evidence.from_env()
        if self.evidence is not None:
            self.evidence.bind(self)
        self._stale = False
        self._events_lock = threading.RLock()  # reload reports, one at a time, in order
        self._reported = 0  # the sequence of the last reload report acted on
        self._store = FlagStore(source, poll_interval=poll_interval, clock=clock)
        _LIVE.add(self)

    # -- lifecycle -------------------------------------------------------------------------

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Load the source (raising the located error if it is invalid), then watch it.

        From then on, until shutdown, an evidence that is not bound to a provider may ask
        this one for the values of its flags' variations and for evaluations.
        """
        self._store.load()
        self._store.start(self._on_reload)
        register(self)

    def shutdown(self) -> None:
        """Stop watching; flush and close the evidence recorder, if any."""
        unregister(self)
        self._store.stop()
        if self.evidence is not None:
            self.evidence.close()

    def get_metadata(self) -> Metadata:
        return _METADATA

    def get_provider_hooks(self) -> list[Hook]:
        return []

    @property
    def flags(self) -> FlagSet | None:
        """The flag set being served (None before initialization)."""
        return self._store.flags

    def reload(self) -> Reload:
        """Check the source now instead of waiting for the next poll; emits the same events."""
        result = self._store.reload()
        if result.changed or result.error or self._stale:  # stale + no error: recovered
            self._on_reload(result)
        return result

    def _on_reload(self, result: Reload) -> None:
        with self._events_lock:
            # A report older than one acted on (a poller that read before a manual reload)
            # must not set the status back; the flags it changed did change, and are named.
            newest = result.sequence >= self._reported
            self._reported = max(self._reported, result.sequence)
            if result.error is not None:
                if newest:
                    self._stale = True
                    self.emit_provider_stale(ProviderEventDetails(message=str(result.error)))
                return
            if newest and self._stale:
                self._stale = False
                message = "flag source is valid again"
                self.emit_provider_ready(ProviderEventDetails(message=message))
            if result.changed:
                self.emit_provider_configuration_changed(
                    ProviderEventDetails(flags_changed=list(result.changed))
                )

    # -- resolvers -------------------------------------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, evaluation_context, _BOOLEAN)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, evaluation_context, _STRING)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._resolve(flag_key, default_value, evaluation_context, _INTEGER)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        details = self._resolve(flag_key, default_value, evaluation_context, _FLOAT)
        if type(details.value) is int:  # integral YAML numbers served to a float flag
            details.value = float(details.value)
        return details

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        return self._resolve(flag_key, default_value, evaluation_context, _OBJECT)

    def _resolve(
        self,
        flag_key: str,
        default_value: Any,
        context: EvaluationContext | None,
        serves: frozenset[str],
    ) -> FlagResolutionDetails[Any]:
        flags = self._store.flags
        flag = flags.flags.get(flag_key) if flags is not None else None
        if flag is None or flags is None:
            return _error(
                default_value,
                ErrorCode.FLAG_NOT_FOUND,
                not_found_message(flag_key),
                with_unit(_NO_METADATA, StepName.UNKNOWN, None),
            )
        try:
            if context is None:
                attributes, targeting_key = _EMPTY, None
            else:
                attributes, targeting_key = context.attributes, context.targeting_key
                if flag.reads_targeting_key:
                    attributes = {**attributes, TARGETING_KEY: targeting_key}
            now = flags.clock() if flag.has_schedule else None
            decision, unit = decide(flag, attributes, targeting_key, now)
            if flag.kind not in serves:
                return _error(default_value, ErrorCode.TYPE_MISMATCH, _mismatch(flag, serves))
            if decision.error is None:
                # resolution.with_unit, inlined: one Python call less on every evaluation
                metadata = flag.metadata.copy()
                metadata["rule"] = decision.rule
                if unit is not None:
                    metadata["unitId"] = unit
                variant = decision.variant
                return FlagResolutionDetails(
                    flag.fresh[variant](), None, None, decision.reason, variant, metadata
                )
        except Exception as exc:  # evaluation never raises into the application
            decision, unit = failure(flag, exc), None
        return _failed(default_value, flag, decision, unit)

    # -- tracking --------------------------------------------------------------------------

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Record an outcome event through the evidence (never raises).

        ``attributes["flagKey"]`` names the flag: it is evaluated for the context now to fill
        in the unit, variation, experiment and config version (after a ramp or a rollback,
        the new arm: the report takes the arm from the unit's exposures). Without it, or
        with a flag this provider does not serve, the outcome is still recorded but joins no
        exposure: the evidence counts it (``unattributed``) and warns once per event name.
        Numeric and boolean attributes become metrics, the rest attributes;
        ``details.value`` is the outcome's value.
        """
        if self.evidence is None:
            return
        try:
            details = tracking_event_details or TrackingEventDetails()
            extra = dict(details.attributes)
            flag_key = extra.pop("flagKey", None)
            metrics = {k: v for k, v in extra.items() if isinstance(v, int | float)}
            for key in metrics:
                del extra[key]
            facts: Any = None
            if flag_key is not None:
                flag_key = str(flag_key)
                facts = self.evaluate_for_evidence(flag_key, evaluation_context)
            # metrics as a mapping: an attribute may be called "name", "value", "context", ...
            self.evidence.record_outcome(
                tracking_event_name, facts if facts is not None else flag_key,
                evaluation_context, value=details.value, metrics=metrics, attributes=extra,
            )  # fmt: skip
        except Exception as error:
            log.error("track(%r) failed: %r", tracking_event_name, error,
                      extra={"outcome": tracking_event_name})  # fmt: skip

    # -- what the evidence asks of the flags (FlagLookup) ----------------------------------

    def evaluate_for_evidence(self, flag_key: str, context: Any) -> Resolution | None:
        """The direct-path resolution of ``flag_key`` for an OpenFeature context."""
        flags = self._store.flags
        if flags is None or flag_key not in flags:
            return None
        attributes: dict[str, Any] = {}
        if isinstance(context, EvaluationContext):
            attributes = {**context.attributes, TARGETING_KEY: context.targeting_key}
        elif isinstance(context, Mapping):  # the direct path's context: attributes as given
            attributes = dict(context)
        return flags.evaluate(flag_key, attributes)

    def variation_value(self, flag_key: str, variation: str) -> Any:
        """The value of one variation of a flag (None when unknown)."""
        flags = self._store.flags
        flag = flags.flags.get(flag_key) if flags is not None else None
        return flag.fresh[variation]() if flag is not None and variation in flag.fresh else None


_LIVE: weakref.WeakSet[ModelFlagsProvider] = weakref.WeakSet()
"""Every provider not yet garbage-collected (their stores restart their own pollers)."""


def _reset_in_child() -> None:
    """After ``fork``, in the child (the stores restart their pollers themselves): a lock a
    parent's thread held would stay held, and OpenFeature runs event handlers on a thread
    pool whose threads stayed in the parent, so no handler would ever run in the child."""
    providers = list(_LIVE)
    for provider in providers:
        provider._events_lock = threading.RLock()
    executor = getattr(_event_support, "_event_executor", None)
    if providers and isinstance(executor, ThreadPoolExecutor):
        _event_support._event_executor = ThreadPoolExecutor(
            thread_name_prefix="openfeature-event-handler"
        )


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_in_child)


def _error(
    default_value: Any,
    code: ErrorCode,
    message: str | None,
    metadata: Mapping[str, str | int | float | bool] | None = None,
) -> FlagResolutionDetails[Any]:
    return FlagResolutionDetails(
        value=default_value,
        error_code=code,
        error_message=message,
        reason=Reason.ERROR,
        flag_metadata=metadata or {},
    )


def _failed(
    default_value: Any, flag: CompiledFlag, decision: Decision, unit: str | None
) -> FlagResolutionDetails[Any]:
    """A decision with an error, reported as the direct path reports it: the caller's default,
    the decision's code and message, and the flag metadata with its ``rule`` (and unit id)."""
    metadata = with_unit(flag.metadata, decision.rule, unit)
    return _error(default_value, ErrorCode(decision.error), decision.message, metadata)


def _mismatch(flag: CompiledFlag, serves: frozenset[str]) -> str:
    wanted = " or ".join(sorted(serves))
    return f"flag '{flag.key}' has {flag.kind} variations; it was asked for as {wanted}"
