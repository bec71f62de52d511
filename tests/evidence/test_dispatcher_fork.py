"""A dispatcher in a forked child starts afresh (``after_fork_in_child``, called by the
recorder's at-fork handler): a thread of its own, the parent's queue left to the parent, its
own segments in a shared spill dir. Real ``os.fork()``."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from modelflags import Evidence, JsonlTracker, MemoryTracker, read_events
from modelflags.evidence import Event

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


class Held(MemoryTracker):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        self.release.wait()
        super().emit(events)


def test_a_forked_child_delivers_its_own_events_only(tmp_path: Path) -> None:
    path = tmp_path / "child.jsonl"
    parent_tracker = Held()
    evidence = Evidence(parent_tracker, spill_dir=tmp_path / "spill", flush_interval=0.01)
    for i in range(50):
        evidence.outcome("o", "f", None, seq=i)  # queued (or in flight) in the parent
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            evidence.tracker = evidence._dispatcher.tracker = JsonlTracker(path)
            for i in range(100, 110):
                evidence.outcome("o", "f", None, seq=i)
            code = 0 if evidence.flush(timeout=10) else 2
            evidence.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(event["metrics"]["seq"] for event in read_events([path])) == list(range(100, 110))
    parent_tracker.release.set()
    assert evidence.flush(timeout=10)
    evidence.close()
    assert sorted(event["metrics"]["seq"] for event in parent_tracker.events) == list(range(50))
