"""A fake OpenAI-compatible server on 127.0.0.1, for tests and benchmarks of LLM clients.

It speaks the chat-completions wire format the official ``openai`` package expects:
``POST /v1/chat/completions`` answers a ``chat.completion`` JSON object, or with
``"stream": true`` server-sent events (``data: {chunk}`` lines, a final usage chunk when
``stream_options.include_usage`` asks for it, then ``data: [DONE]``). Nothing leaves the
machine.

How it answers is chosen per request, first by the ``x-fake-mode`` header, then by the
request's model through :meth:`FakeOpenAI.set_mode`, else ``normal``:

- ``normal``: answers at once; ``slow``: after ``slow_seconds``; ``slow_chunks``: a stream
  whose chunks come ``chunk_seconds`` apart (a completion answers at once);
- ``timeout``: holds the request for ``hang_seconds`` (longer than a test client's timeout);
- ``rate_limited`` (429), ``server_error`` (500), ``bad_request`` (400),
  ``unauthorized`` (401): an OpenAI-style error body;
- ``no_usage``: a completion without ``usage``;
- ``stream_error``: a stream that sends one chunk, then an error event.

The reply is ``"answer from <model>"`` so a test can tell which model answered; usage counts
words (the prompt's words plus 3 per message, the reply's words). Every request's JSON body
and headers are kept in :attr:`FakeOpenAI.requests`.

    with FakeOpenAI() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MODES", "FakeOpenAI", "Request"]

MODES = frozenset({
    "normal", "slow", "timeout", "rate_limited", "server_error", "bad_request", "unauthorized",
    "no_usage", "stream_error", "slow_chunks",
})  # fmt: skip

_ERRORS = {
    "rate_limited": (429, "rate_limit_exceeded", "Rate limit reached for requests"),
    "server_error": (500, "server_error", "The server had an error processing your request"),
    "bad_request": (400, "invalid_request_error", "Invalid value for 'messages'"),
    "unauthorized": (401, "invalid_api_key", "Incorrect API key provided"),
}


@dataclass(frozen=True)
class Request:
    """One request the server received: its path, JSON body and headers (lower-case)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class FakeOpenAI:
    """The server, serving on a free loopback port from :meth:`start` to :meth:`close`."""

    def __init__(
        self, *, slow_seconds: float = 0.2, hang_seconds: float = 5.0, chunk_seconds: float = 0.05
    ) -> None:
        self.slow_seconds = slow_seconds
        self.chunk_seconds = chunk_seconds
        self.hang_seconds = hang_seconds
        self.requests: list[Request] = []
        self._modes: dict[str, str] = {}
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The URL to give ``openai.OpenAI(base_url=...)``: ``http://127.0.0.1:PORT/v1``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def set_mode(self, model: str, mode: str) -> None:
        """Answer requests for ``model`` in ``mode`` (one of :data:`MODES`)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {sorted(MODES)}")
        self._modes[model] = mode

    def mode_for(self, model: str, header: str | None) -> str:
        """The mode a request is answered in: its header's, else its model's, else normal."""
        if header in MODES:
            return header
        return self._modes.get(model, "normal")

    def wait(self, seconds: float) -> None:
        """Sleep in a handler; cut short when the server closes."""
        self._closing.wait(seconds)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is expected here
            super().handle_error(request, client_address)


def _handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # small SSE writes go out at once

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            headers = {key.lower(): value for key, value in self.headers.items()}
            server.requests.append(Request(self.path, body, headers))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, "not_found", f"no route {self.path}")
                return
            model = str(body.get("model", ""))
            mode = server.mode_for(model, headers.get("x-fake-mode"))
            if mode == "slow":
                server.wait(server.slow_seconds)
            elif mode == "timeout":
                server.wait(server.hang_seconds)
            if mode in _ERRORS:
                self._error(*_ERRORS[mode])
            elif body.get("stream"):
                self._stream(body, model, mode)
            else:
                self._json(200, _completion(body, model, with_usage=mode != "no_usage"))

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if status == 429:  # try again in a millisecond: a client's retries stay quick
                self.send_header("retry-after-ms", "1")
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # the client gave up waiting (a timeout)
                self.close_connection = True

        def _error(self, status: int, code: str, message: str) -> None:
            error = {"message": message, "type": code, "param": None, "code": code}
            self._json(status, {"error": error})

        def _stream(self, body: dict[str, Any], model: str, mode: str) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            try:
                for i, payload in enumerate(_chunks(body, model, mode)):
                    if mode == "slow_chunks" and i:
                        server.wait(server.chunk_seconds)
                    data = f"data: {payload}\n\n".encode()
                    end = b"0\r\n\r\n" if payload == "[DONE]" else b""  # the body ends with it
                    self.wfile.write(b"%x\r\n%s\r\n%s" % (len(data), data, end))
                if mode == "stream_error":
                    self.wfile.write(b"0\r\n\r\n")
            except OSError:  # the client closed the stream early
                self.close_connection = True

    return Handler


def _reply(model: str) -> str:
    return f"answer from {model}"


def _usage(body: dict[str, Any], model: str) -> dict[str, int]:
    messages = body.get("messages") or []
    prompt = sum(
        3 + len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict)
    )
    completion = len(_reply(model).split())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}  # fmt: skip


def _completion(body: dict[str, Any], model: str, *, with_usage: bool) -> dict[str, Any]:
    completion: dict[str, Any] = {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": _reply(model)},
            "finish_reason": "stop",
            "logprobs": None,
        }],
    }  # fmt: skip
    if with_usage:
        completion["usage"] = _usage(body, model)
    return completion


def _chunks(body: dict[str, Any], model: str, mode: str) -> Iterator[str]:
    """The SSE data lines of a streamed answer, ``[DONE]`` last."""
    base = {"id": f"chatcmpl-{time.monotonic_ns()}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}  # fmt: skip
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        extra = {"usage": None} if include_usage else {}
        return json.dumps({**base, "choices": [choice], **extra})

    yield chunk({"role": "assistant", "content": ""})
    words = _reply(model).split()
    for i, word in enumerate(words):
        if mode == "stream_error" and i == 1:
            yield json.dumps({"error": {"message": "the model stopped", "type": "server_error"}})
            return
        yield chunk({"content": word if i == 0 else f" {word}"})
    yield chunk({}, "stop")
    if include_usage and mode != "no_usage":
        yield json.dumps({**base, "choices": [], "usage": _usage(body, model)})
    yield "[DONE]"
