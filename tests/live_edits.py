"""Editing a flag file under a running provider, and waiting for what the edit causes.

The reload tests (``tests/integration``) and the reliability tests (``tests/reliability``)
change flag files while providers poll them, then wait until every reader, worker or provider
event (:class:`ProviderEvents`) shows the edit. pytest imports the root ``conftest.py`` with
this folder on ``sys.path``, so a test module anywhere below it imports ``live_edits``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from openfeature.client import OpenFeatureClient
from openfeature.event import EventDetails, ProviderEvent

WAIT = 15.0
"""Deadline of every wait, in seconds: generous, because it is only reached when a test fails
(a loaded machine may take seconds to start a server)."""


def write_atomically(path: Path, text: str) -> None:
    """Write a temporary file next to ``path``, then rename it over ``path``: a poller reads
    the old file or the new one, never half of either."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = WAIT, poll: float = 0.005
) -> None:
    """Return once ``condition()`` is true; raise AssertionError naming ``what`` if it is still
    false after ``timeout`` seconds. ``poll`` is the pause between two looks."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


class ProviderEvents:
    """Every provider event a client's handlers receive, in arrival order, and a mark: what
    came since the last :meth:`reset` is what a test step caused.

    Adding a handler for the provider's current status (READY) runs it once at once; the
    constructor waits for that run and marks after it, so it is not mistaken for an event the
    test caused.
    """

    def __init__(self, client: OpenFeatureClient) -> None:
        self._lock = threading.Lock()
        self._seen: list[tuple[ProviderEvent, EventDetails]] = []
        self._mark = 0
        for event in ProviderEvent:
            client.add_handler(event, self._recorder(event))
        wait_until(lambda: self.since_mark(ProviderEvent.PROVIDER_READY), "the initial READY")
        self.reset()

    def _recorder(self, event: ProviderEvent) -> Callable[[EventDetails], None]:
        def record(details: EventDetails) -> None:
            with self._lock:
                self._seen.append((event, details))

        return record

    def since_mark(self, event: ProviderEvent | None = None) -> list[EventDetails]:
        """The details of each ``event`` (of every event, when None) since the mark."""
        with self._lock:
            return [d for e, d in self._seen[self._mark :] if event is None or e == event]

    def all_since_mark(self) -> list[tuple[ProviderEvent, EventDetails]]:
        """Every event since the mark, with its details, in arrival order."""
        with self._lock:
            return list(self._seen[self._mark :])

    def reset(self) -> None:
        """Mark now: later calls see only what arrives after this."""
        with self._lock:
            self._mark = len(self._seen)

    def wait_for(self, event: ProviderEvent) -> EventDetails:
        """The first ``event`` received since the mark (waiting for it if needed)."""
        wait_until(lambda: self.since_mark(event), event.value)
        return self.since_mark(event)[0]
