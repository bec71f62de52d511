"""``JsonlProcessTracker``: JSON lines written by a writer process, with the dispatcher still
owning delivery. Real child processes, real files, real signals: the lines are the ones the
in-process tracker writes; a writer that is killed, stopped, or cannot write loses nothing;
values the writer must not unpickle are encoded in the application's process; a fork gets a
writer of its own; closing stays within its time limit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelflags import (
    Evidence,
    JsonlProcessTracker,
    JsonlTracker,
    Resolution,
    read_events,
    tracker_from_url,
)
from modelflags.evidence.events import ROUTE_FIELDS
from modelflags.evidence.exposure_lines import ExposureLines
from modelflags.evidence.intake import Ids, encode_records

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX pipes and fork")

ROUTE = Resolution(
    "answer_route", {"modelRoute": "model_b", "promptVersion": "v4"}, "candidate", "SPLIT",
    "split", "c0", {"experimentKey": "route-test", "configVersion": "abc", "rule": "split"},
)  # fmt: skip
WAIT = 20.0  # every wait's limit: only reached when a test fails


class Plan(Enum):
    PRO = "pro"


def record(evidence: Evidence, start: int, stop: int, **attributes: Any) -> None:
    for i in range(start, stop):
        evidence.exposure(ROUTE).record(latency_ms=1.5, estimated_cost=0.01, seq=i, **attributes)


def seqs(path: Path) -> Counter[int]:
    return Counter(event["attributes"]["seq"] for event in read_events([path]))


def writer_pid(tracker: JsonlProcessTracker) -> int:
    writer = tracker._writer  # (private: the running writer, to signal it)
    assert writer is not None
    return writer.process.pid


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def spill(tmp_path: Path) -> Path:
    return tmp_path / "spill"


@pytest.fixture
def opened() -> Iterator[list[Evidence]]:
    evidences: list[Evidence] = []
    yield evidences
    for evidence in evidences:
        evidence.close(timeout=5)


def open_evidence(opened: list[Evidence], tracker: Any, **options: Any) -> Evidence:
    options.setdefault("queue_size", 100_000)  # recording outruns any writer while it starts
    evidence = Evidence(tracker, flush_interval=0.01, **options)
    opened.append(evidence)
    return evidence


def started(
    opened: list[Evidence], path: Path, count: int, *, timeout: float = 10.0, **options: Any
) -> tuple[JsonlProcessTracker, Evidence]:
    """A tracker whose writer process has written ``count`` exposures (``seq`` 0 on), and
    its Evidence."""
    tracker = JsonlProcessTracker(path, timeout=timeout)
    evidence = open_evidence(opened, tracker, **options)
    record(evidence, 0, count)
    assert evidence.flush(WAIT)
    return tracker, evidence


def without_own(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs from one recording to the next."""
    return {k: v for k, v in event.items() if k not in ("eventId", "timestamp")}


# -- what is written -----------------------------------------------------------------------


def test_the_writer_writes_the_lines_the_thread_writes(
    tmp_path: Path, opened: list[Evidence]
) -> None:
    written = {}
    for name, kind in (("thread", JsonlTracker), ("process", JsonlProcessTracker)):
        path = tmp_path / f"{name}.jsonl"
        evidence = open_evidence(opened, kind(path), hash_unit_ids=True,
                                 unit_id_key_env="TEST_UNIT_KEY")  # fmt: skip
        record(evidence, 0, 50, nested={"a": [1, 2.5, None]}, text="é\u2028")
        evidence.outcome("resolved", ROUTE, None, 1.0, turns=3)
        assert evidence.flush(WAIT)
        written[name] = [without_own(event) for event in read_events([path])]
    assert len(written["process"]) == 51
    assert written["process"] == written["thread"]
    assert written["process"][0]["unitId"] != "c0"  # hashed, in the writer too


@pytest.fixture(autouse=True)
def unit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_UNIT_KEY", "k" * 32)


def test_counters_count_an_event_delivered_once_the_writer_confirms_it(
    path: Path, opened: list[Evidence]
) -> None:
    tracker, evidence = started(opened, path, 20_000)
    counters = evidence.counters
    assert (counters["recorded"], counters["delivered"], counters["queued"]) == (20_000, 20_000, 0)
    assert seqs(path) == Counter(range(20_000))
    assert writer_pid(tracker) != os.getpid()


