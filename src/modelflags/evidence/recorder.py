"""``Evidence``: record what ran (exposures) and what happened (outcomes), never in the way.

Recording never raises into the application and never blocks it on I/O: events are built
as plain dicts and queued; one background thread delivers them to the tracker. Problems are
logged once with structlog and counted (:attr:`Evidence.counters`).
"""

from __future__ import annotations

import atexit
import os
import time
import weakref
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, Literal, Protocol

import structlog

from modelflags.evidence.dispatcher import Dispatcher, OnFull
from modelflags.evidence.events import exposure_event, outcome_event
from modelflags.evidence.tracker import Event, Tracker

__all__ = ["ENV_VAR", "Evidence", "Exposure", "FlagLookup"]

ENV_VAR = "MODELFLAGS_EVIDENCE"
"""Environment variable naming a tracker URL (``jsonl:///path``, ``https://...``, ...)."""

log = structlog.get_logger("modelflags")

# Dispatchers, not Evidence objects: a running dispatcher is kept alive by its own thread,
# so the events of an Evidence the application no longer references are still delivered.
_live: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for dispatcher in list(_live):
        try:
            dispatcher.close(timeout=2.0)
        except Exception as error:
            log.error("closing evidence at exit failed", error=repr(error))


class FlagLookup(Protocol):
    """What a provider offers the evidence: evaluate a flag, read a variation's value."""

    def evaluate_for_evidence(self, flag_key: str, context: Any) -> Any:
        """The evaluation result of ``flag_key`` for ``context`` (details-like), or None."""
        ...

    def variation_value(self, flag_key: str, variation: str) -> Any:
        """The value of one variation of a flag, or None when unknown."""
        ...


class Evidence:
    """Records exposures and outcomes with shared join keys to a tracker.

    >>> from modelflags import Evidence, MemoryTracker
    >>> evidence = Evidence(MemoryTracker())
    >>> with evidence.exposure(route, ctx) as exposure:          # doctest: +SKIP
    ...     reply = call_model(route.value)
    ...     exposure.record(estimated_cost=reply.cost)

    ``tracker`` is a :class:`Tracker` or a tracker URL (see :func:`tracker_from_url`).
    ``queue_size`` bounds the in-memory queue; when it is full, ``on_full`` says what
    happens: ``"drop"`` (counted) or ``"spill"`` to ``spill_dir`` (replayed later).
    """

    def __init__(
        self,
        tracker: Tracker | str,
        *,
        queue_size: int = 10_000,
        on_full: OnFull = "drop",
        spill_dir: str | os.PathLike[str] | None = None,
        batch_size: int = 512,
        flush_interval: float = 0.2,
    ) -> None:
        if isinstance(tracker, str):
            from modelflags.evidence.urls import tracker_from_url

            tracker = tracker_from_url(tracker)
        self.tracker = tracker
        self._dispatcher = Dispatcher(
            tracker,
            queue_size=queue_size,
            on_full=on_full,
            spill_dir=spill_dir,
            batch_size=batch_size,
            flush_interval=flush_interval,
        )
        self._lookup: FlagLookup | None = None
        _live.add(self._dispatcher)

    @classmethod
    def from_env(cls, **options: Any) -> Evidence | None:
        """An Evidence for the tracker URL in ``MODELFLAGS_EVIDENCE``, or None if unset."""
        url = os.environ.get(ENV_VAR, "").strip()
        return cls(url, **options) if url else None

    def bind(self, lookup: FlagLookup) -> None:
        """Let outcomes named by flag key, and fallbacks, be resolved through a provider."""
        self._lookup = lookup

    @property
    def counters(self) -> dict[str, int]:
        """``sent``, ``spilled``, ``dropped``, ``failed`` and ``queued`` event counts."""
        d = self._dispatcher
        return {"sent": d.sent, "spilled": d.spilled, "dropped": d.dropped,
                "failed": d.failed, "queued": d.queued}  # fmt: skip

    # -- recording -------------------------------------------------------------------------

    def exposure(self, details: Any, context: Any = None) -> Exposure:
        """An exposure of ``details`` (an evaluation result) for ``context``.

        Use it as a context manager: latency is measured across the block unless recorded,
        and an exception escaping the block is recorded (``error``, ``errorType``) and
        re-raised. Without ``with``, :meth:`Exposure.record` sends the event at once.
        """
        return Exposure(self, details, context)

    def outcome(
        self,
        name: str,
        details_or_flag_key: Any,
        context: Any = None,
        value: float | None = None,
        *,
        attributes: Mapping[str, Any] | None = None,
        **metrics: float | bool,
    ) -> None:
        """Record outcome ``name`` for the unit of an evaluation (or of a flag key).

        ``metrics`` are numbers or booleans; anything else is kept under ``attributes``.
        """
        self._outcome(name, details_or_flag_key, context, value, metrics, attributes)

    def _outcome(  # noqa: PLR0917 -- the provider's track() calls it with any metric names
        self,
        name: str,
        details_or_flag_key: Any,
        context: Any,
        value: Any,
        metrics: Mapping[str, Any],
        attributes: Mapping[str, Any] | None,
    ) -> None:
        try:
            details = self._details(details_or_flag_key, context)
            numbers: dict[str, float | bool] = {}
            extra: dict[str, Any] = dict(attributes or {})
            for key, metric in metrics.items():
                if isinstance(metric, int | float):
                    numbers[key] = metric
                else:
                    extra[key] = metric
            self._dispatcher.submit(
                outcome_event(
                    name, details, context, value=_number(value), metrics=numbers, attributes=extra
                )
            )
        except Exception as error:
            log.error("recording an outcome failed", outcome=name, error=repr(error))

    def _details(self, details_or_flag_key: Any, context: Any) -> Any:
        """The evaluation result an outcome joins to; a flag key is evaluated if it can be."""
        if not isinstance(details_or_flag_key, str):
            return details_or_flag_key
        if self._lookup is not None:
            details = self._lookup.evaluate_for_evidence(details_or_flag_key, context)
            if details is not None:
                return details
        return SimpleNamespace(flag_key=details_or_flag_key)  # only the flag is known

    def _variation_value(self, flag_key: str | None, variation: str) -> Any:
        if self._lookup is None or flag_key is None:
            return None
        return self._lookup.variation_value(flag_key, variation)

    # -- delivery --------------------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Deliver everything recorded so far; True when done within ``timeout`` seconds."""
        try:
            return self._dispatcher.flush(timeout)
        except Exception as error:
            log.error("flushing evidence failed", error=repr(error))
            return False

    def close(self, timeout: float | None = 5.0) -> None:
        """Flush, stop the background thread and close the tracker (idempotent)."""
        try:
            self._dispatcher.close(timeout)
        except Exception as error:
            log.error("closing evidence failed", error=repr(error))
        _live.discard(self._dispatcher)


