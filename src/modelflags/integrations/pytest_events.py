"""The events a test's code recorded, read back from memory to assert on.

The ``recorded_events`` fixture of :mod:`modelflags.integrations.pytest_plugin` gives a test an
:class:`~modelflags.Evidence` over a :class:`~modelflags.MemoryTracker` wrapped in
:class:`RecordedEvents`, which flushes before every read, so what the code under test recorded
is there, and filters exposures and outcomes by the fields a test asserts on (an assignment
event, from :class:`~modelflags.integrations.assignments.AssignmentLogger`, is neither).
Imported only when the fixture is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelflags.evidence.assignment import ASSIGNMENT

if TYPE_CHECKING:
    from modelflags.evidence.recorder import Evidence
    from modelflags.evidence.tracker import MemoryTracker

__all__ = ["RecordedEvents"]


class RecordedEvents:
    """The events of the test's :class:`~modelflags.Evidence`, delivered to memory.

    Every read flushes first, so what the code under test recorded is there.
    """

    def __init__(self, evidence: Evidence, tracker: MemoryTracker) -> None:
        self.evidence = evidence
        self.tracker = tracker

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far (exposures, outcomes, assignments), in the order recorded."""
        self.evidence.flush()
        return list(self.tracker.events)

    def exposures(self, flag_key: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Exposures (of ``flag_key``, if given) whose ``fields`` have the given values,
        e.g. ``exposures("route", variation="candidate", unitId="conv-1")``."""
        return [
            event
            for event in self.events
            if event.get("event") == "exposure"
            and (flag_key is None or event.get("flagKey") == flag_key)
            and _has(event, fields)
        ]

    def outcomes(self, name: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Outcome events (named ``name``, if given) whose ``fields`` have the given values:
        every event but exposures and assignments."""
        return [
            event
            for event in self.events
            if event.get("event") not in _NOT_OUTCOMES
            and (name is None or event.get("event") == name)
            and _has(event, fields)
        ]

    def clear(self) -> None:
        """Forget the events so far (after flushing them)."""
        self.evidence.flush()
        self.tracker.events.clear()


_NOT_OUTCOMES = frozenset({"exposure", ASSIGNMENT})
"""The ``event`` names that are not outcomes: what ran, and what evaluation chose."""


def _has(event: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    return all(event.get(key) == value for key, value in fields.items())
