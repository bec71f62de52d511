"""A small OpenAI-compatible chat-completions server, so the FastAPI example runs offline.

    python examples/fastapi_service/model_server.py [--port 8001] [--seed 7]
        [--latency-scale 1.0] [--error-rate MODEL=RATE] [--timeout-rate MODEL=RATE]
        [--hang SECONDS]

It speaks the wire format the official ``openai`` client expects, so the service talks to it
exactly as it would to OpenAI, vLLM or a gateway:

- ``POST /v1/chat/completions``: a ``chat.completion`` object with its ``usage``, or with
  ``"stream": true`` server-sent events (``data: {chunk}`` lines, the usage chunk when
  ``stream_options.include_usage`` asks for it, then ``data: [DONE]``); errors as
  OpenAI-style bodies (``{"error": {"message", "type", "code", ...}}``);
- ``GET /v1/models``: the models it serves;
- ``GET /stats``: what it did so far, per model (requests, answers, injected errors and
  hangs), for a test to check the service's fallbacks against.

Each model of :data:`MODELS` has its own latency (drawn from a gamma distribution around its
mean, times ``--latency-scale``), its own length of answer (which drives its completion
tokens and so its cost), and rates of two injected failures: a 500 error, and a hang longer
than a client's timeout (``--hang`` seconds). Every draw comes from one random generator per
model, seeded from ``--seed``: the same sequence of requests gets the same answers,
latencies and failures. Token counts follow the usual rule of thumb for English text (about
four characters a token, plus a few per message), not a real tokenizer.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import random
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MODELS", "ModelProfile", "ModelServer", "main", "prompt_tokens", "text_tokens"]


@dataclass(frozen=True)
class ModelProfile:
    """How one model behaves: mean latency (ms), sentences per answer, failure rates."""

    latency_ms: float
    sentences: int
    error_rate: float = 0.0
    timeout_rate: float = 0.0


MODELS: Mapping[str, ModelProfile] = {
    # the current route: slower, more verbose (more completion tokens), rarely failing
    "support_model_a": ModelProfile(latency_ms=420.0, sentences=3, error_rate=0.01,
                                    timeout_rate=0.005),
    # the candidate: faster and terser, a little less reliable
    "support_model_b": ModelProfile(latency_ms=260.0, sentences=1, error_rate=0.02,
                                    timeout_rate=0.01),
}  # fmt: skip

_SENTENCES = (
    "Go to Settings > API keys, create a new key, then revoke the old one.",
    "Your invoices are under Billing > History, each one a PDF to download.",
    "Reset your password from the sign-in page with 'Forgot password'.",
    "Seats are managed under Team > Members; changes apply at once.",
    "Export your data from Settings > Data export; a link arrives by email.",
    "If that does not solve it, reply here and a person will look at your account.",
    "You can also find this in the help centre, under Account basics.",
)
_TOPICS = ("key", "invoice", "password", "seat", "export")
"""The word of a question that picks each of the first five sentences."""


def text_tokens(text: str) -> int:
    """Tokens of a text by the rule of thumb: a token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


def prompt_tokens(messages: Sequence[Any]) -> int:
    """Tokens of a request's messages: each one's text, plus 4 per message and 3 per reply."""
    total = 3
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        total += 4 + text_tokens(content if isinstance(content, str) else "")
    return total


class _Model:
    """A model's profile and its own seeded generator (draws are serialised)."""

    def __init__(self, name: str, profile: ModelProfile, seed: int) -> None:
        self.name = name
        self.profile = profile
        self._random = random.Random(f"{seed}:{name}")
        self._lock = threading.Lock()

    def draw(self, latency_scale: float) -> tuple[str, float]:
        """The fate of one request, ``answer``, ``error`` or ``hang``, and its latency (s)."""
        profile = self.profile
        with self._lock:
            fate = self._random.random()
            latency = self._random.gammavariate(4.0, profile.latency_ms / 4.0)
        if fate < profile.error_rate:
            return "error", latency * latency_scale / 1000.0 / 4  # errors come back quickly
        if fate < profile.error_rate + profile.timeout_rate:
            return "hang", 0.0
        return "answer", latency * latency_scale / 1000.0

    def answer(self, messages: Sequence[Any]) -> str:
        """The reply to the last user message: the topical sentence its words ask for (else
        one chosen by its text), then closing ones, as many as the model writes."""
        question = ""
        for message in messages:
            if isinstance(message, dict) and message.get("role") == "user":
                question = str(message.get("content", "")).lower()
        topics = [i for i, word in enumerate(_TOPICS) if word in question]
        first = topics[0] if topics else hashlib.sha256(question.encode()).digest()[0] % 5
        picked = [_SENTENCES[first], *_SENTENCES[5:]][: self.profile.sentences]
        return " ".join(picked)