def test_values_the_writer_may_not_unpickle_are_encoded_here_as_the_thread_would(
    tmp_path: Path, opened: list[Evidence]
) -> None:
    values = {"when": dt.datetime(2026, 11, 30, 6, 0), "plan": Plan.PRO, "thing": object()}
    written = {}
    for name, kind in (("thread", JsonlTracker), ("process", JsonlProcessTracker)):
        path = tmp_path / f"{name}.jsonl"
        evidence = open_evidence(opened, kind(path))
        record(evidence, 0, 5)
        record(evidence, 5, 6, **values)
        record(evidence, 6, 10)
        assert evidence.flush(WAIT)
        assert evidence.counters["retries"] == 0  # encoded here and sent as lines, not refused
        written[name] = [without_own(event) for event in read_events([path])]
    assert written["process"] == written["thread"]
    assert written["process"][5]["attributes"]["when"] == "2026-11-30T06:00:00"
    assert written["process"][5]["attributes"]["thing"].startswith("<object object at")


def test_a_value_json_cannot_hold_is_repaired_and_counted_by_the_writer(
    path: Path, opened: list[Evidence]
) -> None:
    evidence = open_evidence(opened, JsonlProcessTracker(path))
    record(evidence, 0, 3, bad="\udc80")  # a lone surrogate: plain text, repaired there
    assert evidence.flush(WAIT)
    assert evidence.counters["repaired"] == 3
    assert evidence.counters["delivered"] == 3
    assert [e["attributes"]["bad"] for e in read_events([path])] == ["\\udc80"] * 3


def test_the_writer_writes_each_record_under_the_id_it_is_sent(path: Path) -> None:
    tracker = JsonlProcessTracker(path)
    lines = ExposureLines(ROUTE_FIELDS)
    records: list[Any] = [
        lines.pending(ROUTE, None, 1.8e9, None, None, ROUTE.value, None, None, None, False,
                      None, {"n": n})
        for n in range(3)
    ]  # fmt: skip
    tracker.send(records, Ids("feedfacecafe", 30), lines, None)
    confirmations = tracker.confirmed(WAIT)
    tracker.close()
    assert confirmations.unavailable is None
    assert [tuple(receipt) for receipt in confirmations.receipts] == [(3, 0, 0, None)]
    here = encode_records(records, lines.line, Ids("feedfacecafe", 30)).batch.data
    assert path.read_bytes() == here  # the same bytes as encoded in this process
    written = [event["eventId"] for event in read_events([path])]
    assert written == ["feedfacecafe-1e", "feedfacecafe-1f", "feedfacecafe-20"]


def test_the_url_names_the_writer_process(path: Path) -> None:
    assert isinstance(tracker_from_url(f"jsonl://{path}?writer=process"), JsonlProcessTracker)
    assert isinstance(tracker_from_url(f"jsonl://{path}"), JsonlTracker)
    with pytest.raises(Exception, match="writer must be 'thread' or 'process'"):
        tracker_from_url(f"jsonl://{path}?writer=fork")


# -- a writer that fails -------------------------------------------------------------------


def test_a_writer_killed_with_events_in_flight_loses_nothing_and_is_replaced(
    path: Path, spill: Path, opened: list[Evidence]
) -> None:
    tracker, evidence = started(opened, path, 1000, spill_dir=spill, backoff=0.01)
    first = writer_pid(tracker)
    os.kill(first, signal.SIGSTOP)  # messages pile up, unanswered
    record(evidence, 1000, 30_000)
    time.sleep(0.2)
    os.kill(first, signal.SIGKILL)
    assert evidence.flush(WAIT)
    found = seqs(path)
    assert set(found) == set(range(30_000))  # every event; some may be written twice
    assert evidence.counters["retries"] >= 1
    assert evidence.counters["delivered"] == 30_000
    assert writer_pid(tracker) != first


def test_a_writer_that_stops_answering_is_killed_and_its_events_written_again(
    path: Path, opened: list[Evidence]
) -> None:
    tracker, evidence = started(opened, path, 10, timeout=0.5, backoff=0.01)  # no spill dir
    stopped = writer_pid(tracker)
    os.kill(stopped, signal.SIGSTOP)
    try:
        record(evidence, 10, 5000)
        assert evidence.flush(WAIT)
    finally:
        resume(stopped)
    assert set(seqs(path)) == set(range(5000))
    assert evidence.counters["delivered"] == 5000
    assert evidence.counters["retries"] >= 1
    # written here or by a writer, an exposure's id is its place in the queue: a copy
    # written twice (by a writer that died before it answered) has the same id
    prefix = evidence._dispatcher.intake.prefix
    ids = {event["eventId"] for event in read_events([path])}
    assert ids == {f"{prefix}-{n:x}" for n in range(5000)}
    assert writer_pid(tracker) != stopped
    with pytest.raises(ProcessLookupError):  # reaped: no process is left behind
        os.kill(stopped, 0)


