"""The background dispatcher behind ``Evidence``, the one owner of delivery: never in the way,
explicit when the queue is full, patient when the tracker is unavailable (in memory, or on
disk with a spill dir), splitting what the tracker rejects, truthful in its counters and in
``flush()``, and on time in ``close()``."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from modelflags import Evidence, MemoryTracker, Resolution
from modelflags.evidence import Event
from modelflags.evidence.tracker import BatchRejected, TrackerUnavailable

ROUTE = Resolution("f", {"modelRoute": "model_a"}, "control", "SPLIT", "split", "u1", {})
FAST: dict[str, Any] = {"flush_interval": 0.01, "backoff": 0.01, "max_backoff": 0.05}


class HeldTracker(MemoryTracker):
    """Holds the background thread inside ``emit`` until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        self.entered.set()
        self.release.wait()
        super().emit(events)


class OutageTracker(MemoryTracker):
    """Unavailable while ``down``; notes when each attempt came and how many events it had."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__()
        self.down = True
        self.retry_after = retry_after
        self.attempts: list[tuple[float, int]] = []

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        self.attempts.append((time.monotonic(), len(events)))
        if self.down:
            raise TrackerUnavailable("collector down", retry_after=self.retry_after)
        super().emit(events)


class PickyTracker(MemoryTracker):
    """Rejects batches of more than ``limit`` events, and any batch holding a ``bad`` seq;
    raises ``error`` (a rejection by default) for them."""

    def __init__(self, limit: int = 10**9, bad: frozenset[int] = frozenset(), error: Any = None):
        super().__init__()
        self.limit, self.bad = limit, bad
        self.error = error or BatchRejected("refused")
        self.calls = 0

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        self.calls += 1
        if len(events) > self.limit or any(seq_of(event) in self.bad for event in events):
            raise self.error
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


def record(evidence: Evidence, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        evidence.outcome("o", "f", None, seq=i)


def seq_of(event: Event) -> int | None:
    return event["metrics"].get("seq") if event.get("event") == "o" else None


def seqs(events: Sequence[Event]) -> list[int]:
    return sorted(event["metrics"]["seq"] for event in events if event["event"] == "o")


def lines_of(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    """The evidence log records saying ``message`` (details follow it in parentheses)."""
    return [
        entry
        for entry in caplog.records
        if entry.name == "modelflags.evidence" and entry.getMessage().partition(" (")[0] == message
    ]


def add_up(counters: dict[str, int]) -> bool:
    """Every recorded event is accounted for."""
    settled = counters["delivered"] + counters["failed"] + counters["dropped"]
    waiting = counters["queued"] + counters["spooled"]
    return counters["recorded"] + counters["adopted"] == settled + waiting


# -- never in the way ----------------------------------------------------------------------


def test_recording_returns_while_the_tracker_is_stuck(held: HeldTracker) -> None:
    evidence = Evidence(held, queue_size=100, flush_interval=0.01)
    hold(evidence, held)
    recorder = threading.Thread(target=record, args=(evidence, 1000))
    recorder.start()
    recorder.join(10)
    assert not recorder.is_alive()
    held.release.set()
    evidence.close()


def test_a_tracker_that_raises_never_raises_into_the_application() -> None:
    tracker = PickyTracker(limit=0, error=RuntimeError("bug"))
    evidence = Evidence(tracker, **FAST)
    for i in range(100):
        evidence.outcome("o", "f", None, seq=i)
        evidence.exposure(ROUTE).record(latency_ms=1)
    assert evidence.flush(timeout=5) is False  # nothing was delivered, and nothing raised
    evidence.close()
    assert tracker.calls > 0 and tracker.events == []


def test_an_event_that_cannot_be_built_fails_alone() -> None:
    class Unreadable:
        value = None

        @property
        def flag_metadata(self) -> dict[str, Any]:
            raise RuntimeError("unreadable")

    memory = MemoryTracker()
    evidence = Evidence(memory, **FAST)
    evidence.exposure(Unreadable()).record(latency_ms=1)
    record(evidence, 3)
    evidence.close()
    assert seqs(memory.events) == [0, 1, 2]
    assert (evidence.counters["failed"], evidence.counters["delivered"]) == (1, 3)


# -- a full queue --------------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_exactly(held: HeldTracker) -> None:
    evidence = Evidence(held, queue_size=20, flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 27)  # 20 fit in the queue, 7 do not
    assert evidence.counters["dropped"] == 7
    held.release.set()
    evidence.close()
    assert seqs(held.events) == list(range(20))
    assert evidence.counters["delivered"] == 21


def test_dropping_is_logged_once(held: HeldTracker, caplog: pytest.LogCaptureFixture) -> None:
    evidence = Evidence(held, queue_size=5, flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 50)
    (line,) = lines_of(caplog, "evidence queue full; dropping events")
    assert (line.problem, line.queue_size) == ("queue-full", 5)  # type: ignore[attr-defined]
    held.release.set()
    evidence.close()


def test_a_spill_dir_makes_a_full_queue_spill_by_default(held: HeldTracker, tmp_path: Path) -> None:
    evidence = Evidence(held, queue_size=10, spill_dir=tmp_path / "spill", flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 25)  # 10 fit in the queue, 15 are spilled
    counters = evidence.counters
    assert (counters["spilled"], counters["spooled"], counters["dropped"]) == (15, 15, 0)
    held.release.set()
    evidence.close()


def test_spilled_events_are_replayed_to_the_tracker(held: HeldTracker, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    evidence = Evidence(held, queue_size=10, spill_dir=spill, flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 25)
    held.release.set()
    assert evidence.flush(timeout=10)
    assert seqs(held.events) == list(range(25))  # every event, once
    ids = [event["eventId"] for event in held.events]
    assert len(ids) == len(set(ids)) == 26
    assert list(spill.glob("spool-*.jsonl")) == []
    evidence.close()


def test_on_full_drop_with_a_spill_dir_drops(held: HeldTracker, tmp_path: Path) -> None:
    evidence = Evidence(held, queue_size=10, on_full="drop", spill_dir=tmp_path / "spill",
                        flush_interval=0.01)  # fmt: skip
    hold(evidence, held)
    record(evidence, 25)
    assert (evidence.counters["dropped"], evidence.counters["spilled"]) == (15, 0)
    held.release.set()
    evidence.close()


def test_spill_needs_a_spill_dir() -> None:
    with pytest.raises(ValueError, match="spill_dir"):
        Evidence(MemoryTracker(), on_full="spill")


def test_the_spill_dir_comes_from_the_environment(
    held: HeldTracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELFLAGS_SPILL_DIR", str(tmp_path / "from-env"))
    evidence = Evidence(held, queue_size=1, flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 5)
    assert evidence.counters["spilled"] == 4
    assert list((tmp_path / "from-env").glob("spool-*.jsonl"))
    held.release.set()
    evidence.close()


# -- an unavailable tracker ----------------------------------------------------------------


def test_without_a_spill_dir_events_wait_in_memory_until_the_tracker_is_back() -> None:
    tracker = OutageTracker()
    evidence = Evidence(tracker, batch_size=10, **FAST)
    record(evidence, 95)
    assert evidence.flush(timeout=0.3) is False
    assert evidence.counters["queued"] == 95
    tracker.down = False
    assert evidence.flush(timeout=10) is True
    assert seqs(tracker.events) == list(range(95))
    assert evidence.counters["delivered"] == 95
    evidence.close()


def test_without_a_spill_dir_an_outage_longer_than_the_queue_drops_the_excess() -> None:
    tracker = OutageTracker()
    evidence = Evidence(tracker, queue_size=50, batch_size=10, **FAST)
    record(evidence, 10)
    time.sleep(0.1)  # the first batch was tried and is held for a retry
    record(evidence, 100, start=10)
    tracker.down = False
    evidence.close()
    counters = evidence.counters
    assert counters["dropped"] == 50  # of 110: 10 held for a retry and 50 queued survive
    assert counters["delivered"] == 60
    assert seqs(tracker.events) == list(range(60))
    assert add_up(counters)


def test_with_a_spill_dir_an_outage_loses_nothing_and_memory_holds_little(
    tmp_path: Path,
) -> None:
    tracker = OutageTracker()
    evidence = Evidence(tracker, queue_size=100, batch_size=50, spill_dir=tmp_path / "spill",
                        **FAST)  # fmt: skip
    for start in range(0, 3000, 100):
        record(evidence, 100, start)
        time.sleep(0.005)  # an application that does not outrun the thread
    assert evidence.counters["queued"] <= 100
    assert evidence.counters["spooled"] + evidence.counters["queued"] == 3000
    tracker.down = False
    assert evidence.flush(timeout=20)
    assert seqs(tracker.events) == list(range(3000))
    assert evidence.counters["dropped"] == 0
    evidence.close()


def test_the_spool_is_replayed_oldest_first(tmp_path: Path) -> None:
    tracker = OutageTracker()
    evidence = Evidence(tracker, batch_size=20, spill_dir=tmp_path / "spill", **FAST)
    for start in range(0, 200, 20):
        record(evidence, 20, start)
        time.sleep(0.02)
    tracker.down = False
    assert evidence.flush(timeout=10)
    order = [event["metrics"]["seq"] for event in tracker.events]
    assert order == list(range(200))
    evidence.close()


def test_a_burst_does_not_starve_the_retries(tmp_path: Path) -> None:
    tracker = OutageTracker()
    evidence = Evidence(tracker, queue_size=1000, spill_dir=tmp_path / "spill",
                        flush_interval=0.01, backoff=0.05, max_backoff=0.1)  # fmt: skip
    threading.Timer(0.6, lambda: setattr(tracker, "down", False)).start()
    ends = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < ends:  # the application never pauses
        evidence.exposure(ROUTE).record(seq=n)
        n += 1
    delivered_during_the_burst = len(tracker.events)
    assert len(tracker.attempts) >= 3  # retried while the queue never emptied
    assert delivered_during_the_burst > 0  # and delivering again once it was back
    assert evidence.flush(timeout=30)
    evidence.close()
    assert evidence.counters["delivered"] == n


def test_an_oserror_from_a_tracker_means_unavailable() -> None:
    tracker = PickyTracker(limit=0, error=OSError(28, "No space left on device"))
    evidence = Evidence(tracker, **FAST)
    record(evidence, 5)
    assert evidence.flush(timeout=0.2) is False
    assert evidence.counters["failed"] == 0
    tracker.limit = 10**9  # the disk was freed
    assert evidence.flush(timeout=10)
    assert seqs(tracker.events) == list(range(5))
    evidence.close()


def test_retries_back_off_exponentially() -> None:
    tracker = OutageTracker()
    evidence = Evidence(tracker, flush_interval=0.01, backoff=0.02, max_backoff=10.0)
    record(evidence, 1)
    time.sleep(1.0)
    evidence.close(timeout=0.1)
    times = [at for at, _ in tracker.attempts]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert 4 <= len(times) <= 8  # 0.02 * 2**k, halved at least: not a busy loop
    for k, gap in enumerate(gaps[:4]):
        assert gap >= 0.02 * 2**k / 2 * 0.9


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    tracker = OutageTracker(retry_after=0.3)
    evidence = Evidence(tracker, flush_interval=0.01, backoff=0.001, max_backoff=5.0)
    record(evidence, 1)
    time.sleep(0.1)
    tracker.down = False
    assert evidence.flush(timeout=5)
    (first, _), (second, _) = tracker.attempts[:2]
    assert second - first >= 0.29  # not the 1 ms backoff
    evidence.close()


def test_retry_after_is_capped_at_max_backoff() -> None:
    tracker = OutageTracker(retry_after=3600)
    evidence = Evidence(tracker, flush_interval=0.01, backoff=0.001, max_backoff=0.2)
    record(evidence, 1)
    time.sleep(0.05)
    tracker.down = False
    assert evidence.flush(timeout=5)  # an hour's wait would not fit
    evidence.close()


def test_an_outage_is_logged_once_and_its_end_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="modelflags.evidence")
    tracker = OutageTracker()
    evidence = Evidence(tracker, batch_size=5, spill_dir=tmp_path / "spill", **FAST)
    record(evidence, 50)
    time.sleep(0.3)
    tracker.down = False
    assert evidence.flush(timeout=10)
    evidence.close()
    ours = [entry for entry in caplog.records if "problem" in entry.__dict__]  # delivery
    assert [(entry.levelname, entry.getMessage().partition(" (")[0]) for entry in ours] == [
        ("ERROR", "evidence destination unavailable; spilling to disk"),
        ("INFO", "evidence destination recovered"),
    ]
    assert [entry.problem for entry in ours] == ["unavailable"] * 2  # type: ignore[attr-defined]
    assert "collector down" in ours[0].error  # type: ignore[attr-defined]
    assert "collector down" in ours[0].getMessage()  # shown by any formatter


# -- rejections ----------------------------------------------------------------------------


def test_a_batch_too_large_is_split_until_accepted() -> None:
    tracker = PickyTracker(limit=30)
    evidence = Evidence(tracker, batch_size=512, flush_interval=3600)
    record(evidence, 200)
    assert evidence.flush(timeout=10)
    assert seqs(tracker.events) == list(range(200))
    assert [seq_of(event) for event in tracker.events] == list(range(200))  # in order
    assert evidence.counters["failed"] == 0
    evidence.close()


def test_a_rejected_event_fails_alone() -> None:
    tracker = PickyTracker(bad=frozenset({137}))
    evidence = Evidence(tracker, batch_size=512, flush_interval=3600)
    record(evidence, 512)
    assert evidence.flush(timeout=10) is False
    assert seqs(tracker.events) == [i for i in range(512) if i != 137]
    assert (evidence.counters["failed"], evidence.counters["delivered"]) == (1, 511)
    assert tracker.calls <= 2 * 10 + 1  # one path down the halves, not every event
    evidence.close()


def test_a_rejection_of_the_whole_request_is_not_split() -> None:
    tracker = PickyTracker(limit=0, error=BatchRejected("HTTP 404", split=False))
    evidence = Evidence(tracker, batch_size=100, flush_interval=3600)
    record(evidence, 100)
    assert evidence.flush(timeout=10) is False
    assert (tracker.calls, evidence.counters["failed"]) == (1, 100)
    evidence.close()


def test_a_tracker_bug_set_off_by_one_event_fails_only_that_event() -> None:
    tracker = PickyTracker(bad=frozenset({3}), error=KeyError("seq"))
    evidence = Evidence(tracker, flush_interval=3600)
    record(evidence, 10)
    evidence.flush(timeout=10)
    assert seqs(tracker.events) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert evidence.counters["failed"] == 1
    evidence.close()


def test_rejections_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    evidence = Evidence(PickyTracker(limit=0), batch_size=2, **FAST)
    for round_ in range(3):
        record(evidence, 10, start=round_ * 10)
        evidence.flush(timeout=5)
    errors = lines_of(caplog, "evidence destination rejected events")
    assert len(errors) == 1
    assert errors[0].levelno == logging.ERROR
    evidence.close()


# -- counters, flush and close -------------------------------------------------------------


def test_counters_add_up_with_every_fate(held: HeldTracker, tmp_path: Path) -> None:
    evidence = Evidence(held, queue_size=10, spill_dir=tmp_path / "spill", flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 30)
    assert add_up(evidence.counters)
    held.release.set()
    evidence.close()
    counters = evidence.counters
    assert counters["recorded"] == counters["delivered"] == 31
    assert add_up(counters)


def test_flush_returns_true_once_delivered() -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, batch_size=10_000, flush_interval=3600)
    record(evidence, 10)
    assert evidence.flush(timeout=10) is True
    assert seqs(memory.events) == list(range(10))
    evidence.close()


def test_flush_returns_false_when_every_event_failed() -> None:
    evidence = Evidence(PickyTracker(limit=0, error=BatchRejected("no", split=False)), **FAST)
    record(evidence, 35)
    time.sleep(0.1)  # the failures happen before the flush is asked for
    assert evidence.flush(timeout=5) is False
    assert (evidence.counters["failed"], evidence.counters["delivered"]) == (35, 0)
    evidence.close()


def test_flush_returns_false_after_a_drop_and_true_again_once_clean(held: HeldTracker) -> None:
    evidence = Evidence(held, queue_size=5, flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 10)  # 5 dropped
    held.release.set()
    assert evidence.flush(timeout=10) is False
    record(evidence, 3, start=100)
    assert evidence.flush(timeout=10) is True
    evidence.close()


def test_flush_returns_false_when_the_tracker_cannot_finish_in_time(held: HeldTracker) -> None:
    evidence = Evidence(held, flush_interval=0.01)
    hold(evidence, held)
    started = time.monotonic()
    assert evidence.flush(timeout=0.1) is False
    assert time.monotonic() - started < 1.0
    held.release.set()
    evidence.close()


def test_flush_with_a_spill_dir_is_false_while_the_tracker_is_down(tmp_path: Path) -> None:
    evidence = Evidence(OutageTracker(), spill_dir=tmp_path / "spill", **FAST)
    record(evidence, 10)
    assert evidence.flush(timeout=0.3) is False  # on disk is not delivered
    assert evidence.counters["spooled"] == 10
    evidence.close(timeout=0.5)


def test_close_delivers_what_was_recorded() -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, batch_size=10_000, flush_interval=3600)
    record(evidence, 10)
    evidence.close()
    assert seqs(memory.events) == list(range(10))


def test_close_keeps_its_timeout_with_a_stuck_tracker_and_counts_the_rest(
    held: HeldTracker,
) -> None:
    evidence = Evidence(held, flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 20)
    started = time.monotonic()
    evidence.close(timeout=0.5)
    assert time.monotonic() - started < 0.9
    counters = evidence.counters
    assert counters["dropped"] == 21  # the stuck batch and the queue, without a spill dir
    assert add_up(counters)


def test_close_spills_what_a_stuck_tracker_holds(held: HeldTracker, tmp_path: Path) -> None:
    evidence = Evidence(held, spill_dir=tmp_path / "spill", flush_interval=0.01)
    hold(evidence, held)
    record(evidence, 20)
    started = time.monotonic()
    evidence.close(timeout=0.5)
    assert time.monotonic() - started < 0.9
    counters = evidence.counters
    assert (counters["spooled"], counters["dropped"]) == (21, 0)
    assert add_up(counters)


def test_close_with_the_tracker_down_spills_at_once(tmp_path: Path) -> None:
    evidence = Evidence(OutageTracker(), spill_dir=tmp_path / "spill", flush_interval=0.01,
                        backoff=10.0, max_backoff=10.0)  # fmt: skip
    record(evidence, 40)
    assert evidence.flush(timeout=0.3) is False  # tried once: the next try is 5-10 s away
    started = time.monotonic()
    evidence.close(timeout=3.0)
    assert time.monotonic() - started < 1.0  # the next try would come after the deadline
    assert evidence.counters["spooled"] == 40


def test_close_closes_the_tracker_once() -> None:
    tracker = CountingTracker()
    evidence = Evidence(tracker)
    evidence.close()
    evidence.close()
    assert tracker.closes == 1


class StuckSync(MemoryTracker):
    """Its ``flush`` (the sync) ignores its timeout while ``stuck``."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def flush(self, timeout: float | None = None) -> None:
        if self.stuck:
            self.entered.set()
            self.release.wait()


