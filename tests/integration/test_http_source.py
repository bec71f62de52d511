"""A flag source served over HTTP: a real server on 127.0.0.1 with ETag / If-None-Match,
polled by the provider behind the real OpenFeature client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from openfeature.provider import ProviderStatus

from live_edits import ProviderEvents, wait_until
from modelflags import ModelFlagsProvider, SourceError
from modelflags.loader.sources import MAX_FILE_BYTES, UrlSource

FLAGS_V1 = b"""\
version: 1
flags:
  model:
    default: small
    variations: {small: model_small, large: model_large}
  limit:
    default: low
    variations: {low: 10, high: 20}
"""
FLAGS_V2 = FLAGS_V1.replace(b"default: small", b"default: large")
INVALID_YAML = b"version: 1\nflags:\n  model: {default: small\n"
ELSEWHERE = "http://127.0.0.1:9/elsewhere.yaml"  # where a hostile server redirects


@dataclass(frozen=True)
class Request:
    if_none_match: str | None
    status: int


class FlagServer:
    """Serves one flag file at /flags.yaml; the test changes what it serves."""

    def __init__(self) -> None:
        self.body = FLAGS_V1
        self.etag = '"v1"'
        self.status = 200  # what to answer instead of the file (500, 404), when not 200
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    body, etag, status = server.body, server.etag, server.status
                if self.path != "/flags.yaml":
                    status = 404
                condition = self.headers.get("If-None-Match")
                if status == 200 and condition == etag:
                    status = 304
                with server._lock:
                    server.requests.append(Request(condition, status))
                self.send_response(status)
                if status in (200, 304):
                    self.send_header("ETag", etag)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", ELSEWHERE)
                if status == 304:
                    self.end_headers()
                    return
                payload = body if status == 200 else b"nope"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                """Silence the per-request log lines (keeps test output clean)."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/flags.yaml"

    def serve(self, body: bytes | None = None, etag: str | None = None, status: int = 200) -> None:
        with self._lock:
            if body is not None:
                self.body = body
            if etag is not None:
                self.etag = etag
            self.status = status

    def seen(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[FlagServer]:
    flag_server = FlagServer()
    yield flag_server
    api.shutdown()  # stop polling before the server goes away
    flag_server.close()


def start(url: str) -> tuple[OpenFeatureClient, ProviderEvents]:
    api.set_provider_and_wait(ModelFlagsProvider(url, poll_interval=0.1))
    client = api.get_client()
    return client, ProviderEvents(client)


def model(client: OpenFeatureClient) -> str:
    return client.get_string_value("model", "caller_default", EvaluationContext("user-1"))


def test_provider_loads_flags_from_the_url(server: FlagServer) -> None:
    client, _ = start(server.url)
    assert client.get_provider_status() == ProviderStatus.READY
    details = client.get_string_details("model", "caller_default", EvaluationContext("user-1"))
    assert (details.value, details.variant, details.error_code) == ("model_small", "small", None)
    assert client.get_integer_value("limit", -1, EvaluationContext("user-1")) == 10


def test_polls_send_if_none_match_and_get_304(server: FlagServer) -> None:
    start(server.url)
    wait_until(lambda: len(server.seen()) >= 4, "three polls after the first fetch")
    first, *polls = server.seen()
    assert first == Request(None, 200)
    assert set(polls) == {Request('"v1"', 304)}


def test_new_body_with_new_etag_is_picked_up(server: FlagServer) -> None:
    client, events = start(server.url)
    server.serve(FLAGS_V2, etag='"v2"')
    changed = events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert changed.flags_changed == ["model"]
    assert model(client) == "model_large"
    assert Request('"v1"', 200) in server.seen()  # the poll that found the change


def test_server_error_goes_stale_with_the_old_flags_serving(server: FlagServer) -> None:
    client, events = start(server.url)
    server.serve(status=500)
    stale = events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert server.url in (stale.message or "")
    assert "500" in (stale.message or "")
    assert client.get_provider_status() == ProviderStatus.STALE
    assert model(client) == "model_small"


def test_invalid_yaml_goes_stale_naming_the_url_and_line_with_the_old_flags_serving(
    server: FlagServer,
) -> None:
    client, events = start(server.url)
    server.serve(INVALID_YAML, etag='"broken"')
    stale = events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert f"{server.url}:4:" in (stale.message or "")  # the flow mapping never closes
    assert client.get_provider_status() == ProviderStatus.STALE
    assert model(client) == "model_small"


def test_server_back_with_the_same_file_restores_ready(server: FlagServer) -> None:
    client, events = start(server.url)
    server.serve(status=500)
    events.wait_for(ProviderEvent.PROVIDER_STALE)
    events.reset()
    server.serve(status=200)  # same body and ETag as before the outage: answered with 304
    events.wait_for(ProviderEvent.PROVIDER_READY)
    assert client.get_provider_status() == ProviderStatus.READY
    assert model(client) == "model_small"


def test_fixed_file_after_invalid_yaml_restores_ready_and_serves_it(server: FlagServer) -> None:
    client, events = start(server.url)
    server.serve(INVALID_YAML, etag='"broken"')
    events.wait_for(ProviderEvent.PROVIDER_STALE)
    events.reset()
    server.serve(FLAGS_V2, etag='"v2"')
    events.wait_for(ProviderEvent.PROVIDER_READY)
    assert client.get_provider_status() == ProviderStatus.READY
    assert model(client) == "model_large"


def test_server_still_serving_invalid_yaml_stays_stale(server: FlagServer) -> None:
    client, events = start(server.url)
    server.serve(INVALID_YAML, etag='"broken"')
    events.wait_for(ProviderEvent.PROVIDER_STALE)
    seen = len(server.seen())
    wait_until(lambda: len(server.seen()) >= seen + 3, "three polls answered with 304")
    assert server.seen()[-1] == Request('"broken"', 304)
    assert client.get_provider_status() == ProviderStatus.STALE
    assert events.since_mark(ProviderEvent.PROVIDER_READY) == []


def test_initialization_against_a_404_fails_naming_the_url(server: FlagServer) -> None:
    url = server.url.replace("flags.yaml", "missing.yaml")
    with pytest.raises(SourceError) as caught:
        api.set_provider_and_wait(ModelFlagsProvider(url, poll_interval=0.1))
    assert url in str(caught.value)
    assert "404" in str(caught.value)
    assert api.get_client().get_provider_status() == ProviderStatus.ERROR


def test_initialization_against_a_port_with_nothing_listening_fails_naming_the_url() -> None:
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/flags.yaml"
        with pytest.raises(SourceError) as caught:
            api.set_provider_and_wait(ModelFlagsProvider(url, poll_interval=0.1))
    assert url in str(caught.value)
    assert api.get_client().get_provider_status() == ProviderStatus.ERROR


def test_a_redirect_is_not_followed(server: FlagServer) -> None:
    server.serve(status=302)
    with pytest.raises(SourceError) as caught:
        UrlSource(server.url).fetch()
    assert "HTTP 302 to " + ELSEWHERE + " (redirects are not followed)" in str(caught.value)


def test_a_body_over_the_limit_is_refused_without_reading_it_all(server: FlagServer) -> None:
    server.serve(body=b"#" * (MAX_FILE_BYTES + 1), etag='"huge"')
    with pytest.raises(SourceError) as caught:
        UrlSource(server.url).fetch()
    assert "over the 4,194,304-byte limit" in str(caught.value)