def test_a_file_the_writer_cannot_write_waits_on_disk_until_it_can(
    tmp_path: Path, spill: Path, opened: list[Evidence]
) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the folder should be")
    path = blocker / "events.jsonl"
    evidence = open_evidence(opened, JsonlProcessTracker(path), spill_dir=spill, backoff=0.01,
                             max_backoff=0.05)  # fmt: skip
    record(evidence, 0, 500)
    assert not evidence.flush(0.5)  # the events wait in the spool
    assert evidence.counters["spooled"] == 500
    assert evidence.counters["delivered"] == 0
    blocker.unlink()  # the operator fixes it
    assert evidence.flush(WAIT)
    assert seqs(path) == Counter(range(500))
    assert evidence.counters["delivered"] == 500


def test_close_keeps_its_time_limit_while_the_writer_hangs(
    path: Path, spill: Path, opened: list[Evidence]
) -> None:
    tracker, evidence = started(opened, path, 10, spill_dir=spill)  # its timeout: 10 s
    stopped = writer_pid(tracker)
    os.kill(stopped, signal.SIGSTOP)
    try:
        record(evidence, 10, 2000)
        begun = time.monotonic()
        evidence.close(timeout=1.0)
        took = time.monotonic() - begun
    finally:
        resume(stopped)
    assert took < 2.5, took  # close's limit (1 s), plus the writer killed on the way out
    counters = evidence.counters
    assert counters["delivered"] + counters["spilled"] >= 2000
    assert counters["dropped"] == counters["failed"] == 0
    spooled = [*read_events(sorted(spill.glob("spool-*")))]  # replayed by the next Evidence
    written = {event["attributes"]["seq"] for event in [*read_events([path]), *spooled]}
    assert written == set(range(2000))


# -- processes -----------------------------------------------------------------------------


def test_a_forked_child_starts_a_writer_of_its_own(path: Path, opened: list[Evidence]) -> None:
    tracker, evidence = started(opened, path, 100)
    parent_writer = writer_pid(tracker)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            record(evidence, 1000, 1100)
            ok = evidence.flush(WAIT) and writer_pid(tracker) != parent_writer
            evidence.close()
            code = 0 if ok else 2
        finally:
            os._exit(code)
    record(evidence, 100, 200)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert evidence.flush(WAIT)
    assert writer_pid(tracker) == parent_writer  # the child did not touch it
    assert seqs(path) == Counter([*range(200), *range(1000, 1100)])


def test_the_writer_finishes_what_it_was_sent_when_the_application_is_killed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    script = tmp_path / "app.py"
    script.write_text(
        "import os, signal, sys\n"
        "from modelflags import Evidence, JsonlProcessTracker, Resolution\n"
        "tracker = JsonlProcessTracker(sys.argv[1])\n"
        "evidence = Evidence(tracker, flush_interval=0.01)\n"
        "route = Resolution('f', {}, 'a', 'SPLIT', 'split', 'u', {})\n"
        "for i in range(5000):\n"
        "    evidence.exposure(route).record(seq=i)\n"
        "assert evidence.flush(20)\n"
        "print(tracker._writer.process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run([sys.executable, str(script), str(path)], capture_output=True,
                          text=True, timeout=WAIT, env=env, check=False)  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    writer = int(done.stdout.strip())
    deadline = time.monotonic() + WAIT
    while _alive(writer) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(writer)  # no orphan: it saw the end of its input and exited
    assert seqs(path) == Counter(range(5000))