def stuck_after_one_event() -> tuple[StuckSync, Evidence]:
    """An Evidence whose one event was delivered; its tracker's sync is stuck from now on."""
    tracker = StuckSync()
    evidence = Evidence(tracker, **FAST)
    evidence.outcome("o", "f", None, seq=1)
    assert evidence.flush()
    tracker.stuck = True
    return tracker, evidence


def test_a_flush_waiting_on_a_stuck_sync_returns_when_close_gives_up() -> None:
    tracker, evidence = stuck_after_one_event()
    answers: list[bool] = []
    flusher = threading.Thread(target=lambda: answers.append(evidence.flush(timeout=None)))
    flusher.start()
    try:
        assert tracker.entered.wait(5)  # the flush's events are settled; the sync is stuck
        evidence.close(timeout=0.5)
        flusher.join(2)
        assert answers == [False]  # told, although the tracker never came back
    finally:
        tracker.release.set()
        flusher.join(5)


def test_a_flush_while_close_syncs_waits_for_that_sync() -> None:
    tracker, evidence = stuck_after_one_event()
    closer = threading.Thread(target=evidence.close, kwargs={"timeout": None})
    closer.start()
    try:
        assert tracker.entered.wait(5)  # closing: the last sync is under way
        assert evidence.flush(timeout=0.3) is False  # not synced yet
    finally:
        tracker.release.set()
        closer.join(5)
    assert evidence.flush(timeout=5) is True  # delivered, synced, closed