class Exposure:
    """One exposure being recorded; see :meth:`Evidence.exposure`.

    Cheap on the request path: it keeps references and a few numbers; the event dict is
    built by the background thread (:meth:`to_event`) after the exposure is sent.
    """

    # Class-level defaults: an instance sets only what the request changes.
    _variation: str | None = None
    _fallback_reason: str | None = None
    _value: Any = None
    _latency: float | None = None
    _cost: float | None = None
    _error = False
    _error_type: str | None = None
    _attributes: dict[str, Any] | None = None
    _start = 0.0
    _open = False
    _sent = False
    _timestamp = 0.0
    _route: tuple[Any, Any, Any] = (None, None, None)

    def __init__(self, evidence: Evidence, details: Any, context: Any) -> None:
        self._evidence = evidence
        self._details = details
        self._context = context

    def __enter__(self) -> Exposure:
        self._open = True
        self._start = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: object, tb: object
    ) -> Literal[False]:
        if exc_type is not None:
            self._error = True
            self._error_type = exc_type.__name__
        if self._latency is None:
            self._latency = (time.perf_counter() - self._start) * 1000.0
        self._open = False
        self._send()
        return False  # an exception in the block is re-raised

    def fallback(self, variation: str, *, reason: str | None = None, value: Any = None) -> None:
        """The unit was served ``variation`` instead of its assigned one (``reason`` why).

        The route fields come from ``value`` or, when the evidence is bound to a provider,
        from the flag's own variation.
        """
        try:
            self._variation = variation
            self._fallback_reason = reason or "fallback"
            if value is None:
                flag_key = getattr(self._details, "flag_key", None)
                value = self._evidence._variation_value(flag_key, variation)
            self._value = value
        except Exception as error:
            log.error("recording a fallback failed", error=repr(error))

    def record(
        self,
        *,
        latency_ms: float | None = None,
        estimated_cost: float | None = None,
        error: bool | None = None,
        error_type: str | None = None,
        **attributes: Any,
    ) -> None:
        """Set what was measured; extra keywords become ``attributes``."""
        if latency_ms is not None:
            self._latency = _number(latency_ms)
        if estimated_cost is not None:
            self._cost = _number(estimated_cost)
        if error is not None:
            self._error = bool(error)
        if error_type is not None:
            self._error, self._error_type = True, str(error_type)
        if attributes:
            if self._attributes is None:
                self._attributes = {}
            self._attributes.update(attributes)
        if not self._open:
            self._send()

    def _send(self) -> None:
        if self._sent:
            return
        self._sent = True
        try:
            self._timestamp = time.time()
            value = (
                self._value
                if self._fallback_reason is not None
                else getattr(self._details, "value", None)
            )
            if type(value) is dict:  # the route as it is now: the caller may mutate it later
                get = value.get
                self._route = (get("modelRoute"), get("promptVersion"), get("retrievalProfile"))
            self._evidence._dispatcher.submit(self)
        except Exception as error:
            log.error("recording an exposure failed", error=repr(error))

    def to_event(self) -> Event:
        """The exposure event (called by the background thread once the exposure is sent)."""
        fell_back = self._variation if self._fallback_reason is not None else None
        return exposure_event(
            self._details, self._context, self._timestamp, fell_back, self._fallback_reason,
            self._route, self._latency, self._cost, self._error, self._error_type,
            self._attributes,
        )  # fmt: skip


def _number(value: Any) -> float | None:
    """A number for a numeric field, or None for anything that is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value
