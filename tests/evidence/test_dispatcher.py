"""The background dispatcher behind ``Evidence``: never in the way, explicit when the queue
is full, loud once when the tracker fails, complete under concurrency and at process exit."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import modelflags
from modelflags import Evidence, MemoryTracker, Resolution, read_events
from modelflags.evidence import Event

SRC = Path(modelflags.__file__).resolve().parent.parent
ROUTE = Resolution("f", {"modelRoute": "model_a"}, "control", "SPLIT", "split", "u1", {})


class HeldTracker(MemoryTracker):
    """Holds the background thread inside ``emit`` until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def emit(self, events: Sequence[Event]) -> None:
        self.entered.set()
        self.release.wait()
        super().emit(events)


class FlakyTracker(MemoryTracker):
    """Raises in ``emit`` while ``failing``."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True

    def emit(self, events: Sequence[Event]) -> None:
        if self.failing:
            raise ConnectionError("collector down")
        super().emit(events)


class CountingTracker(MemoryTracker):
    def __init__(self) -> None:
        super().__init__()
        self.closes = 0

    def close(self) -> None:
        self.closes += 1
        super().close()


@pytest.fixture
def held() -> Iterator[HeldTracker]:
    tracker = HeldTracker()
    yield tracker
    tracker.release.set()  # never leave a background thread stuck


def hold(evidence: Evidence, tracker: HeldTracker) -> None:
    """Send one event and wait until the background thread is stuck delivering it."""
    evidence.outcome("held", "f", None, seq=-1)
    assert tracker.entered.wait(10)


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return sorted(event["metrics"]["seq"] for event in events if event["event"] == "o")


def lines_of(logs: list[dict[str, Any]], message: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == message]


# -- never in the way ----------------------------------------------------------------------


def test_recording_returns_while_the_tracker_is_stuck(held: HeldTracker) -> None:
    evidence = Evidence(held, queue_size=100, flush_interval=0.01)
    hold(evidence, held)
    recorder = threading.Thread(
        target=lambda: [evidence.outcome("o", "f", None, seq=i) for i in range(1000)]
    )
    recorder.start()
    recorder.join(10)
    assert not recorder.is_alive()
    held.release.set()
    evidence.close()


def test_a_tracker_that_raises_never_raises_into_the_application() -> None:
    evidence = Evidence(FlakyTracker(), flush_interval=0.01)
    for i in range(100):
        evidence.outcome("o", "f", None, seq=i)
        evidence.exposure(ROUTE).record(latency_ms=1)
    assert evidence.flush()
    evidence.close()


def test_an_event_that_cannot_be_built_does_not_stop_delivery() -> None:
    class Unreadable:
        value = None

        @property
        def flag_metadata(self) -> dict[str, Any]:
            raise RuntimeError("unreadable")

    memory = MemoryTracker()
    evidence = Evidence(memory, flush_interval=0.01)
    evidence.exposure(Unreadable()).record(latency_ms=1)
    assert evidence.flush()
    evidence.outcome("o", "f", None, seq=1)
    assert evidence.flush()
    assert seqs(memory.events) == [1]
    assert evidence.counters["failed"] == 1
    evidence.close()


# -- a full queue --------------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_exactly(held: HeldTracker) -> None:
    evidence = Evidence(held, queue_size=20, on_full="drop", flush_interval=0.01)
    hold(evidence, held)
    for i in range(27):  # 20 fit in the queue, 7 do not
        evidence.outcome("o", "f", None, seq=i)
    assert evidence.counters["dropped"] == 7
    held.release.set()
    assert evidence.flush()
    assert seqs(held.events) == list(range(20))
    assert evidence.counters["sent"] == 21
    evidence.close()


def test_dropping_is_logged_once(held: HeldTracker) -> None:
    evidence = Evidence(held, queue_size=5, on_full="drop", flush_interval=0.01)
    with capture_logs() as logs:
        hold(evidence, held)
        for i in range(50):
            evidence.outcome("o", "f", None, seq=i)
    assert len(lines_of(logs, "evidence queue full; dropping events")) == 1
    held.release.set()
    evidence.close()


def test_a_full_queue_spills_to_disk_and_counts_exactly(held: HeldTracker, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    evidence = Evidence(held, queue_size=10, on_full="spill", spill_dir=spill,
                        flush_interval=0.01)  # fmt: skip
    hold(evidence, held)
    for i in range(25):  # 10 fit in the queue, 15 are spilled
        evidence.outcome("o", "f", None, seq=i)
    assert evidence.counters["spilled"] == 15
    assert evidence.counters["dropped"] == 0
    assert len(list(read_events(spill.glob("spool-*.jsonl")))) == 15
    held.release.set()
    evidence.close()


def test_spilled_events_are_replayed_to_the_tracker(held: HeldTracker, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    evidence = Evidence(held, queue_size=10, on_full="spill", spill_dir=spill,
                        flush_interval=0.01)  # fmt: skip
    hold(evidence, held)
    for i in range(25):
        evidence.outcome("o", "f", None, seq=i)
    held.release.set()
    assert evidence.flush()

    assert seqs(held.events) == list(range(25))  # every event, once
    ids = [event["eventId"] for event in held.events]
    assert len(ids) == len(set(ids)) == 26
    assert list(spill.glob("spool-*.jsonl")) == []
    evidence.close()


def test_spill_needs_a_spill_dir() -> None:
    with pytest.raises(ValueError, match="spill_dir"):
        Evidence(MemoryTracker(), on_full="spill")


# -- a failing tracker ---------------------------------------------------------------------


def test_batches_the_tracker_refuses_are_counted_as_failed() -> None:
    evidence = Evidence(FlakyTracker(), batch_size=10, flush_interval=0.01)
    for i in range(35):
        evidence.outcome("o", "f", None, seq=i)
    assert evidence.flush()
    assert (evidence.counters["failed"], evidence.counters["sent"]) == (35, 0)
    evidence.close()


def test_a_failing_tracker_is_logged_once_across_many_batches() -> None:
    evidence = Evidence(FlakyTracker(), batch_size=2, flush_interval=0.01)
    with capture_logs() as logs:
        for round_ in range(5):
            for i in range(10):
                evidence.outcome("o", "f", None, seq=round_ * 10 + i)
            assert evidence.flush()
    errors = lines_of(logs, "tracker failed to take events")
    assert len(errors) == 1
    assert errors[0]["log_level"] == "error"
    assert "collector down" in errors[0]["error"]
    evidence.close()


def test_recovery_is_logged_when_the_tracker_works_again() -> None:
    tracker = FlakyTracker()
    evidence = Evidence(tracker, flush_interval=0.01)
    with capture_logs() as logs:
        evidence.outcome("o", "f", None, seq=0)
        assert evidence.flush()
        tracker.failing = False
        for i in range(1, 4):
            evidence.outcome("o", "f", None, seq=i)
            assert evidence.flush()
    recovered = lines_of(logs, "evidence tracker recovered")
    assert len(recovered) == 1
    assert recovered[0]["problem"] == "emit"
    assert seqs(tracker.events) == [1, 2, 3]
    evidence.close()


# -- flush and close -----------------------------------------------------------------------


def test_flush_returns_true_once_delivered() -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, batch_size=10_000, flush_interval=3600)
    for i in range(10):
        evidence.outcome("o", "f", None, seq=i)
    assert evidence.flush(timeout=10) is True
    assert seqs(memory.events) == list(range(10))
    evidence.close()


def test_flush_returns_false_when_the_tracker_cannot_finish_in_time(held: HeldTracker) -> None:
    evidence = Evidence(held, flush_interval=0.01)
    hold(evidence, held)
    assert evidence.flush(timeout=0.05) is False
    held.release.set()
    evidence.close()


def test_close_delivers_what_was_recorded() -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, batch_size=10_000, flush_interval=3600)
    for i in range(10):
        evidence.outcome("o", "f", None, seq=i)
    evidence.close()
    assert seqs(memory.events) == list(range(10))


def test_close_closes_the_tracker_once() -> None:
    tracker = CountingTracker()
    evidence = Evidence(tracker)
    evidence.close()
    evidence.close()
    assert tracker.closes == 1


def test_recording_after_close_is_dropped_and_counted() -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory)
    evidence.close()
    evidence.outcome("o", "f", None, seq=1)
    evidence.exposure(ROUTE).record(latency_ms=1)
    assert evidence.counters["dropped"] == 2
    assert memory.events == []


# -- concurrency ---------------------------------------------------------------------------


def test_every_event_from_eight_threads_arrives_exactly_once() -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, queue_size=100_000, flush_interval=0.01)
    start = threading.Barrier(8)

    def record(thread: int) -> None:
        start.wait()
        for i in range(5000):
            if i % 2:
                evidence.outcome("o", "f", None, thread=thread, seq=i)
            else:
                evidence.exposure(ROUTE).record(thread=thread, seq=i)

    threads = [threading.Thread(target=record, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    evidence.close()

    ids = [event["eventId"] for event in memory.events]
    assert len(ids) == len(set(ids)) == 40_000
    keys = sorted(
        (fields["thread"], fields["seq"])
        for event in memory.events
        for fields in [event["metrics"] if event["event"] == "o" else event["attributes"]]
    )
    assert keys == [(t, i) for t in range(8) for i in range(5000)]
    assert evidence.counters["dropped"] == 0


# -- process exit --------------------------------------------------------------------------


def run_script(script: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, str(path)],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_process_exit_delivers_what_was_not_flushed(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    script = """
import sys
from modelflags import Evidence, JsonlTracker
evidence = Evidence(JsonlTracker(sys.argv[1]), batch_size=100_000, flush_interval=3600)
for i in range(1000):
    evidence.outcome("o", "f", None, seq=i)
"""
    result = run_script(script, path)
    assert result.returncode == 0, result.stderr
    assert seqs(list(read_events([path]))) == list(range(1000))


def test_process_exit_delivers_events_of_an_evidence_no_longer_referenced(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    script = """
import gc, sys
from modelflags import Evidence, JsonlTracker
def handle_requests():
    evidence = Evidence(JsonlTracker(sys.argv[1]), batch_size=100_000, flush_interval=3600)
    for i in range(1000):
        evidence.outcome("o", "f", None, seq=i)
handle_requests()
gc.collect()
"""
    result = run_script(script, path)
    assert result.returncode == 0, result.stderr
    assert seqs(list(read_events([path]))) == list(range(1000))


def test_a_crashing_process_still_delivers_at_exit(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    script = """
import sys
from modelflags import Evidence, JsonlTracker
evidence = Evidence(JsonlTracker(sys.argv[1]), batch_size=100_000, flush_interval=3600)
for i in range(1000):
    evidence.outcome("o", "f", None, seq=i)
raise SystemExit("the application failed")
"""
    result = run_script(script, path)
    assert result.returncode == 1
    assert seqs(list(read_events([path]))) == list(range(1000))
