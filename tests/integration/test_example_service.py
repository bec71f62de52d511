"""The example web service (examples/service/app.py), driven over real HTTP.

uvicorn serves the Starlette app on 127.0.0.1 (an ephemeral port) in a thread; httpx plays
the clients, several at a time. Checks the per-request evaluation through OpenFeature's
transaction context, the simulated timeout that falls back to the `fallback` route, the
exposure and outcome events with their join keys, and that a broken tracker never breaks
the service.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from openfeature import api
from openfeature.transaction_context import NoOpTransactionContextPropagator

from modelflags import Evidence, MemoryTracker, load_flags

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]
FLAG = "support_answer_model_route"
OUTCOME = "support_conversation_outcome"
LONG_QUESTION = "Here is the full error log from our integration: " + "stack frame " * 400


def _load_service() -> ModuleType:
    path = ROOT / "examples" / "service" / "app.py"
    spec = importlib.util.spec_from_file_location("modelflags_example_service", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


service = _load_service()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on 127.0.0.1; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="example-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        assert thread.is_alive(), "the service failed to start"
        assert time.monotonic() < deadline, "the service did not start in 10 s"
        time.sleep(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10.0)
        assert not thread.is_alive(), "the service did not stop"


def conversations() -> list[dict[str, Any]]:
    """50 conversations: paid chat (in the split), free or email (not eligible), internal
    (the rule), an incident account (excluded), and one whose question times out."""
    out = []
    for i in range(46):
        out.append(
            {
                "conversationId": f"conv-{i:04d}",
                "accountId": f"acct_{100 + i % 9}",
                "plan": ("pro", "enterprise", "pro", "free")[i % 4],
                "channel": "email" if i % 7 == 0 else "chat",
                "email": f"user{i}@customer.test",
                "question": f"How do I rotate API key number {i}?",
            }
        )
    base = {"plan": "pro", "channel": "chat", "question": "Where is my invoice?"}
    out += [
        {**base, "conversationId": "conv-internal-1", "accountId": "acct_7",
         "email": "dev@example.com"},
        {**base, "conversationId": "conv-internal-2", "accountId": "acct_8",
         "email": "qa@example.com"},
        {**base, "conversationId": "conv-incident", "accountId": "acct_42",
         "email": "ops@customer.test"},
        {**base, "conversationId": "conv-timeout", "accountId": "acct_9",
         "email": "sre@customer.test", "question": LONG_QUESTION},
    ]  # fmt: skip
    return out


def post_all(base_url: str, path: str, bodies: Sequence[dict[str, Any]]) -> list[httpx.Response]:
    """POST every body, eight clients at a time (concurrent requests must not share context)."""
    with httpx.Client(base_url=base_url, timeout=10.0) as http, ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda body: http.post(path, json=body), bodies))


def test_answers_and_evidence_over_http(repo_flags: Path) -> None:
    tracker = MemoryTracker()
    evidence = Evidence(tracker)
    convs = conversations()
    flags = load_flags(repo_flags)  # the direct path, for the expected assignments
    expected = {
        c["conversationId"]: flags.evaluate(FLAG, {k: v for k, v in c.items() if k != "question"})
        for c in convs
    }
    resolved = {c["conversationId"]: i % 3 != 0 for i, c in enumerate(convs)}
    started = time.monotonic()

    with serving(service.create_app(repo_flags, evidence)) as url:
        answers = post_all(url, "/support/answer", convs)
        feedback = post_all(
            url,
            "/support/feedback",
            [{**c, "resolved": resolved[c["conversationId"]]} for c in convs],
        )
        assert evidence.flush(timeout=5.0)

        # -- the responses: the evaluation saw each request's own transaction context
        replies = {}
        for conv, response in zip(convs, answers, strict=True):
            assert response.status_code == 200, response.text
            reply = response.json()
            unit = conv["conversationId"]
            want = expected[unit]
            assert reply["conversationId"] == unit
            assert (reply["variant"], reply["reason"]) == (want.variant, want.reason), unit
            assert reply["errorCode"] is None
            assert reply["answer"].startswith(f"[{reply['modelRoute']}] ")
            if unit == "conv-timeout":
                assert reply["fallbackUsed"] is True
                assert reply["servedVariation"] == "fallback"
                assert reply["variant"] in {"control", "candidate"}
                assert reply["retrievalProfile"] == "safe_fallback"
            else:
                assert reply["fallbackUsed"] is False
                assert reply["servedVariation"] == reply["variant"]
                assert reply["modelRoute"] == want.value["modelRoute"]
                assert reply["retrievalProfile"] == want.value["retrievalProfile"]
            replies[unit] = reply
        assert replies["conv-incident"]["variant"] == "fallback"  # excluded account
        assert replies["conv-incident"]["reason"] == "TARGETING_MATCH"
        assert replies["conv-internal-1"]["variant"] == "candidate"  # the internal rule
        assert replies["conv-internal-1"]["modelRoute"] == "support_model_b"
        assert {r["reason"] for r in replies.values()} >= {"SPLIT", "DEFAULT"}
        for response in feedback:
            assert response.status_code == 200, response.text
            assert response.json()["recorded"] is True

        # -- exposures: one per answer, what ran, joined by unit
        exposures = {e["unitId"]: e for e in tracker.of("exposure")}
        assert len(tracker.of("exposure")) == len(exposures) == len(convs)
        assert set(exposures) == set(replies)
        for unit, exposure in exposures.items():
            reply = replies[unit]
            assert exposure["flagKey"] == FLAG
            assert exposure["experimentKey"] == "support-route-2026-11"
            assert exposure["assignmentUnit"] == "conversation"
            assert exposure["assignedVariation"] == reply["variant"]
            assert exposure["variation"] == reply["servedVariation"]
            assert exposure["fallbackUsed"] is (unit == "conv-timeout")
            assert exposure["modelRoute"] == reply["modelRoute"]
            assert exposure["retrievalProfile"] == reply["retrievalProfile"]
            assert exposure["error"] is False and exposure["errorType"] is None
            assert exposure["latencyMs"] > 0 and exposure["estimatedCost"] > 0
            assert exposure["attributes"]["tokens"] > 0
        timed_out = exposures["conv-timeout"]
        assert (timed_out["variation"], timed_out["fallbackReason"]) == ("fallback", "timeout")
        assert timed_out["assignedVariation"] != "fallback"
        assert timed_out["latencyMs"] >= service.SimulatedModel().timeout_ms  # waited it out
        incident = exposures["conv-incident"]
        assert incident["variation"] == incident["assignedVariation"] == "fallback"
        assert incident["fallbackUsed"] is False

        # -- outcomes from /support/feedback: same unit, the assigned variation
        outcomes = {e["unitId"]: e for e in tracker.of(OUTCOME)}
        assert len(tracker.of(OUTCOME)) == len(outcomes) == len(convs)
        for unit, outcome in outcomes.items():
            exposure = exposures[unit]
            assert outcome["flagKey"] == FLAG
            assert outcome["experimentKey"] == exposure["experimentKey"]
            assert outcome["variation"] == exposure["assignedVariation"]
            assert outcome["metrics"] == {"resolvedWithoutEscalation": resolved[unit]}
            assert outcome["value"] == (1.0 if resolved[unit] else 0.0)
        assert len({e["eventId"] for e in tracker.events}) == len(tracker.events)

    assert tracker.closed  # shutdown closed the evidence
    assert evidence.counters["delivered"] == 2 * len(convs)
    assert time.monotonic() - started < 15.0


def test_the_unit_comes_from_the_transaction_context(repo_flags: Path) -> None:
    """The handler passes no context of its own: without a transaction context propagator
    the evaluation has no unit, and the service serves the default route."""
    tracker = MemoryTracker()
    conv = conversations()[1]
    with serving(service.create_app(repo_flags, Evidence(tracker))) as url:
        api.set_transaction_context_propagator(NoOpTransactionContextPropagator())
        reply = httpx.post(f"{url}/support/answer", json=conv, timeout=10.0).json()
    assert (reply["variant"], reply["reason"]) == (None, "ERROR")
    assert reply["errorCode"] == "TARGETING_KEY_MISSING"
    assert reply["modelRoute"] == service.DEFAULT_ROUTE["modelRoute"]


class BrokenTracker:
    """A tracker that fails at everything."""

    def __init__(self) -> None:
        self.emits = 0

    def emit(self, events: Sequence[dict[str, Any]], timeout: float | None = None) -> None:
        self.emits += 1
        raise RuntimeError("the collector is on fire")

    def flush(self, timeout: float | None = None) -> None:
        raise RuntimeError("cannot flush")

    def close(self) -> None:
        raise RuntimeError("cannot close")


def test_a_failing_tracker_never_breaks_the_service(repo_flags: Path) -> None:
    tracker = BrokenTracker()
    evidence = Evidence(tracker)
    convs = conversations()[-10:]  # includes the incident account and the timeout
    with serving(service.create_app(repo_flags, evidence)) as url:
        answers = post_all(url, "/support/answer", convs)
        feedback = post_all(url, "/support/feedback", [{**c, "resolved": True} for c in convs])
        evidence.flush(timeout=5.0)  # returns, whatever the tracker does
        # the service is still up after the failures
        again = post_all(url, "/support/answer", convs[:2])
    for response in [*answers, *feedback, *again]:
        assert response.status_code == 200, response.text
    assert [r.json()["fallbackUsed"] for r in answers].count(True) == 1
    assert tracker.emits >= 1
    counters = evidence.counters
    assert counters["delivered"] == 0
    assert counters["failed"] == 2 * len(convs) + 2


def test_bad_requests_are_rejected(repo_flags: Path) -> None:
    app = service.create_app(repo_flags, Evidence(MemoryTracker()))
    with serving(app) as url, httpx.Client(base_url=url, timeout=10.0) as http:
        not_json = http.post("/support/answer", content=b"{", headers={"content-type": "x"})
        no_unit = http.post("/support/answer", json={"question": "hi"})
        no_flag = http.post("/support/feedback", json={"conversationId": "c1"})
    assert [r.status_code for r in (not_json, no_unit, no_flag)] == [400, 400, 400]
