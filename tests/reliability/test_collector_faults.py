"""Evidence through HttpTracker to a real collector on 127.0.0.1 that fails in every way a
collector can: down for a long time, slow, 5xx, 429 with Retry-After, 413 for large batches,
connections reset mid-request, hanging, flapping. In each case, with the documented set-up
(a spill dir): every event arrives exactly once after de-duplication by ``eventId``, nothing
is dropped, memory stays bounded, and the counters add up."""

from __future__ import annotations

import itertools
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from modelflags import Evidence, Resolution
from modelflags.evidence.http_tracker import HttpTracker

if TYPE_CHECKING:  # the fixture's class, from this folder's conftest
    from conftest import FaultyCollector

ROUTE = {"modelRoute": "model_b", "promptVersion": "v4", "retrievalProfile": "wide"}
METADATA = {"experimentKey": "route-test", "assignmentUnit": "conversation",
            "configVersion": "8e7ca6075789"}  # fmt: skip
FAST: dict[str, Any] = {"flush_interval": 0.02, "backoff": 0.05, "max_backoff": 0.3}


def resolution(i: int) -> Resolution:
    return Resolution("answer_route", ROUTE, "candidate", "SPLIT", "split", f"c{i}", METADATA)


def record_steadily(
    evidence: Evidence, count: int, *, threads: int = 4, per_second: float = 5000.0
) -> None:
    """``count`` exposures from ``threads`` threads at about ``per_second`` in all."""
    share = count // threads
    pause = 50 * threads / per_second  # seconds per chunk of 50, per thread

    def run(first: int) -> None:
        for start in range(first, first + share, 50):
            began = time.monotonic()
            for i in range(start, min(start + 50, first + share)):
                evidence.exposure(resolution(i)).record(latency_ms=12.5, seq=i)
            time.sleep(max(0.0, pause - (time.monotonic() - began)))

    workers = [threading.Thread(target=run, args=(t * share,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def arrived_exactly_once(collector: FaultyCollector, count: int) -> bool:
    """Every seq arrived under exactly one eventId (duplicates of an eventId allowed)."""
    return collector.seqs() == Counter(range(count))


def accounted(evidence: Evidence, count: int) -> bool:
    c = evidence.counters
    return (c["recorded"], c["delivered"], c["failed"], c["dropped"], c["queued"],
            c["spooled"]) == (count, count, 0, 0, 0, 0)  # fmt: skip


@pytest.fixture
def spill(tmp_path: Path) -> Path:
    return tmp_path / "spill"


def test_a_collector_down_for_a_long_time_loses_nothing_and_memory_stays_bounded(
    collector: FaultyCollector, spill: Path
) -> None:
    evidence = Evidence(HttpTracker(collector.url, timeout=1.0), spill_dir=spill,
                        queue_size=1000, **FAST)  # fmt: skip
    collector.down()
    tracemalloc.start()
    try:
        record_steadily(evidence, 8000, per_second=4000)  # two seconds of refused connections
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert evidence.counters["queued"] <= 1000
    assert evidence.counters["spooled"] >= 7000
    assert peak < 12 * 2**20  # a fixed queue and one segment, not 8,000 events
    collector.up()
    assert evidence.flush(timeout=30)
    evidence.close()
    assert arrived_exactly_once(collector, 8000)
    assert accounted(evidence, 8000)


def test_503_for_3_seconds_with_20000_exposures_loses_nothing_with_the_defaults(
    collector: FaultyCollector, spill: Path
) -> None:
    """The reported case, with the documented set-up and default options."""
    evidence = Evidence(HttpTracker(collector.url), spill_dir=spill)
    collector.fault = ("status", 503, {})
    threading.Timer(3.0, lambda: setattr(collector, "fault", None)).start()
    for i in range(20_000):
        evidence.exposure(resolution(i)).record(latency_ms=3.0, seq=i)
    assert evidence.flush(timeout=40)
    evidence.close()
    assert arrived_exactly_once(collector, 20_000)
    assert accounted(evidence, 20_000)


def test_a_slow_collector_is_retried_and_duplicates_are_only_of_the_same_event(
    collector: FaultyCollector, spill: Path
) -> None:
    evidence = Evidence(HttpTracker(collector.url, timeout=0.3), spill_dir=spill, **FAST)
    collector.fault = ("slow", 0.6)
    threading.Timer(1.5, lambda: setattr(collector, "fault", None)).start()
    record_steadily(evidence, 4000, per_second=2000)
    assert evidence.flush(timeout=30)
    evidence.close()
    assert collector.duplicates() > 0  # the collector kept batches the client gave up on
    assert arrived_exactly_once(collector, 4000)
    assert accounted(evidence, 4000)


def test_429_with_retry_after_is_waited_out(collector: FaultyCollector, spill: Path) -> None:
    evidence = Evidence(HttpTracker(collector.url), spill_dir=spill, flush_interval=0.02,
                        backoff=0.001, max_backoff=5.0)  # fmt: skip
    collector.fault = ("status", 429, {"Retry-After": "0.4"})
    threading.Timer(1.0, lambda: setattr(collector, "fault", None)).start()
    record_steadily(evidence, 2000, per_second=2000)
    assert evidence.flush(timeout=30)
    evidence.close()
    refused = [request.arrived for request in collector.requests if request.answer == "429"]
    assert len(refused) >= 2
    assert all(b - a >= 0.39 for a, b in itertools.pairwise(refused))
    assert arrived_exactly_once(collector, 2000)
    assert accounted(evidence, 2000)


def test_413_for_large_batches_splits_them_until_they_fit(
    collector: FaultyCollector, spill: Path
) -> None:
    evidence = Evidence(HttpTracker(collector.url), spill_dir=spill, batch_size=512,
                        flush_interval=0.5)  # fmt: skip
    collector.fault = ("over", 100)
    record_steadily(evidence, 4000, per_second=8000)
    assert evidence.flush(timeout=30)
    evidence.close()
    accepted = [request.events for request in collector.requests if request.answer == "200"]
    assert max(accepted) <= 100
    assert any(request.answer == "413" for request in collector.requests)
    assert arrived_exactly_once(collector, 4000)
    assert accounted(evidence, 4000)


def test_connections_reset_mid_request_are_retried(collector: FaultyCollector, spill: Path) -> None:
    evidence = Evidence(HttpTracker(collector.url), spill_dir=spill, **FAST)
    collector.fault = ("reset",)
    threading.Timer(1.0, lambda: setattr(collector, "fault", None)).start()
    record_steadily(evidence, 3000, per_second=2000)
    assert evidence.flush(timeout=30)
    evidence.close()
    assert any(request.answer == "reset" for request in collector.requests)
    assert arrived_exactly_once(collector, 3000)
    assert accounted(evidence, 3000)


def test_a_hanging_collector_is_given_up_on_and_retried(
    collector: FaultyCollector, spill: Path
) -> None:
    evidence = Evidence(HttpTracker(collector.url, timeout=0.4), spill_dir=spill,
                        queue_size=500, **FAST)  # fmt: skip
    collector.fault = ("hang",)
    threading.Timer(1.5, lambda: setattr(collector, "fault", None)).start()
    record_steadily(evidence, 4000, per_second=2000)
    assert evidence.counters["dropped"] == 0
    assert evidence.flush(timeout=30)
    evidence.close()
    assert arrived_exactly_once(collector, 4000)
    assert accounted(evidence, 4000)


def test_a_flapping_collector_loses_nothing(collector: FaultyCollector, spill: Path) -> None:
    evidence = Evidence(HttpTracker(collector.url, timeout=0.5), spill_dir=spill, **FAST)
    stop = threading.Event()

    def flap() -> None:
        faults = [("status", 503, {}), None, ("reset",), None, ("down",), None]
        n = 0
        while not stop.is_set():
            fault = faults[n % len(faults)]
            if fault == ("down",):
                collector.down()
            else:
                collector.up()
                collector.fault = fault
            n += 1
            stop.wait(0.25)
        collector.up()
        collector.fault = None

    flapper = threading.Thread(target=flap)
    flapper.start()
    record_steadily(evidence, 6000, per_second=3000)
    stop.set()
    flapper.join()
    assert evidence.flush(timeout=30)
    evidence.close()
    assert arrived_exactly_once(collector, 6000)
    assert accounted(evidence, 6000)


def test_close_with_a_hanging_collector_keeps_its_timeout_and_the_next_process_delivers(
    collector: FaultyCollector, spill: Path
) -> None:
    evidence = Evidence(HttpTracker(collector.url, timeout=30.0), spill_dir=spill, **FAST)
    collector.fault = ("hang",)
    record_steadily(evidence, 2000, per_second=4000)
    started = time.monotonic()
    evidence.close(timeout=1.0)
    assert time.monotonic() - started < 1.5
    counters = evidence.counters
    assert counters["dropped"] == 0
    assert counters["delivered"] + counters["spooled"] == 2000

    collector.fault = None  # the collector is back; the application restarts
    restarted = Evidence(HttpTracker(collector.url), spill_dir=spill, **FAST)
    assert restarted.flush(timeout=30)
    restarted.close()
    assert restarted.counters["adopted"] == counters["spooled"]
    assert arrived_exactly_once(collector, 2000)
    assert list(spill.glob("spool-*")) == []


def test_flush_is_false_when_the_collector_refuses_everything(
    collector: FaultyCollector, spill: Path
) -> None:
    evidence = Evidence(HttpTracker(collector.url), spill_dir=spill, **FAST)
    collector.fault = ("status", 404, {})
    record_steadily(evidence, 1000, per_second=10_000)
    assert evidence.flush(timeout=10) is False
    evidence.close()
    counters = evidence.counters
    assert (counters["failed"], counters["delivered"], counters["dropped"]) == (1000, 0, 0)
