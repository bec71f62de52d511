"""A ``JsonlProcessTracker`` whose writer process keeps failing while the application
records from several threads: killed mid-stream, or stopped until it is overdue (and then
killed by the tracker). Every event recorded must be in the file at the end (after
de-duplication by ``eventId``), and the counters must say so: nothing failed or dropped.

Bounded: about 3 seconds of recording, every wait has a deadline, loopback only (pipes and
one local file).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from modelflags import Evidence, JsonlProcessTracker, Resolution, read_events

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX pipes and signals")

ROUTE = Resolution("route", {"modelRoute": "model_a"}, "a", "SPLIT", "split", "u1", {})
THREADS = 4
RECORDING = 3.0  # seconds
WAIT = 30.0  # the final flush's deadline: only reached when the test fails


def running_writer(tracker: JsonlProcessTracker) -> int | None:
    writer = tracker._writer  # (private: the writer process to hurt)
    return None if writer is None else writer.process.pid


def chaos(tracker: JsonlProcessTracker, stop: threading.Event) -> list[str]:
    """Every 0.3 s, the running writer is killed, or stopped (the tracker kills it once it
    is overdue), in turn; the faults done, in order."""
    done: list[str] = []
    while not stop.wait(0.3):
        pid = running_writer(tracker)
        if pid is None:
            continue
        fault = ("kill", "stop")[len(done) % 2]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL if fault == "kill" else signal.SIGSTOP)
        done.append(fault)
    return done


def test_every_event_survives_a_writer_that_keeps_failing(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    tracker = JsonlProcessTracker(folder / "events.jsonl", timeout=0.3, send_size=512)
    evidence = Evidence(tracker, spill_dir=tmp_path / "spill", flush_interval=0.01,
                        backoff=0.01, max_backoff=0.1)  # fmt: skip
    stop = threading.Event()
    counts = [0] * THREADS

    def application(number: int) -> None:
        end = time.monotonic() + RECORDING
        while time.monotonic() < end:
            for _ in range(100):
                evidence.exposure(ROUTE).record(thread=number, seq=counts[number])
                counts[number] += 1
            time.sleep(0.001)  # an application that does not only record

    threads = [threading.Thread(target=application, args=(n,)) for n in range(THREADS)]
    faults: list[str] = []
    chaos_thread = threading.Thread(target=lambda: faults.extend(chaos(tracker, stop)))
    chaos_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    chaos_thread.join()
    try:
        assert evidence.flush(WAIT), evidence.counters
        counters = evidence.counters
    finally:
        evidence.close()
    recorded = sum(counts)
    events = list(read_events(sorted(folder.glob("*.jsonl"))))
    found = Counter((e["attributes"]["thread"], e["attributes"]["seq"]) for e in events)
    expected = {(n, seq) for n in range(THREADS) for seq in range(counts[n])}
    assert set(found) == expected  # every event, none invented
    assert len({e["eventId"] for e in events}) == recorded  # duplicates are whole re-sends
    assert counters["recorded"] == counters["delivered"] == recorded
    assert counters["failed"] == counters["dropped"] == 0
    assert counters["retries"] >= 3, (faults, counters)  # the faults were felt
    assert {"kill", "stop"} <= set(faults)