def resume(pid: int) -> None:
    """SIGCONT, for a writer a failed test left stopped (a passing one had it killed)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie (exited, not yet reaped) is not alive
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_events_stay_readable_as_json_lines(path: Path, opened: list[Evidence]) -> None:
    evidence = open_evidence(opened, JsonlProcessTracker(path))
    record(evidence, 0, 10)
    assert evidence.flush(WAIT)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line)["attributes"]["seq"] for line in lines[:-1]] == list(range(10))


def test_the_writer_imports_nothing_from_the_working_folder(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[Evidence]
) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "queue.py").write_text("raise SystemExit('the working folder was imported')\n")
    monkeypatch.chdir(folder)  # a module there named like one the writer imports
    evidence = open_evidence(opened, JsonlProcessTracker(path))
    record(evidence, 0, 10)
    assert evidence.flush(WAIT)
    assert seqs(path) == Counter(range(10))


# -- any values ----------------------------------------------------------------------------

ODD_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(["\udc80", "\u2028", "\x00"]))
LEAVES = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**30)
    | st.floats() | ODD_TEXT | st.binary(max_size=8) | st.sampled_from([Plan.PRO])
)  # fmt: skip
# (No sets: a set is written in its iteration order, which no two processes share.)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(attributes=st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES), max_size=20))
def test_the_writer_writes_what_the_thread_writes_whatever_the_values(
    tmp_path_factory: pytest.TempPathFactory, attributes: list[dict[str, Any]]
) -> None:
    folder = tmp_path_factory.mktemp("any")
    written = {}
    for name, kind in (("thread", JsonlTracker), ("process", JsonlProcessTracker)):
        path = folder / f"{name}.jsonl"
        evidence = Evidence(kind(path), flush_interval=0.01)
        try:
            for seq, values in enumerate(attributes):
                evidence.exposure(ROUTE).record(seq=seq, **values)
            evidence.outcome("resolved", ROUTE, None, 1.0, extra=attributes[:1])
            assert evidence.flush(WAIT)
            counters = evidence.counters
        finally:
            evidence.close()
        lines = path.read_bytes().splitlines() if path.exists() else []
        written[name] = ([json.loads(line) for line in lines], counters["repaired"])
    (thread, thread_repaired), (process, process_repaired) = written["thread"], written["process"]
    assert [without_own(e) for e in process] == [without_own(e) for e in thread]
    assert process_repaired == thread_repaired


def test_the_writer_outlives_a_signal_sent_to_the_whole_process_group(
    path: Path, opened: list[Evidence]
) -> None:
    tracker, evidence = started(opened, path, 10)
    writer = writer_pid(tracker)
    os.kill(writer, signal.SIGINT)  # what Ctrl-C sends to every process of the terminal's group
    os.kill(writer, signal.SIGTERM)
    record(evidence, 10, 20)
    assert evidence.flush(WAIT)
    assert writer_pid(tracker) == writer
    assert evidence.counters["retries"] == 0
    assert seqs(path) == Counter(range(20))


def test_a_writer_that_cannot_start_leaves_the_events_waiting(
    path: Path, spill: Path, opened: list[Evidence], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(path.parent / "no-such-python"))
    evidence = open_evidence(opened, JsonlProcessTracker(path), spill_dir=spill, backoff=0.01,
                             max_backoff=0.05)  # fmt: skip
    record(evidence, 0, 100)
    assert not evidence.flush(0.5)
    assert evidence.counters["spooled"] == 100
    assert evidence.counters["retries"] >= 1
    monkeypatch.undo()  # the interpreter is back: the next try starts a writer
    assert evidence.flush(WAIT)
    assert seqs(path) == Counter(range(100))


# -- found by review: each of these failed before its fix ----------------------------------

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_app(source: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``source`` run by a Python process of its own (modelflags from this checkout)."""
    environment = {**os.environ, "PYTHONPATH": SRC, **env}
    return subprocess.run([sys.executable, "-c", source, *args], capture_output=True, text=True,
                          timeout=WAIT, env=environment, check=False)  # fmt: skip


APP_HEAD = (
    "import os, signal, sys, time\n"
    "from modelflags import Evidence, JsonlProcessTracker, Resolution\n"
    "route = Resolution('f', {}, 'a', 'SPLIT', 'split', 'u', {})\n"
)


def test_a_process_with_more_than_1024_descriptors_still_delivers(
    path: Path, opened: list[Evidence]
) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))  # hard < 2048: fails
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # a busy server's sockets
    try:
        evidence = open_evidence(opened, JsonlProcessTracker(path))
        record(evidence, 0, 100)
        assert evidence.flush(WAIT)  # select() refuses descriptors past 1024: poll() does not
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert seqs(path) == Counter(range(100))


