"""``Evidence``: record what ran (exposures) and what happened (outcomes), never in the way.

Recording never raises into the application and never blocks it on I/O: events are built
as plain dicts and queued; one background thread delivers them to the tracker. Problems are
logged once with structlog and counted (:attr:`Evidence.counters`).
"""

from __future__ import annotations

import atexit
import os
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from modelflags.evidence.attribution import Attribution
from modelflags.evidence.dispatcher import Dispatcher, OnFull
from modelflags.evidence.events import EXPOSURE_KEYS, ROUTE_FIELDS, outcome_event
from modelflags.evidence.exposure import Exposure, number
from modelflags.evidence.lookups import FlagLookup
from modelflags.evidence.tracker import Tracker

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
    ``route_fields`` are the fields of the value that ran copied into each exposure as
    top-level keys (null when absent); a name an exposure already uses is a ValueError.
    ``context_attributes`` is an allow-list of evaluation-context attributes copied into
    each exposure's ``attributes`` (none by default: contexts may hold personal data).
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
        route_fields: Iterable[str] = ROUTE_FIELDS,
        context_attributes: Iterable[str] = (),
    ) -> None:
        self._route_fields = _names("route_fields", route_fields)
        clashes = sorted(EXPOSURE_KEYS.intersection(self._route_fields))
        if clashes:
            raise ValueError(
                f"route_fields {clashes} clash with exposure keys; "
                f"a route field cannot be one of {sorted(EXPOSURE_KEYS)}"
            )
        self._context_attributes = _names("context_attributes", context_attributes)
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
        self._attribution = Attribution()
        _live.add(self._dispatcher)

    @classmethod
    def from_env(cls, **options: Any) -> Evidence | None:
        """An Evidence for the tracker URL in ``MODELFLAGS_EVIDENCE``, or None if unset."""
        url = os.environ.get(ENV_VAR, "").strip()
        return cls(url, **options) if url else None

    def bind(self, lookup: FlagLookup) -> None:
        """Resolve outcomes named by flag key, and fallback values, through ``lookup`` (a
        provider) only; unbound, the live providers that know the flag are asked."""
        self._attribution.lookup = lookup

    @property
    def route_fields(self) -> tuple[str, ...]:
        """The fields of the value that ran copied into each exposure."""
        return self._route_fields

    @property
    def context_attributes(self) -> tuple[str, ...]:
        """The evaluation-context attributes copied into each exposure's ``attributes``."""
        return self._context_attributes

    @property
    def counters(self) -> dict[str, int]:
        """``sent``, ``spilled``, ``dropped``, ``failed`` and ``queued`` event counts, and
        ``unattributed``: outcomes recorded without a flag, or with one no provider knows."""
        d = self._dispatcher
        return {"sent": d.sent, "spilled": d.spilled, "dropped": d.dropped,
                "failed": d.failed, "queued": d.queued,
                "unattributed": self._attribution.unattributed}  # fmt: skip

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
        A flag key is evaluated for ``context`` now, through the bound provider or the live
        ones; an outcome without a flag, or with one they do not know, is still recorded,
        counted as ``unattributed`` and warned about once per outcome name.
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
            details = self._attribution.details(name, details_or_flag_key, context)
            numbers: dict[str, float | bool] = {}
            extra: dict[str, Any] = dict(attributes or {})
            for key, metric in metrics.items():
                if isinstance(metric, int | float):
                    numbers[key] = metric
                else:
                    extra[key] = metric
            self._dispatcher.submit(
                outcome_event(
                    name, details, context, value=number(value), metrics=numbers, attributes=extra
                )
            )
        except Exception as error:
            log.error("recording an outcome failed", outcome=name, error=repr(error))

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


def _names(option: str, names: Iterable[str]) -> tuple[str, ...]:
    """Field or attribute names as a tuple, without repeats; a bare string is a mistake."""
    if isinstance(names, str):
        raise ValueError(f"{option} takes a list of names, not the string {names!r}")
    unique = tuple(dict.fromkeys(names))
    for name in unique:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{option} holds {name!r}; every name must be a non-empty string")
    return unique
