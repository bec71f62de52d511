"""``Evidence``: record what ran (exposures) and what happened (outcomes), never in the way.

Recording never raises into the application and never blocks it on I/O: events are built
as plain dicts and queued; one background thread delivers them to the tracker (see
:mod:`modelflags.evidence.dispatcher`). Problems are logged once through :mod:`logging` and counted
(:attr:`Evidence.counters`).
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from modelflags.evidence.attribution import Attribution
from modelflags.evidence.dispatcher import Dispatcher, OnFull
from modelflags.evidence.events import EXPOSURE_KEYS, ROUTE_FIELDS, outcome_event
from modelflags.evidence.exposure import Exposure, number
from modelflags.evidence.exposure_lines import ExposureLines
from modelflags.evidence.lookups import FlagLookup
from modelflags.evidence.privacy import Attributes, Privacy
from modelflags.evidence.problems import log_details
from modelflags.evidence.tracker import Tracker

__all__ = ["ENV_VAR", "Evidence", "Exposure", "FlagLookup"]

ENV_VAR = "MODELFLAGS_EVIDENCE"
"""Environment variable naming a tracker URL (``jsonl:///path``, ``https://...``, ...)."""

SPILL_DIR_ENV_VAR = "MODELFLAGS_SPILL_DIR"
"""Environment variable naming the spill directory of an Evidence made without one."""

EXIT_TIMEOUT = 2.0
"""Seconds the interpreter's exit waits for every open Evidence together."""

# Dispatchers, not Evidence objects: a running dispatcher is kept alive by its own thread,
# so the events of an Evidence the application no longer references are still delivered.
_live: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """Close every open Evidence, all at once, within EXIT_TIMEOUT seconds in total."""
    deadline = time.monotonic() + EXIT_TIMEOUT
    dispatchers = list(_live)
    for dispatcher in dispatchers:
        dispatcher.begin_close(deadline)
    for dispatcher in dispatchers:
        try:
            dispatcher.end_close()
        except Exception as error:
            log_details("error", "closing evidence at exit failed", {"error": repr(error)})


_exit_hooks: set[str] = set()  # "multiprocessing": it closes every Evidence at a child's exit


def _restart_in_child() -> None:
    """In a forked child (gunicorn ``--preload``, ``multiprocessing`` with ``fork``): every
    live dispatcher gets a thread of its own, since threads do not survive a fork.

    A ``multiprocessing`` child ends with ``os._exit``, which skips ``atexit``: its own exit
    handlers close the evidence there instead (hooked once, when multiprocessing is in use).
    """
    multiprocessing_util = sys.modules.get("multiprocessing.util")
    if multiprocessing_util is not None and "multiprocessing" not in _exit_hooks:
        _exit_hooks.add("multiprocessing")  # inherited by grandchildren, as the hook is
        multiprocessing_util.register_after_fork(_flush_at_exit, _close_at_multiprocessing_exit)
    for dispatcher in list(_live):
        try:
            dispatcher.after_fork_in_child()
        except Exception as error:  # one dispatcher must not stop the others, or the child
            log_details("error", "restarting evidence after fork failed", {"error": repr(error)})


def _close_at_multiprocessing_exit(_: object) -> None:
    """In a multiprocessing child, once it has started: close every Evidence at its exit."""
    import multiprocessing.util

    multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=0)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_restart_in_child)


