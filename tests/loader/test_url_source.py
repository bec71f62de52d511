"""The URL source's lifecycle: its connection pool opens on first use, ``close`` closes it, a
one-shot read leaves no connection behind, and ``read`` and ``fetch`` differ only in asking
conditionally. Most tests swap the network for ``httpx.MockTransport``; the leak test uses a
real keep-alive server on 127.0.0.1."""

from __future__ import annotations

import gc
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from modelflags.errors import SourceError
from modelflags.loader import read_source
from modelflags.loader.url_source import UrlSource

URL = "http://flags.test/flags.yaml"
BODY = b"version: 1\nflags: {}\n"
WAIT = 5.0


class RecordingTransport(httpx.MockTransport):
    """Answers every GET with ``status`` (ETag "v1"; 304 to If-None-Match "v1" when serving
    200), recording the requests and how often the transport was closed."""

    def __init__(self, status: int = 200) -> None:
        super().__init__(self._answer)
        self.status = status
        self.requests: list[httpx.Request] = []
        self.closed = 0

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status == 200 and request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(self.status, headers={"ETag": '"v1"'}, content=BODY)

    def close(self) -> None:
        self.closed += 1


def test_closing_a_url_source_closes_its_connection_pool() -> None:
    transport = RecordingTransport()
    source = UrlSource(URL, transport=transport)
    source.read()
    source.close()
    assert transport.closed == 1


def test_a_url_source_in_a_with_block_is_closed_at_its_end() -> None:
    transport = RecordingTransport()
    with UrlSource(URL, transport=transport) as source:
        source.read()
        assert transport.closed == 0
    assert transport.closed == 1


def test_a_closed_url_source_reads_again_through_a_new_pool() -> None:
    transport = RecordingTransport()
    source = UrlSource(URL, transport=transport)
    source.read()
    source.close()
    assert source.read().files == ((URL, BODY),)
    assert (len(transport.requests), transport.closed) == (2, 1)


def test_a_read_asks_unconditionally_and_the_next_fetch_sends_the_etag() -> None:
    transport = RecordingTransport()
    with UrlSource(URL, transport=transport) as source:
        source.read()
        assert source.fetch() is None
        source.read()
    asked = [request.headers.get("If-None-Match") for request in transport.requests]
    assert asked == [None, '"v1"', None]


def test_a_304_answer_to_a_read_is_a_source_error_naming_the_url() -> None:
    with (
        UrlSource(URL, transport=RecordingTransport(status=304)) as source,
        pytest.raises(SourceError, match=f"^{URL}: HTTP 304 to a request without If-None-Match"),
    ):
        source.read()


def test_after_fork_leaves_the_parents_pool_open_and_reads_through_a_new_one() -> None:
    transport = RecordingTransport()
    source = UrlSource(URL, transport=transport)
    parent_pool = source._http
    source.read()
    source.after_fork()
    assert source.read().files == ((URL, BODY),)
    assert source._http is not parent_pool
    assert (transport.closed, parent_pool.is_closed) == (0, False)
    parent_pool.close()
    source.close()


class KeepAliveServer:
    """Serves :data:`BODY` over HTTP/1.1 keep-alive, counting the connections still open."""

    def __init__(self) -> None:
        self.open_connections = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the connection stays open until the client closes

            def setup(self) -> None:
                super().setup()
                with lock:
                    server.open_connections += 1

            def finish(self) -> None:
                super().finish()
                with lock:
                    server.open_connections -= 1

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def log_message(self, format: str, *args: object) -> None:
                """Silence the per-request log lines."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/flags.yaml"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(WAIT)


@pytest.fixture
def keep_alive_server() -> Iterator[KeepAliveServer]:
    server = KeepAliveServer()
    yield server
    server.close()


def test_a_one_shot_read_of_a_url_leaves_no_connection_open(
    keep_alive_server: KeepAliveServer,
) -> None:
    # With the collector off, a leaked client keeps its socket until the end of the test,
    # where collecting it warns of an unclosed socket.
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            assert read_source(keep_alive_server.url).files[0][1] == BODY
            deadline = time.monotonic() + WAIT
            while keep_alive_server.open_connections and time.monotonic() < deadline:
                time.sleep(0.005)
            still_open = keep_alive_server.open_connections
            gc.collect()
    finally:
        gc.enable()
    assert still_open == 0
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