def test_the_writer_writes_every_message_in_flight_when_the_application_is_killed(
    path: Path,
) -> None:
    app = APP_HEAD + (
        # 8 messages of 50 (about 30 KB): they fit in a pipe even where it cannot be widened
        "tracker = JsonlProcessTracker(sys.argv[1], send_size=50, window=8)\n"
        "evidence = Evidence(tracker, flush_interval=0.01, queue_size=100_000)\n"
        "evidence.exposure(route).record(seq=-1)\n"
        "assert evidence.flush(20)\n"
        "writer = tracker._writer.process.pid\n"
        "os.kill(writer, signal.SIGSTOP)\n"
        "for i in range(400):\n"
        "    evidence.exposure(route).record(seq=i)\n"
        "while len(evidence._dispatcher._sent) < 8:  # all sent, none answered\n"
        "    time.sleep(0.01)\n"
        "time.sleep(0.2)  # (the last one written into the pipe)\n"
        "print(writer, flush=True)\n"
        "os.kill(writer, signal.SIGCONT)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = run_app(app, str(path))
    assert done.returncode == -signal.SIGKILL, done.stderr
    writer = int(done.stdout)
    deadline = time.monotonic() + WAIT
    while _alive(writer) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seqs(path) == Counter(range(-1, 400))  # answered nobody, wrote everything


def test_a_writer_that_answers_after_close_gave_up_is_still_stopped(
    path: Path, spill: Path, opened: list[Evidence]
) -> None:
    tracker = JsonlProcessTracker(path, send_size=10, window=1)
    evidence = open_evidence(opened, tracker, spill_dir=spill)
    record(evidence, 0, 20)
    assert evidence.flush(WAIT)
    stopped = writer_pid(tracker)
    os.kill(stopped, signal.SIGSTOP)
    record(evidence, 20, 2000)  # a full window: the thread waits for an answer
    time.sleep(0.3)
    threading.Timer(1.0, resume, (stopped,)).start()  # it answers, late
    evidence.close(timeout=0.5)  # gives up on the thread
    deadline = time.monotonic() + WAIT
    while _alive(stopped) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(stopped)  # the thread, once answered, stopped the writer
    assert tracker._writer is None


def test_close_keeps_its_time_limit_while_a_flush_waits_for_a_stopped_writer(
    path: Path, opened: list[Evidence]
) -> None:
    tracker, evidence = started(opened, path, 20)
    stopped = writer_pid(tracker)
    os.kill(stopped, signal.SIGSTOP)
    try:
        threading.Thread(target=evidence.flush, args=(None,), daemon=True).start()
        time.sleep(0.3)  # the thread syncs the file: a round trip the writer does not answer
        begun = time.monotonic()
        evidence.close(timeout=0.5)
        took = time.monotonic() - begun
    finally:
        resume(stopped)
    assert took < 1.5, took


def test_an_application_that_restored_sigpipe_survives_a_dead_writer(path: Path) -> None:
    app = APP_HEAD + (
        "signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as command-line tools do\n"
        "tracker = JsonlProcessTracker(sys.argv[1], fsync='never')  # (no idle round trip)\n"
        "evidence = Evidence(tracker, flush_interval=0.01)\n"
        "evidence.exposure(route).record(seq=0)\n"
        "assert evidence.flush(20)\n"
        "os.kill(tracker._writer.process.pid, signal.SIGKILL)\n"
        "time.sleep(0.2)\n"
        "evidence.exposure(route).record(seq=1)\n"
        "assert evidence.flush(20)\n"
        "print(evidence.counters['delivered'])\n"
    )
    done = run_app(app, str(path))
    assert (done.returncode, done.stdout.strip()) == (0, "2"), done.stderr


def test_what_the_writer_prints_at_start_up_does_not_corrupt_its_receipts(
    path: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("print('hello from sitecustomize')\n")
    app = APP_HEAD + (
        "evidence = Evidence(JsonlProcessTracker(sys.argv[1]), flush_interval=0.01)\n"
        "for i in range(100):\n"
        "    evidence.exposure(route).record(seq=i)\n"
        "print(evidence.flush(20), evidence.counters['retries'])\n"
    )
    done = run_app(app, str(path), PYTHONPATH=f"{site}{os.pathsep}{SRC}")
    assert done.stdout.splitlines()[-1] == "True 0", done.stdout + done.stderr
    assert seqs(path) == Counter(range(100))