class ModelServer:
    """The server on ``host:port`` (0: a free port), serving from :meth:`start` to
    :meth:`close`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8001,
        seed: int = 7,
        latency_scale: float = 1.0,
        hang_seconds: float = 30.0,
        models: Mapping[str, ModelProfile] = MODELS,
    ) -> None:
        self.latency_scale = latency_scale
        self.hang_seconds = hang_seconds
        self.models = {name: _Model(name, profile, seed) for name, profile in models.items()}
        self.closing = threading.Event()
        self._stats_lock = threading.Lock()
        self._stats = {name: dict.fromkeys(_COUNTERS, 0) for name in models}
        self._server = _Server((host, port), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The ``base_url`` for an OpenAI client: ``http://HOST:PORT/v1``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def count(self, model: str, counter: str) -> None:
        with self._stats_lock:
            self._stats[model][counter] += 1

    def stats(self) -> dict[str, dict[str, int]]:
        """Per model: ``requests``, ``answers``, ``errors`` (500s) and ``hangs``."""
        with self._stats_lock:
            return {name: dict(counters) for name, counters in self._stats.items()}

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.closing.set()  # cuts hangs and latencies short
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


_COUNTERS = ("requests", "answers", "errors", "hangs")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default, 5, drops connections a busy client opens at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client that gave up is expected
            super().handle_error(request, client_address)


def _handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/v1/models":
                models = [{"id": name, "object": "model", "created": 0, "owned_by": "example"}
                          for name in server.models]  # fmt: skip
                self._json(200, {"object": "list", "data": models})
            elif path == "/stats":
                self._json(200, server.stats())
            else:
                self._error(404, "not_found", f"no route GET {self.path}")

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                body = None
            if self.path.split("?", 1)[0].rstrip("/") != "/v1/chat/completions":
                self._error(404, "not_found", f"no route POST {self.path}")
                return
            messages = body.get("messages") if isinstance(body, dict) else None
            if not isinstance(messages, list) or not messages:
                self._error(400, "invalid_request_error", "'messages' must be a non-empty list")
                return
            name = body.get("model")
            model = server.models.get(name) if isinstance(name, str) else None
            if model is None:
                self._error(404, "model_not_found", f"The model {name!r} does not exist")
                return
            server.count(model.name, "requests")
            fate, latency = model.draw(server.latency_scale)
            if fate == "hang":
                server.count(model.name, "hangs")
                server.closing.wait(server.hang_seconds)
            server.closing.wait(latency)
            if fate == "error":
                server.count(model.name, "errors")
                self._error(500, "server_error", "The server had an error processing your request")
                return
            if fate == "answer":
                server.count(model.name, "answers")
            text = model.answer(messages)
            usage = _usage(messages, text)
            if body.get("stream"):
                options = body.get("stream_options") or {}
                include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
                self._stream(model.name, text, usage if include_usage else None)
            else:
                self._json(200, _completion(model.name, text, usage))

        def _json(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # the client stopped waiting (its timeout)
                self.close_connection = True

        def _error(self, status: int, kind: str, message: str) -> None:
            self._json(status, {"error": {"message": message, "type": kind, "param": None,
                                          "code": kind}})  # fmt: skip

        def _stream(self, model: str, text: str, usage: dict[str, int] | None) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")  # the body ends when the connection does
            self.end_headers()
            self.close_connection = True
            try:
                for payload in _chunks(model, text, usage):
                    self.wfile.write(f"data: {payload}\n\n".encode())
            except OSError:  # the client closed the stream early
                pass

    return Handler


def _usage(messages: Sequence[Any], text: str) -> dict[str, int]:
    prompt, completion = prompt_tokens(messages), text_tokens(text)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}  # fmt: skip


def _completion(model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }],
        "usage": usage,
        "system_fingerprint": None,
    }  # fmt: skip


def _chunks(model: str, text: str, usage: dict[str, int] | None) -> Iterator[str]:
    """The data lines of a streamed answer: a word a chunk, the usage chunk, ``[DONE]``."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}  # fmt: skip
    extra = {"usage": None} if usage is not None else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return json.dumps({**base, "choices": [choice], **extra})

    yield chunk({"role": "assistant", "content": ""})
    for i, word in enumerate(text.split(" ")):
        yield chunk({"content": word if i == 0 else f" {word}"})
    yield chunk({}, "stop")
    if usage is not None:
        yield json.dumps({**base, "choices": [], "usage": usage})
    yield "[DONE]"


def _rates(parser: argparse.ArgumentParser, option: str, values: list[str]) -> dict[str, float]:
    """``MODEL=RATE`` settings, checked: a known model, a rate from 0 to 1."""
    rates = {}
    for value in values:
        name, _, text = value.partition("=")
        if name not in MODELS:
            parser.error(f"{option} {value}: unknown model {name!r}; known: {', '.join(MODELS)}")
        try:
            rate = float(text)
        except ValueError:
            rate = math.nan
        if not 0.0 <= rate <= 1.0:  # NaN fails too
            parser.error(f"{option} {value}: the rate is a number from 0 to 1")
        rates[name] = rate
    return rates


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-scale", type=float, default=1.0,
                        help="multiplies every latency (0.05: twenty times faster)")  # fmt: skip
    parser.add_argument("--error-rate", action="append", default=[], metavar="MODEL=RATE",
                        help="share of requests answered 500")  # fmt: skip
    parser.add_argument("--timeout-rate", action="append", default=[], metavar="MODEL=RATE",
                        help="share of requests held for --hang seconds")  # fmt: skip
    parser.add_argument("--hang", type=float, default=30.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: a port is 0 to 65535")
    if not (math.isfinite(args.latency_scale) and args.latency_scale >= 0):
        parser.error("--latency-scale must be a number of zero or more")
    if not (math.isfinite(args.hang) and args.hang >= 0):
        parser.error("--hang must be a number of seconds, zero or more")
    errors = _rates(parser, "--error-rate", args.error_rate)
    timeouts = _rates(parser, "--timeout-rate", args.timeout_rate)
    models = {
        name: replace(profile, error_rate=errors.get(name, profile.error_rate),
                      timeout_rate=timeouts.get(name, profile.timeout_rate))
        for name, profile in MODELS.items()
    }  # fmt: skip
    try:
        server = ModelServer(host=args.host, port=args.port, seed=args.seed, models=models,
                             latency_scale=args.latency_scale, hang_seconds=args.hang)  # fmt: skip
    except OSError as error:
        parser.exit(1, f"model_server: cannot listen on {args.host}:{args.port}: {error}\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(f"model server on {server.base_url} (models: {', '.join(models)})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
