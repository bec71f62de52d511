"""A real HTTP collector on 127.0.0.1 that misbehaves on demand, for the fault tests.

``collector.fault`` decides what each request meets:

* ``None``: accepted (200), its events recorded;
* ``("status", code, headers)``: that answer, nothing recorded;
* ``("slow", seconds)``: recorded, then answered 200 after ``seconds`` (a client that gave
  up earlier sends the batch again: a duplicate the reader removes by ``eventId``);
* ``("over", n)``: 413 for a request holding more than ``n`` events, else accepted;
* ``("reset",)``: the connection is reset (TCP RST) before the body is read;
* ``("hang",)``: the body is read, and no answer ever comes (until the collector stops).

``collector.down()`` closes the listening socket (connections are refused) and ``up()``
listens again on the same port. Every event received is kept as (eventId, its ``seq``
attribute), duplicates included.
"""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Request:
    arrived: float
    events: int
    answer: str


@dataclass
class FaultyCollector:
    """See the module docstring."""

    port: int = 0
    fault: tuple[Any, ...] | None = None
    received: list[tuple[str, int]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/events"

    def up(self) -> None:
        """Listen (again, on the same port)."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), _handler(self))
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self._server = server

    def down(self) -> None:
        """Stop listening: new connections are refused."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def stop(self) -> None:
        self.stopped.set()
        self.down()

    def seqs(self) -> Counter[int]:
        """How many distinct eventIds arrived for each ``seq``."""
        with self.lock:
            unique = dict(self.received)
        return Counter(unique.values())

    def duplicates(self) -> int:
        with self.lock:
            return len(self.received) - len(set(self.received))


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # resets and hangs are the point


def _handler(collector: FaultyCollector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            fault = collector.fault
            if fault is not None and fault[0] == "reset":
                self._note(0, "reset")
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
                return
            body = self.rfile.read(int(self.headers["Content-Length"]))
            events = [json.loads(line) for line in gzip.decompress(body).splitlines()]
            if fault is None or (fault[0] == "over" and len(events) <= fault[1]):
                self._accept(events)
            elif fault[0] == "over":
                self._note(len(events), "413")
                self._answer(413, {})
            elif fault[0] == "status":
                self._note(len(events), str(fault[1]))
                self._answer(fault[1], fault[2])
            elif fault[0] == "slow":
                self._keep(events)
                self._note(len(events), "slow")
                time.sleep(fault[1])
                self._answer(200, {})
            elif fault[0] == "hang":
                self._note(len(events), "hang")
                collector.stopped.wait(30)
                self.close_connection = True

        def _accept(self, events: list[dict[str, Any]]) -> None:
            self._keep(events)
            self._note(len(events), "200")
            self._answer(200, {})

        def _keep(self, events: list[dict[str, Any]]) -> None:
            with collector.lock:
                collector.received.extend(
                    (event["eventId"], event["attributes"]["seq"]) for event in events
                )

        def _note(self, events: int, answer: str) -> None:
            with collector.lock:
                collector.requests.append(Request(time.monotonic(), events, answer))

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

    return Handler


@pytest.fixture
def collector() -> Iterator[FaultyCollector]:
    """A collector on a free loopback port, stopped after the test."""
    running = FaultyCollector()
    running.up()
    try:
        yield running
    finally:
        running.stop()