class Evidence:
    """Records exposures and outcomes with shared join keys to a tracker.

    >>> from modelflags import Evidence, MemoryTracker
    >>> evidence = Evidence(MemoryTracker())
    >>> with evidence.exposure(route, ctx) as exposure:          # doctest: +SKIP
    ...     reply = call_model(route.value)
    ...     exposure.record(estimated_cost=reply.cost)

    ``tracker`` is a :class:`Tracker` or a tracker URL (see :func:`tracker_from_url`).
    ``spill_dir`` (default: ``$MODELFLAGS_SPILL_DIR``, else none) is where events wait on
    disk while the tracker is unavailable or the queue is full, replayed oldest first; with
    it, an outage loses nothing and memory stays bounded. ``queue_size`` bounds the
    in-memory queue; when it is full, ``on_full`` says what happens: ``"spill"`` (the
    default with a spill dir) or ``"drop"`` (counted; the default without). ``backoff`` and
    ``max_backoff`` shape the retries (seconds); ``spill_max_bytes`` bounds the spool.
    ``route_fields`` are the fields of the value that ran copied into each exposure as
    top-level keys (null when absent); a name an exposure already uses is a ValueError.
    ``context_attributes`` is an allow-list of evaluation-context attributes copied into
    each exposure's ``attributes`` (none by default: contexts may hold personal data).

    Before events leave the process: ``hash_unit_ids=True`` replaces ``unitId`` by its keyed
    hash (HMAC-SHA-256, 32 hex characters; one unit's events still join), with the secret
    key read now from the environment variable ``unit_id_key_env`` (default
    ``MODELFLAGS_UNIT_KEY``; unset or empty is a ValueError). ``attributes`` is ``"keep"``
    (the default), ``"drop"`` or ``"hash"`` (each value keyed-hashed) for every event's
    ``attributes``, the copied context attributes included.
    """

    def __init__(
        self,
        tracker: Tracker | str,
        *,
        queue_size: int = 10_000,
        on_full: OnFull | None = None,
        spill_dir: str | os.PathLike[str] | None = None,
        batch_size: int = 512,
        flush_interval: float = 0.2,
        backoff: float = 0.2,
        max_backoff: float = 30.0,
        spill_max_bytes: int = 1024**3,
        route_fields: Iterable[str] = ROUTE_FIELDS,
        context_attributes: Iterable[str] = (),
        hash_unit_ids: bool = False,
        unit_id_key_env: str | None = None,
        attributes: Attributes = "keep",
    ) -> None:
        self._privacy = Privacy.from_options(
            hash_unit_ids=hash_unit_ids, attributes=attributes, key_env=unit_id_key_env
        )
        self._route_fields = _names("route_fields", route_fields)
        clashes = sorted(EXPOSURE_KEYS.intersection(self._route_fields))
        if clashes:
            raise ValueError(
                f"route_fields {clashes} clash with exposure keys; "
                f"a route field cannot be one of {sorted(EXPOSURE_KEYS)}"
            )
        privacy = self._privacy if self._privacy.changes_events else None
        self._lines = ExposureLines(self._route_fields, privacy)  # how exposures are written
        self._context_attributes = _names("context_attributes", context_attributes)
        if isinstance(tracker, str):
            from modelflags.evidence.urls import tracker_from_url

            tracker = tracker_from_url(tracker)
        self.tracker = tracker
        if spill_dir is None:
            spill_dir = os.environ.get(SPILL_DIR_ENV_VAR, "").strip() or None
        self._dispatcher = Dispatcher(
            tracker,
            queue_size=queue_size,
            on_full=on_full,
            spill_dir=spill_dir,
            batch_size=batch_size,
            flush_interval=flush_interval,
            backoff=backoff,
            max_backoff=max_backoff,
            spill_max_bytes=spill_max_bytes,
            lines=self._lines,
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
    def privacy(self) -> Privacy:
        """What is hashed or dropped before events leave the process (the key not shown)."""
        return self._privacy

    @property
    def context_attributes(self) -> tuple[str, ...]:
        """The evaluation-context attributes copied into each exposure's ``attributes``."""
        return self._context_attributes

    @property
    def counters(self) -> dict[str, int]:
        """What became of the events (see the evidence docs, "Counters"):

        ``recorded``, ``delivered`` (the destination accepted them), ``failed`` (refused,
        or could not be built), ``dropped`` (lost: a full queue without a spool, a full
        spool, after close), ``queued`` (in memory now), ``spooled`` (on disk now),
        ``spilled`` (ever written to disk), ``adopted`` (found on disk, left by a process
        that exited), ``retries`` (attempts the destination could not take), ``repaired``
        (values JSON cannot hold, rewritten) and ``unattributed`` (outcomes without a known
        flag). Once idle: ``recorded + adopted == delivered + failed + dropped + queued +
        spooled``.
        """
        counters = self._dispatcher.counters()
        counters["unattributed"] = self._attribution.unattributed
        return counters

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
        self.record_outcome(
            name, details_or_flag_key, context, value=value, metrics=metrics, attributes=attributes
        )

    def record_outcome(
        self,
        name: str,
        details_or_flag_key: Any,
        context: Any = None,
        *,
        value: Any = None,
        metrics: Mapping[str, Any],
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """:meth:`outcome` with the metrics as a mapping, so that any metric name is allowed
        (``name``, ``value`` or ``context`` included: ``client.track`` passes them this way).
        """
        try:
            details = self._attribution.details(name, details_or_flag_key, context)
            numbers: dict[str, float | bool] = {}
            extra: dict[str, Any] = dict(attributes or {})
            for key, metric in metrics.items():
                if isinstance(metric, int | float):
                    numbers[key] = metric
                else:
                    extra[key] = metric
            event = outcome_event(
                name, details, context, value=number(value), metrics=numbers, attributes=extra
            )
            if self._privacy.changes_events:
                event = self._privacy.apply(event)
            self._dispatcher.submit(event)
        except Exception as error:
            log_details(
                "error", "recording an outcome failed", {"outcome": name, "error": repr(error)}
            )

    # -- delivery --------------------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until everything recorded so far is delivered; True only if it was, within
        ``timeout`` seconds, and no event was lost (failed or dropped) since the previous
        flush. Events spilled to disk while the destination is down are not delivered."""
        try:
            return self._dispatcher.flush(timeout)
        except Exception as error:
            log_details("error", "flushing evidence failed", {"error": repr(error)})
            return False

    def close(self, timeout: float | None = 5.0) -> None:
        """Deliver what can be within ``timeout`` seconds, spill the rest to the spill dir
        (or count it as dropped), stop the background thread and close the tracker.
        Returns within ``timeout``, whatever the tracker does; idempotent."""
        try:
            self._dispatcher.close(timeout)
        except Exception as error:
            log_details("error", "closing evidence failed", {"error": repr(error)})
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