def test_finishing_again_after_a_failed_step_does_not_close_the_tracker_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = CountingTracker()
    evidence = Evidence(tracker, spill_dir=tmp_path, **FAST)
    spool = evidence._dispatcher.spool
    assert spool is not None

    def fails() -> None:
        raise OSError("the spill dir's disk is gone")

    monkeypatch.setattr(spool, "close", fails)  # the last step of closing raises
    evidence.outcome("o", "f", None, seq=1)
    evidence.close(timeout=2)
    evidence._dispatcher._thread.join(2)
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

    def run(thread: int) -> None:
        start.wait()
        for i in range(5000):
            if i % 2:
                evidence.outcome("o", "f", None, thread=thread, seq=i)
            else:
                evidence.exposure(ROUTE).record(thread=thread, seq=i)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
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


def test_eight_threads_overflowing_into_the_spool_lose_nothing(
    held: HeldTracker, tmp_path: Path
) -> None:
    evidence = Evidence(held, queue_size=100, spill_dir=tmp_path / "spill", flush_interval=0.01)
    hold(evidence, held)
    start = threading.Barrier(8)

    def run(thread: int) -> None:
        start.wait()
        record(evidence, 250, start=thread * 1000)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held.release.set()
    assert evidence.flush(timeout=20)
    evidence.close()
    expected = [t * 1000 + i for t in range(8) for i in range(250)]
    assert seqs(held.events) == expected
    assert add_up(evidence.counters)
