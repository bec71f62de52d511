"""HttpTracker against a real HTTP collector on 127.0.0.1: batches arrive gzip NDJSON with the
bearer token; outages (503, slow responses, dropped connections, a closed port) lose nothing
when there is a spill directory, and are counted and logged once when there is not."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from modelflags.evidence.http_tracker import HttpTracker

TOKEN = "s3cret-collector-token"
FAST: dict[str, Any] = {"backoff": 0.01, "max_backoff": 0.2, "timeout": 2.0}


@dataclass
class Request:
    number: int
    arrived: float
    headers: dict[str, str]
    event_ids: list[str]


# What the collector does with request number n (1-based): ("ok",), ("status", code, headers),
# ("slow", seconds) or ("drop",) — close the connection without answering.
Behaviour = Callable[[int], tuple[Any, ...]]


@dataclass
class Collector:
    url: str
    behaviour: Behaviour
    requests: list[Request] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # eventIds of requests answered 200
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def _serve(behaviour: Behaviour) -> Iterator[Collector]:
    collector = Collector(url="", behaviour=behaviour)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real collectors do

        def do_POST(self) -> None:
            arrived = time.monotonic()
            with collector.lock:
                number = len(collector.requests) + 1
                action = collector.behaviour(number)
                collector.requests.append(Request(number, arrived, dict(self.headers), []))
            if action[0] == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ids = [json.loads(line)["eventId"] for line in gzip.decompress(body).splitlines()]
            collector.requests[number - 1].event_ids = ids
            if action[0] == "slow":
                time.sleep(action[1])
                self._answer(503, {})  # the client gave up long ago
                return
            if action[0] == "status":
                self._answer(action[1], action[2])
                return
            with collector.lock:
                collector.accepted.extend(ids)
            self._answer(200, {})

        def _answer(self, status: int, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    collector.url = f"http://127.0.0.1:{server.server_address[1]}/events"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], Collector]]:
    """Start collectors with a given behaviour; all are stopped after the test."""
    with ExitStack() as stack:
        yield lambda behaviour: stack.enter_context(_serve(behaviour))


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/events"


def ok(n: int) -> tuple[Any, ...]:
    return ("ok",)


def events(count: int, prefix: str = "e") -> list[dict[str, Any]]:
    return [
        {"event": "exposure", "eventId": f"{prefix}{i}", "variation": "candidate"}
        for i in range(count)
    ]


def emit_all(tracker: HttpTracker, batch: list[dict[str, Any]], step: int = 50) -> None:
    for start in range(0, len(batch), step):
        tracker.emit(batch[start : start + step])


def drain(tracker: HttpTracker, rounds: int = 200) -> None:
    """Flush until the spool is empty, as the dispatcher would on its next wakes."""
    for _ in range(rounds):
        tracker.flush(5.0)
        if tracker.counters()["spool_bytes"] == 0 and tracker.buffered == 0:
            return
        time.sleep(0.02)


def ids(batch: list[dict[str, Any]]) -> set[str]:
    return {event["eventId"] for event in batch}


def test_every_event_arrives_exactly_once_as_gzip_ndjson_with_the_token(
    serve: Callable[[Behaviour], Collector], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLLECTOR_TOKEN", TOKEN)
    collector = serve(ok)
    sent = events(2000)
    tracker = HttpTracker(
        collector.url,
        token_env="COLLECTOR_TOKEN",
        headers={"X-Source": "tests"},
        batch_size=300,
        spill_dir=tmp_path / "spool",
        **FAST,
    )
    with capture_logs() as logs:
        emit_all(tracker, sent, step=77)
        tracker.close()
    assert sorted(collector.accepted) == sorted(ids(sent))
    for request in collector.requests:
        assert request.headers["Content-Encoding"] == "gzip"
        assert request.headers["Content-Type"] == "application/x-ndjson"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["X-Source"] == "tests"
    assert tracker.counters() == {
        "sent": 2000,
        "spilled": 0,
        "dropped": 0,
        "failed": 0,
        "retries": 0,
        "spool_bytes": 0,
    }
    assert TOKEN not in repr(logs)


def test_the_token_is_never_written_to_the_spool_or_the_logs(
    closed_port_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLLECTOR_TOKEN", TOKEN)
    spool = tmp_path / "spool"
    tracker = HttpTracker(
        closed_port_url,
        token_env="COLLECTOR_TOKEN",
        batch_size=100,
        spill_dir=spool,
        max_retries=1,
        **FAST,
    )
    with capture_logs() as logs:
        emit_all(tracker, events(250))
        tracker.close()
    assert tracker.spilled == 250
    written = b"".join(path.read_bytes() for path in spool.iterdir())
    assert written and TOKEN.encode() not in written
    assert logs and TOKEN not in repr(logs)


def test_a_503_outage_loses_nothing_with_a_spill_dir(
    serve: Callable[[Behaviour], Collector], tmp_path: Path
) -> None:
    collector = serve(lambda n: ("status", 503, {}) if n <= 8 else ("ok",))
    sent = events(1000)
    tracker = HttpTracker(
        collector.url, batch_size=100, spill_dir=tmp_path / "spool", max_retries=2, **FAST
    )
    with capture_logs() as logs:
        for start in range(0, len(sent), 50):
            tracker.emit(sent[start : start + 50])
            time.sleep(0.01)
        drain(tracker)
        tracker.close()
    assert set(collector.accepted) == ids(sent)
    counters = tracker.counters()
    assert counters["spool_bytes"] == 0
    assert not list((tmp_path / "spool").iterdir())
    assert counters["spilled"] > 0
    assert counters["retries"] > 0
    assert [entry["event"] for entry in logs] == [
        "evidence collector unavailable; spilling",
        "evidence collector recovered",
    ]


def test_requests_slower_than_the_timeout_are_retried(
    serve: Callable[[Behaviour], Collector],
) -> None:
    collector = serve(lambda n: ("slow", 1.0) if n <= 2 else ("ok",))
    sent = events(300)
    tracker = HttpTracker(collector.url, batch_size=100, max_retries=5, **{**FAST, "timeout": 0.3})
    emit_all(tracker, sent)
    tracker.close()
    assert set(collector.accepted) == ids(sent)
    assert tracker.retries >= 2
    assert tracker.dropped == 0


def test_dropped_connections_are_retried(serve: Callable[[Behaviour], Collector]) -> None:
    collector = serve(lambda n: ("drop",) if n <= 3 else ("ok",))
    sent = events(300)
    tracker = HttpTracker(collector.url, batch_size=100, max_retries=5, **FAST)
    emit_all(tracker, sent)
    tracker.close()
    assert set(collector.accepted) == ids(sent)
    assert tracker.retries >= 3
    assert tracker.dropped == 0


def test_429_waits_for_retry_after(serve: Callable[[Behaviour], Collector]) -> None:
    collector = serve(lambda n: ("status", 429, {"Retry-After": "0.3"}) if n == 1 else ("ok",))
    tracker = HttpTracker(collector.url, batch_size=10, backoff=0.001, max_backoff=5.0)
    tracker.emit(events(10))
    tracker.close()
    first, second = collector.requests[:2]
    assert second.arrived - first.arrived >= 0.29  # not the 1 ms backoff
    assert tracker.sent == 10


def test_retry_after_is_capped_at_max_backoff(serve: Callable[[Behaviour], Collector]) -> None:
    collector = serve(lambda n: ("status", 429, {"Retry-After": "3600"}) if n == 1 else ("ok",))
    tracker = HttpTracker(collector.url, batch_size=100, **FAST)
    tracker.emit(events(10))
    tracker.flush(5.0)  # an hour's wait would not fit: the events would stay buffered
    assert set(collector.accepted) == ids(events(10))
    tracker.close()


def test_a_400_is_not_retried_counted_failed_and_logged_once(
    serve: Callable[[Behaviour], Collector],
) -> None:
    collector = serve(lambda n: ("status", 400, {}))
    tracker = HttpTracker(collector.url, batch_size=100, **FAST)
    with capture_logs() as logs:
        emit_all(tracker, events(300))
        tracker.close()
    assert len(collector.requests) == 3
    assert tracker.counters() | {"spool_bytes": 0} == {
        "sent": 0,
        "spilled": 0,
        "dropped": 0,
        "failed": 300,
        "retries": 0,
        "spool_bytes": 0,
    }
    assert [(entry["event"], entry["status"]) for entry in logs] == [("evidence rejected", 400)]


def test_a_dead_collector_without_spill_dir_drops_counts_and_logs_once(
    closed_port_url: str,
) -> None:
    tracker = HttpTracker(closed_port_url, batch_size=100, max_retries=2, **FAST)
    buffered: list[int] = []
    with capture_logs() as logs:
        for start in range(0, 20_000, 70):
            tracker.emit(events(70, prefix=f"b{start}-"))
            buffered.append(tracker.buffered)
        tracker.close()
    assert max(buffered) < 100
    assert tracker.dropped == 20_020
    assert tracker.sent == 0
    assert [entry["event"] for entry in logs] == ["evidence collector unavailable; dropping"]


@pytest.mark.parametrize("kind", ["closed port", "invalid url"])
@pytest.mark.parametrize("spill", [False, True])
def test_an_unusable_collector_never_raises(
    kind: str, spill: bool, closed_port_url: str, tmp_path: Path
) -> None:
    url = closed_port_url if kind == "closed port" else "http://127.0.0.1:notaport/events"
    tracker = HttpTracker(
        url, batch_size=10, max_retries=1, spill_dir=tmp_path / "spool" if spill else None, **FAST
    )
    tracker.emit(events(25))
    tracker.flush(1.0)
    tracker.close()
    tracker.emit(events(5, prefix="late"))
    tracker.flush(1.0)
    tracker.close()
    assert (tracker.spilled, tracker.dropped) == ((25, 5) if spill else (0, 30))


def test_a_new_tracker_replays_what_a_previous_process_spilled(
    serve: Callable[[Behaviour], Collector], closed_port_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    first = events(250, prefix="a")
    down = HttpTracker(closed_port_url, batch_size=100, spill_dir=spool, max_retries=1, **FAST)
    emit_all(down, first)
    down.close()
    assert down.spilled == 250
    assert list(spool.iterdir())

    collector = serve(ok)
    up = HttpTracker(collector.url, batch_size=100, spill_dir=spool, **FAST)
    up.flush(5.0)
    assert set(collector.accepted) == ids(first)
    assert up.counters()["spool_bytes"] == 0
    assert not list(spool.iterdir())
    up.close()


def test_flush_interval_sends_a_partial_batch_on_emit(
    serve: Callable[[Behaviour], Collector],
) -> None:
    collector = serve(ok)
    tracker = HttpTracker(collector.url, batch_size=1000, flush_interval=0.0, **FAST)
    tracker.emit(events(3))
    assert set(collector.accepted) == ids(events(3))
    assert tracker.buffered == 0
    tracker.close()


def test_an_unwritable_spill_dir_drops_and_counts_instead_of_raising(
    closed_port_url: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with capture_logs() as logs:
        tracker = HttpTracker(
            closed_port_url,
            batch_size=10,
            max_retries=1,
            spill_dir=tmp_path / "a-file" / "spool",
            **FAST,
        )
        tracker.emit(events(25))
        tracker.close()
    assert tracker.dropped == 25
    assert "evidence spool not writable" in [entry["event"] for entry in logs]
