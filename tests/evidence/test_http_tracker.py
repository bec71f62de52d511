"""HttpTracker: gzip NDJSON POSTs with the bearer token, and the meaning of each answer
(delivered, unavailable with its Retry-After, rejected with or without a split). The answer
table runs on httpx's MockTransport; the wire format, timeouts and broken connections on a
real HTTP server on 127.0.0.1."""

from __future__ import annotations

import email.utils
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from modelflags.evidence.http_tracker import HttpTracker
from modelflags.evidence.tracker import BatchRejected, TrackerUnavailable

TOKEN = "s3cret-collector-token"


def events(count: int, prefix: str = "e") -> list[dict[str, Any]]:
    return [{"event": "exposure", "eventId": f"{prefix}{i}"} for i in range(count)]


def answering(status: int, headers: dict[str, str] | None = None) -> HttpTracker:
    """A tracker whose collector answers every request with ``status``."""
    transport = httpx.MockTransport(lambda request: httpx.Response(status, headers=headers))
    return HttpTracker("https://collector.test/events", transport=transport)


# -- what each answer means ----------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_a_2xx_answer_means_delivered(status: int) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status)

    tracker = HttpTracker("https://collector.test/events", transport=httpx.MockTransport(answer))
    tracker.emit(events(3))  # returns: delivered, nothing to retry
    assert len(sent) == 1
    assert len(gzip.decompress(sent[0].content).splitlines()) == 3


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_408_429_and_5xx_mean_unavailable(status: int) -> None:
    with pytest.raises(TrackerUnavailable, match=f"HTTP {status}"):
        answering(status).emit(events(3))


@pytest.mark.parametrize("status", [400, 413, 422])
def test_400_413_and_422_reject_the_batch_to_be_split(status: int) -> None:
    with pytest.raises(BatchRejected) as caught:
        answering(status).emit(events(3))
    assert caught.value.split is True


@pytest.mark.parametrize("status", [301, 302, 401, 403, 404, 405, 409, 410])
def test_other_answers_reject_the_whole_request(status: int) -> None:
    with pytest.raises(BatchRejected) as caught:
        answering(status, {"Location": "https://elsewhere.test/"}).emit(events(3))
    assert caught.value.split is False


def test_retry_after_in_seconds_is_passed_on() -> None:
    with pytest.raises(TrackerUnavailable) as caught:
        answering(429, {"Retry-After": "2.5"}).emit(events(1))
    assert caught.value.retry_after == 2.5


def test_retry_after_as_an_http_date_is_passed_on() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    with pytest.raises(TrackerUnavailable) as caught:
        answering(503, {"Retry-After": when}).emit(events(1))
    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "-5"])
def test_an_unreadable_or_negative_retry_after_is_ignored_or_zero(value: str) -> None:
    with pytest.raises(TrackerUnavailable) as caught:
        answering(503, {"Retry-After": value}).emit(events(1))
    assert caught.value.retry_after in (None, 0.0)


def test_a_missing_token_variable_keeps_the_events_without_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[httpx.Request] = []
    monkeypatch.delenv("COLLECTOR_TOKEN", raising=False)
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    tracker = HttpTracker("https://c.test/e", token_env="COLLECTOR_TOKEN", transport=transport)
    with pytest.raises(TrackerUnavailable, match="COLLECTOR_TOKEN is not set"):
        tracker.emit(events(1))
    assert sent == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:notaport/events", "ftp://c.test/e", "/e"])
def test_an_invalid_collector_url_is_an_error_when_the_tracker_is_made(url: str) -> None:
    with pytest.raises(ValueError, match="collector URL"):
        HttpTracker(url)


def test_messages_name_the_collector_without_credentials_path_or_query() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    tracker = HttpTracker("https://user:pw@c.test:8443/v1/e?key=k3y", transport=transport)
    with pytest.raises(TrackerUnavailable) as caught:
        tracker.emit(events(1))
    assert str(caught.value) == "https://c.test:8443: HTTP 503"


# -- a real collector on 127.0.0.1 ---------------------------------------------------------


@dataclass
class Collector:
    url: str
    behaviour: str = "ok"  # ok | hang | drop
    requests: list[tuple[dict[str, str], list[dict[str, Any]]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def serve() -> Iterator[Collector]:
    collector = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            if collector.behaviour == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            body = self.rfile.read(int(self.headers["Content-Length"]))
            lines = gzip.decompress(body).splitlines()
            collector.requests.append((dict(self.headers), [json.loads(x) for x in lines]))
            if collector.behaviour == "hang":
                collector.release.wait(10)
                return
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    collector.url = f"http://127.0.0.1:{server.server_address[1]}/events"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield collector
    finally:
        collector.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    with serve() as running:
        yield running


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/events"


def test_a_batch_arrives_as_gzip_ndjson_with_the_token_and_headers(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTOR_TOKEN", TOKEN)
    tracker = HttpTracker(collector.url, token_env="COLLECTOR_TOKEN", headers={"X-Source": "t"})
    tracker.emit(events(700))
    tracker.close()
    ((headers, received),) = collector.requests
    assert received == events(700)
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/x-ndjson"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["X-Source"] == "t"


def test_connections_are_reused_across_batches(collector: Collector) -> None:
    tracker = HttpTracker(collector.url)
    for n in range(5):
        tracker.emit(events(10, prefix=f"b{n}-"))
    tracker.close()
    assert len(collector.requests) == 5


def test_a_refused_connection_means_unavailable(closed_port_url: str) -> None:
    with pytest.raises(TrackerUnavailable, match="ConnectError"):
        HttpTracker(closed_port_url).emit(events(1))


def test_a_dropped_connection_means_unavailable(collector: Collector) -> None:
    collector.behaviour = "drop"
    with pytest.raises(TrackerUnavailable):
        HttpTracker(collector.url).emit(events(1))


def test_a_hanging_collector_is_given_up_on_after_the_timeout_passed_in(
    collector: Collector,
) -> None:
    collector.behaviour = "hang"
    tracker = HttpTracker(collector.url, timeout=30.0)
    started = time.monotonic()
    with pytest.raises(TrackerUnavailable, match=r"no answer within 0\.3 s"):
        tracker.emit(events(1), timeout=0.3)
    assert time.monotonic() - started < 1.5
    tracker.close()


def test_the_tracker_timeout_bounds_a_request_when_none_is_passed_in(
    collector: Collector,
) -> None:
    collector.behaviour = "hang"
    tracker = HttpTracker(collector.url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TrackerUnavailable):
        tracker.emit(events(1))
    assert time.monotonic() - started < 1.5


def test_the_token_is_in_no_error_message(
    closed_port_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTOR_TOKEN", TOKEN)
    failures: list[BaseException] = []
    for make in [lambda: HttpTracker(closed_port_url, token_env="COLLECTOR_TOKEN"),
                 lambda: answering(401)]:  # fmt: skip
        try:
            make().emit(events(1))
        except (TrackerUnavailable, BatchRejected) as error:
            failures.append(error)
    assert len(failures) == 2
    assert all(TOKEN not in repr(error) + str(error.__cause__) for error in failures)
