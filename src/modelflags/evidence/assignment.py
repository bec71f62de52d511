"""Assignment events: what evaluation chose for a unit, once per (unit, flag, variation).

An **exposure** records what actually ran, when it ran (a fallback included), and is what
the report compares. An **assignment** records what evaluation chose, when it was chosen:
for teams that cannot wrap their model calls, it is evidence without touching the call
site, at the price of counting units that evaluated the flag but never ran the route (a
request that failed before the call, a cached answer) and of knowing nothing of fallbacks,
latency or cost.

:class:`Assignments` de-duplicates with a bounded LRU of (unit, flag, variation) keys: a
unit's first evaluation of a variation is recorded, its repeats are not. When the LRU is
full, the least recently seen key is forgotten (counted ``evicted``); if that unit comes
back, it is recorded again, so readers keep the first assignment per key.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from modelflags.evidence.events import Facts, in_experiment, new_event_id, read_facts
from modelflags.evidence.exposure import snapshot
from modelflags.evidence.problems import log_details
from modelflags.evidence.tracker import Event

if TYPE_CHECKING:
    from modelflags.evidence.recorder import Evidence

__all__ = ["ASSIGNMENT", "DEDUPE_SIZE", "Assignments", "assignment_event"]

ASSIGNMENT = "assignment"
"""The ``event`` of an assignment event."""

DEDUPE_SIZE = 50_000
"""(unit, flag, variation) keys remembered by default. A key costs about 170 bytes plus its
unit id's string (CPython 3.11): some 12 MB for 50,000 keys of short ids."""

_live: weakref.WeakSet[Assignments] = weakref.WeakSet()


def assignment_event(
    details: Any, context: Any = None, attributes: dict[str, Any] | None = None
) -> Event:
    """The assignment event of an evaluation result (OpenFeature ``FlagEvaluationDetails``
    or a modelflags ``Resolution``): the join keys of an exposure, the variation evaluation
    chose, its reason and rule, and whether the flag's own split randomised the unit.

    The timestamp is epoch seconds, made RFC 3339 by the evidence's background thread.
    """
    return _event(read_facts(details, context), getattr(details, "error_code", None), attributes)


def _event(facts: Facts, error_code: Any, attributes: dict[str, Any] | None) -> Event:
    flag_key, variant, reason, metadata, unit = facts
    rule = metadata.get("rule")
    return {
        "event": ASSIGNMENT,
        "eventId": new_event_id(),
        "timestamp": time.time(),
        "flagKey": flag_key,
        "experimentKey": metadata.get("experimentKey"),
        "assignmentUnit": metadata.get("assignmentUnit"),
        "unitId": unit,
        "variation": variant,
        "reason": reason,
        "rule": rule,
        "inExperiment": in_experiment(reason, rule, error_code),
        "configVersion": metadata.get("configVersion"),
        "attributes": attributes or {},
    }


class Assignments:
    """Records an assignment through ``evidence`` once per (unit, flag, variation).

    ``dedupe_size`` bounds the keys remembered (least recently seen forgotten first).
    Evaluations that failed, or that have no unit (no unit id in the flag metadata and no
    targeting key), record nothing. Thread-safe; :meth:`record` never raises.
    """

    def __init__(self, evidence: Evidence, *, dedupe_size: int = DEDUPE_SIZE) -> None:
        if isinstance(dedupe_size, bool) or not isinstance(dedupe_size, int) or dedupe_size < 1:
            raise ValueError(
                f"dedupe_size must be a whole number of 1 or more, not {dedupe_size!r}"
            )
        self.evidence = evidence
        self.dedupe_size = dedupe_size
        self._seen: OrderedDict[tuple[str, Any, Any], None] = OrderedDict()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            ("recorded", "duplicates", "evicted", "without_unit", "failed_evaluations"), 0
        )
        _live.add(self)

    @property
    def counters(self) -> dict[str, int]:
        """``recorded`` (events sent to the evidence), ``duplicates`` (repeats not recorded),
        ``evicted`` (keys forgotten to stay within ``dedupe_size``), ``without_unit`` and
        ``failed_evaluations`` (evaluations that record nothing), and ``remembered`` (keys
        held now)."""
        with self._lock:
            return {**self._counts, "remembered": len(self._seen)}

    def record(self, details: Any, context: Any = None) -> bool:
        """Record the assignment of ``details`` for ``context`` unless this unit's
        assignment to this variation was recorded already; True if an event was sent."""
        try:
            error_code = getattr(details, "error_code", None)
            counts = self._counts
            if error_code is not None:
                with self._lock:
                    counts["failed_evaluations"] += 1
                return False
            facts = read_facts(details, context)
            unit = facts[4]
            if unit is None:
                with self._lock:
                    counts["without_unit"] += 1
                return False
            key = (unit, facts[0], facts[1])
            seen = self._seen
            with self._lock:
                if key in seen:
                    seen.move_to_end(key)
                    counts["duplicates"] += 1
                    return False
                seen[key] = None
                if len(seen) > self.dedupe_size:
                    seen.popitem(last=False)
                    counts["evicted"] += 1
                counts["recorded"] += 1
            self._submit(facts, context)
            return True
        except Exception as error:
            log_details("error", "recording an assignment failed", {"error": repr(error)})
            return False

    def forget(self) -> None:
        """Forget every key remembered: each unit's next evaluation is recorded again."""
        with self._lock:
            self._seen.clear()

    def _submit(self, facts: Facts, context: Any) -> None:
        evidence = self.evidence
        attributes = None
        if evidence._context_attributes:
            values = snapshot(context, evidence._context_attributes)
            attributes = dict(values) if values else None
        event = _event(facts, None, attributes)
        privacy = evidence._privacy
        if privacy.changes_events:
            event = privacy.apply(event)
        evidence._dispatcher.submit(event)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()  # a lock a parent's thread held stays held in the child


def _reset_in_child() -> None:
    for assignments in list(_live):
        assignments._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_in_child)
