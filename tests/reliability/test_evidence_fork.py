"""Evidence built before ``fork`` keeps recording in the children: a real gunicorn
``--preload`` server with two workers, and ``multiprocessing`` with the ``fork`` start
method. Threads do not survive ``fork``; the recorder's at-fork handler gives every live
dispatcher a thread of its own in each child, once.

Bounded: every wait has a deadline, the server listens on a Unix socket (no port), and the
server is stopped by SIGTERM (then SIGKILL) whatever happens.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from preloaded_gunicorn import PreloadedGunicorn

import modelflags
from modelflags import Evidence, JsonlTracker, Resolution, read_events
from modelflags.evidence import recorder

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

WAIT = 15.0  # deadline of every wait: only reached when a test fails
REQUESTS = 60

FLAGS = """\
version: 1
flags:
  route:
    default: a
    variations: {a: {modelRoute: model_a}, b: {modelRoute: model_b}}
    assignment: {unit: user, key: userId, salt: route}
    split: {a: 50, b: 50}
"""

APP = """\
import os, time
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
import modelflags
from modelflags import Evidence, ModelFlagsProvider

tracker = getattr(modelflags, os.environ["TRACKER"])(os.environ["EVENTS"])
evidence = Evidence(tracker, flush_interval=0.05)
api.set_provider_and_wait(ModelFlagsProvider(os.environ["FLAGS"], evidence=evidence))
client = api.get_client()


def app(environ, start_response):
    time.sleep(0.01)  # concurrent requests spread over the workers
    request = environ["PATH_INFO"].strip("/")
    context = EvaluationContext(attributes={"userId": f"user-{request}"})
    details = client.get_object_details("route", {}, context)
    evidence.exposure(details, context).record(pid=os.getpid(), request=int(request))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


class Server(PreloadedGunicorn):
    """gunicorn --preload serving APP with two sync workers on a Unix socket."""

    def __init__(self, folder: Path, flags: Path, events: Path, tracker: str) -> None:
        env = {"FLAGS": str(flags), "EVENTS": str(events), "TRACKER": tracker}
        super().__init__(folder, "evidence_app", APP, env, graceful_timeout=5)

    def ask(self, requests: range) -> Counter[int]:
        """Send the requests, 4 at a time; how many each worker pid answered."""

        def one(request: int) -> int:
            return int(self.client.get(f"http://evidence/{request}", timeout=WAIT).text)

        with ThreadPoolExecutor(4) as pool:
            return Counter(pool.map(one, requests))


TRACKERS = ["JsonlTracker", "JsonlProcessTracker"]
"""Written in the evidence thread, and by a writer process (one per worker)."""


@pytest.fixture(params=TRACKERS)
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    flags = tmp_path / "flags.yaml"
    flags.write_text(FLAGS)
    # A short folder of its own: a Unix socket path is limited to about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="mf-") as folder:
        running = Server(Path(folder), flags, tmp_path / "events.jsonl", request.param)
        yield running
        running.close()


def wait_for_socket(running: Server) -> None:
    deadline = WAIT
    step = 0.01
    while not running.socket.exists():
        assert running.process.poll() is None, "gunicorn exited before listening"
        assert deadline > 0, "timed out waiting for gunicorn to listen"
        threading.Event().wait(step)
        deadline -= step


def test_gunicorn_preload_workers_record_every_exposure_exactly_once(
    server: Server, tmp_path: Path
) -> None:
    wait_for_socket(server)
    answered = server.ask(range(REQUESTS))
    assert len(answered) == 2, answered  # both workers served
    code, errors = server.close()  # graceful: each worker flushes its evidence at exit
    assert code == 0, errors
    events = list(read_events([tmp_path / "events.jsonl"]))
    requests = Counter(event["attributes"]["request"] for event in events)
    assert requests == Counter(range(REQUESTS))  # every exposure, exactly once
    pids = Counter(event["attributes"]["pid"] for event in events)
    assert pids == answered  # from the worker that served it; none from the master
    ids = [event["eventId"] for event in events]
    assert len(set(ids)) == len(ids)  # the workers' event ids never collide


# -- multiprocessing -----------------------------------------------------------------------

ROUTE = Resolution("f", {"modelRoute": "model_a"}, "a", "SPLIT", "split", "u1", {})


def record_in_child(evidence: Evidence, start: int) -> None:
    """In a forked child: record 100 exposures and return, without flushing."""
    for i in range(start, start + 100):
        evidence.exposure(ROUTE).record(pid=os.getpid(), request=i)


@pytest.mark.parametrize("tracker", TRACKERS)
def test_multiprocessing_fork_children_deliver_without_a_flush(
    tmp_path: Path, tracker: str
) -> None:
    path = tmp_path / "events.jsonl"
    evidence = Evidence(getattr(modelflags, tracker)(path), flush_interval=3600)  # exit delivers
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=record_in_child, args=(evidence, n * 100)) for n in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(WAIT)
        assert child.exitcode == 0
    evidence.close()
    events = list(read_events([path]))
    assert sorted(event["attributes"]["request"] for event in events) == list(range(200))
    pids = {event["attributes"]["pid"] for event in events}
    assert pids == {child.pid for child in children}
    assert len({event["eventId"] for event in events}) == 200


def count_threads_in_child(evidences: list[Evidence], closed: Evidence, results: Any) -> None:
    """In a forked child: the evidence threads after the at-fork handler, and after a
    second restart request; whether each open evidence has a running thread of its own."""

    def evidence_threads() -> int:
        return sum(thread.name == "modelflags-evidence" for thread in threading.enumerate())

    live = len(recorder._live)  # every Evidence still open in this process (other tests' too)
    threads = [evidence._dispatcher._thread for evidence in evidences]
    after_fork = evidence_threads()
    evidences[0]._dispatcher.after_fork_in_child()  # already done by the handler: a no-op
    results.put((
        after_fork - live,
        evidence_threads() - live,
        [thread.is_alive() for thread in threads],
        evidences[0]._dispatcher._thread is threads[0],
        closed._dispatcher._thread.is_alive(),
    ))  # fmt: skip


def test_a_forked_child_gets_one_evidence_thread_per_open_evidence(tmp_path: Path) -> None:
    evidences = [Evidence(JsonlTracker(tmp_path / f"{n}.jsonl")) for n in range(2)]
    closed = Evidence(JsonlTracker(tmp_path / "closed.jsonl"))
    closed.close()  # a closed evidence is not restarted
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=count_threads_in_child, args=(evidences, closed, results))
    child.start()
    try:
        assert results.get(timeout=WAIT) == (0, 0, [True, True], True, False)
    finally:
        child.join(WAIT)
        for evidence in evidences:
            evidence.close()
