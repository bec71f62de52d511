"""A provider built before ``fork`` keeps reloading in the children: a real gunicorn
``--preload`` server with two workers, and ``multiprocessing`` with the ``fork`` start
method. Threads do not survive ``fork``; the store restarts its poller in each child.

Bounded: every wait has a deadline, the server listens on a Unix socket (no port), and the
server is stopped by SIGTERM (then SIGKILL) whatever happens.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from preloaded_gunicorn import PreloadedGunicorn

from live_edits import wait_until, write_atomically
from modelflags import ModelFlagsProvider

WAIT = 15.0  # deadline of every wait: only reached when a test fails

FLAGS = """\
version: 1
flags:
  route:
    default: old
    variations: {old: route_old, new: route_new}
"""
EDITED = FLAGS.replace("default: old", "default: new")

APP = """\
import os, time
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from modelflags import ModelFlagsProvider

api.set_provider_and_wait(ModelFlagsProvider(os.environ["FLAGS"], poll_interval=0.05))
client = api.get_client()


def app(environ, start_response):
    time.sleep(0.01)  # concurrent requests spread over the workers
    value = client.get_string_value("route", "missing", EvaluationContext("unit-1"))
    body = f"{os.getpid()} {value}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


class Server(PreloadedGunicorn):
    """gunicorn --preload serving APP with two sync workers on a Unix socket."""

    def __init__(self, folder: Path, flags: Path) -> None:
        super().__init__(folder, "flag_app", APP, {"FLAGS": str(flags)}, graceful_timeout=1)
        self.seen: dict[int, str] = {}  # worker pid -> the value it served last

    def ask(self, requests: int = 16) -> None:
        """Send ``requests`` requests, 4 at a time, noting each worker's answer."""

        def one(_: int) -> str:
            return self.client.get("http://flags/", timeout=WAIT).text

        with ThreadPoolExecutor(4) as pool:
            for answer in pool.map(one, range(requests)):
                pid, value = answer.split()
                self.seen[int(pid)] = value


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[[Path], Server]]:
    started: list[Server] = []
    # A short folder of its own: a Unix socket path is limited to about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="mf-") as folder:

        def start(flags: Path) -> Server:
            started.append(Server(Path(folder), flags))
            return started[-1]

        yield start
        for each in started:
            each.close()


def test_every_gunicorn_preload_worker_serves_an_edit_made_after_the_fork(
    server: Callable[[Path], Server], tmp_path: Path
) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text(FLAGS)
    running = server(flags)
    wait_until(running.socket.exists, "gunicorn to listen")

    def both_workers_answered() -> bool:
        running.ask()
        return len(running.seen) >= 2

    wait_until(both_workers_answered, "both workers to answer")
    workers = set(running.seen)
    assert set(running.seen.values()) == {"route_old"}
    write_atomically(flags, EDITED)

    def every_worker_serves_the_edit() -> bool:  # the workers forked before the edit
        running.ask()
        return all(running.seen[pid] == "route_new" for pid in workers)

    wait_until(every_worker_serves_the_edit, "every worker to serve the edit")
    assert running.process.poll() is None


def reload_in_child(flags: str, ready: Any, results: Any) -> None:
    """In a forked child: report the value served now, then once the edit arrives."""
    client = api.get_client()
    context = EvaluationContext("unit-1")
    results.put(client.get_string_value("route", "missing", context))
    ready.set()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = client.get_string_value("route", "missing", context)
        if value == "route_new":
            break
        time.sleep(0.01)
    results.put(value)


def test_a_multiprocessing_fork_child_serves_an_edit_made_after_the_fork(tmp_path: Path) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text(FLAGS)
    api.set_provider_and_wait(ModelFlagsProvider(flags, poll_interval=0.02))
    fork = multiprocessing.get_context("fork")
    ready, results = fork.Event(), fork.Queue()
    child = fork.Process(target=reload_in_child, args=(str(flags), ready, results))
    child.start()
    try:
        assert ready.wait(WAIT)
        write_atomically(flags, EDITED)
        assert results.get(timeout=WAIT) == "route_old"
        assert results.get(timeout=WAIT + 5) == "route_new"
    finally:
        child.join(WAIT)
        if child.is_alive():
            child.kill()


def report_changes(results: Any) -> None:
    """In a forked child: report the flags named by the next configuration change."""
    changed: list[list[str]] = []
    client = api.get_client()
    client.add_handler(
        ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
        lambda details: changed.append(list(details.flags_changed or [])),
    )
    results.put("ready")
    deadline = time.monotonic() + WAIT
    while not changed and time.monotonic() < deadline:
        time.sleep(0.01)
    results.put(changed)


def test_event_handlers_run_in_a_fork_child(tmp_path: Path) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text(FLAGS)
    api.set_provider_and_wait(ModelFlagsProvider(flags, poll_interval=0.02))
    ran = threading.Event()  # a handler run in the parent: OpenFeature's pool has a thread
    api.get_client().add_handler(ProviderEvent.PROVIDER_READY, lambda details: ran.set())
    assert ran.wait(WAIT)
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=report_changes, args=(results,))
    child.start()
    try:
        assert results.get(timeout=WAIT) == "ready"
        write_atomically(flags, EDITED)
        assert results.get(timeout=WAIT + 5) == [["route"]]
    finally:
        child.join(WAIT)
        if child.is_alive():
            child.kill()


def reload_now(provider: ModelFlagsProvider, results: Any) -> None:
    provider.reload()
    results.put(api.get_client().get_string_value("route", "missing", EvaluationContext("u")))


def test_a_child_forked_while_a_reload_holds_the_store_lock_can_reload(tmp_path: Path) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text(FLAGS)
    provider = ModelFlagsProvider(flags, poll_interval=0)
    api.set_provider_and_wait(provider)
    write_atomically(flags, EDITED)
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    holding, done = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # what a poller in the middle of a reload does
        with provider._store._lock:
            holding.set()
            done.wait(WAIT)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait(WAIT)
    child = fork.Process(target=reload_now, args=(provider, results))
    child.start()
    done.set()
    holder.join(WAIT)
    try:
        assert results.get(timeout=WAIT) == "route_new"
    finally:
        child.join(WAIT)
        if child.is_alive():
            child.kill()
