"""Soak benchmark: evaluations and exposures at a fixed rate for minutes, while the flag file
is edited and the collector flaps; nothing may be lost.

Several threads each serve "requests" at a fixed rate: evaluate the repository's
``support_answer_model_route`` flag through the OpenFeature client (a copy of
``flags/support.yaml`` in a temporary folder, watched by the provider), record an exposure
of it, and every fourth request an outcome through ``client.track``. Meanwhile:

* a reloader rewrites the flag file every ``--reload-every`` seconds (the split moves
  between 90/10 and 80/20; the file is replaced atomically, as a deploy does);
* the collector (a ``ThreadingHTTPServer`` on 127.0.0.1 in a child process, so that it does
  not share this process's GIL) flaps every ``--flap-every`` seconds between accepting,
  answering 503, answering 429 with ``Retry-After: 1``, resetting connections and
  answering slower than the tracker's timeout;
* a sampler records the resident set size (RSS) and the evidence counters every second.

The evidence is set up as documented: ``Evidence(HttpTracker(url), spill_dir=...)`` with the
default options. At the end the collector stays up, the evidence is flushed and closed, and
every event recorded must have arrived: **events lost** (recorded, never arrived, after
de-duplication by ``eventId``) must be 0, as must dropped events and failed evaluations.

Reported: evaluation and recording latency percentiles (log-bucket histograms, fixed
memory, about 3% resolution), RSS over time, the counters, the duplicates the collector saw.
The exit status is 1 when an event was lost or an evaluation failed.

Usage (from the project root)::

    PYTHONPATH=src python benchmarks/bench_soak.py [--duration 180] [--json soak.json]
    PYTHONPATH=src python benchmarks/bench_soak.py --smoke        # 5 seconds, for a test
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import os
import platform
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails

import modelflags
from modelflags.evidence.http_tracker import HttpTracker

ROOT = Path(__file__).resolve().parent.parent
FLAG = "support_answer_model_route"
SPLITS = ("split: {control: 90, candidate: 10}", "split: {control: 80, candidate: 20}")
MODES = ("up", "503", "up", "429", "up", "reset", "up", "slow")
SLOW_S = 1.5  # a "slow" answer: longer than the tracker's timeout below
TRACKER_TIMEOUT_S = 1.0


# --------------------------------------------------------------------------------------------
# Latency histograms: fixed memory, whatever the duration
# --------------------------------------------------------------------------------------------
class Histogram:
    """Counts of durations in log buckets (32 per power of two: about 2% wide)."""

    PER_OCTAVE = 32

    def __init__(self) -> None:
        self.counts = [0] * (64 * self.PER_OCTAVE)
        self.total = 0
        self.max_ns = 0

    def add(self, ns: int) -> None:
        self.counts[int(math.log2(max(ns, 1)) * self.PER_OCTAVE)] += 1
        self.total += 1
        self.max_ns = max(self.max_ns, ns)

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.total += other.total
        self.max_ns = max(self.max_ns, other.max_ns)

    def percentile_us(self, q: float) -> float | None:
        """The q-th percentile in microseconds (the bucket's middle), None when empty."""
        if not self.total:
            return None
        rank = q / 100.0 * self.total
        seen = 0
        for bucket, count in enumerate(self.counts):
            seen += count
            if seen >= rank and count:
                return 2 ** ((bucket + 0.5) / self.PER_OCTAVE) / 1000.0
        return self.max_ns / 1000.0

    def summary(self) -> dict[str, float | int | None]:
        summary: dict[str, float | int | None] = {"count": self.total}
        for q in (50, 95, 99, 99.9):
            summary[f"p{q:g}_us"] = self.percentile_us(q)
        summary["max_us"] = self.max_ns / 1000.0 if self.total else None
        return summary


# --------------------------------------------------------------------------------------------
# The flapping collector (a child process)
# --------------------------------------------------------------------------------------------
def serve_collector() -> None:
    """``--collector``: gzip NDJSON on 127.0.0.1; ``POST /mode/<mode>`` switches behaviour;
    ``GET /ids`` lists "eventId seq" per event received (duplicates included)."""
    state: dict[str, Any] = {"mode": "up", "received": [], "requests": {}}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if self.path.startswith("/mode/"):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                state["mode"] = self.path.removeprefix("/mode/")
                return self._answer(200)
            mode = state["mode"]
            with lock:
                state["requests"][mode] = state["requests"].get(mode, 0) + 1
            if mode == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return None
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if mode == "503":
                return self._answer(503)
            if mode == "429":
                return self._answer(429, headers={"Retry-After": "1"})
            events = [json.loads(line) for line in gzip.decompress(body).splitlines()]
            with lock:  # kept before answering, as a real collector does
                state["received"].extend(
                    f"{event['eventId']} {event['attributes'].get('seq', '-')}" for event in events
                )
            if mode == "slow":
                time.sleep(SLOW_S)
            return self._answer(200)

        def do_GET(self) -> None:
            with lock:
                text = (
                    "\n".join(state["received"])
                    if self.path == "/ids"
                    else json.dumps(state["requests"])
                )
            self._answer(200, text.encode())

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Collector:
    """The collector child process, seen from here."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--collector"], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.base = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        self.url = f"{self.base}/v1/events"

    def mode(self, mode: str) -> None:
        httpx.post(f"{self.base}/mode/{mode}", timeout=10.0)

    def received(self) -> list[tuple[str, str]]:
        text = httpx.get(f"{self.base}/ids", timeout=120.0).text
        return [tuple(line.split(" ", 1)) for line in text.splitlines()]  # type: ignore[misc]

    def requests(self) -> dict[str, int]:
        return json.loads(httpx.get(f"{self.base}/requests", timeout=10.0).text)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# --------------------------------------------------------------------------------------------
# The soak
# --------------------------------------------------------------------------------------------
def rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def serve_requests(
    thread: int,
    per_second: float,
    *,
    stop: threading.Event,
    latencies: tuple[Histogram, Histogram],
    evidence: modelflags.Evidence,
    failures: list[str],
) -> int:
    """One thread of "requests" at a fixed rate until ``stop``; returns how many."""
    client = api.get_client()
    evaluations, recordings = latencies
    interval, started, n = 1.0 / per_second, time.monotonic(), 0
    rng = random.Random(thread)
    while not stop.is_set():
        n += 1
        conversation = f"t{thread}-conv-{n}"
        ctx = EvaluationContext(
            targeting_key=conversation,
            attributes={"conversationId": conversation, "accountId": f"acct_{rng.randrange(99)}",
                        "plan": "pro", "channel": "chat"},
        )  # fmt: skip
        t0 = time.perf_counter_ns()
        details = client.get_object_details(FLAG, {}, ctx)
        t1 = time.perf_counter_ns()
        with evidence.exposure(details, ctx) as exposure:
            exposure.record(latency_ms=12.0, estimated_cost=0.002, seq=f"{thread}-{n}")
        t2 = time.perf_counter_ns()
        evaluations.add(t1 - t0)
        recordings.add(t2 - t1)
        if details.error_code is not None and len(failures) < 10:
            failures.append(f"{details.error_code}: {details.error_message}")
        if n % 4 == 0:
            client.track("support_conversation_outcome", ctx, TrackingEventDetails(
                value=1, attributes={"flagKey": FLAG, "seq": f"{thread}-{n}-o"},
            ))  # fmt: skip
        time.sleep(max(0.0, started + n * interval - time.monotonic()))
    return n


def soak(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    flags = folder / "flags"
    flags.mkdir()
    flag_file = flags / "support.yaml"
    text = (ROOT / "flags" / "support.yaml").read_text()
    assert SPLITS[0] in text, "flags/support.yaml changed: update SPLITS"
    flag_file.write_text(text)
    collector = Collector()
    evidence = modelflags.Evidence(
        HttpTracker(collector.url, timeout=TRACKER_TIMEOUT_S), spill_dir=folder / "spill"
    )
    provider = modelflags.ModelFlagsProvider(flags, evidence=evidence, poll_interval=0.25)
    api.set_provider_and_wait(provider)
    stop = threading.Event()
    per_thread = args.rate / args.threads
    histograms = [(Histogram(), Histogram()) for _ in range(args.threads)]
    failures: list[str] = []
    counts: list[int] = [0] * args.threads
    samples: list[dict[str, Any]] = []
    reloads = flaps = 0

    def worker(index: int) -> None:
        counts[index] = serve_requests(index, per_thread, stop=stop, latencies=histograms[index],
                                       evidence=evidence, failures=failures)  # fmt: skip

    def background() -> None:
        nonlocal reloads, flaps
        started = time.monotonic()
        next_reload, next_flap, next_sample = args.reload_every, args.flap_every, 0.0
        while not stop.wait(0.05):
            now = time.monotonic() - started
            if now >= next_sample:
                samples.append({"t": round(now, 1), "rss_mib": rss_mib(),
                                **{k: evidence.counters[k] for k in
                                   ("queued", "spooled", "delivered", "dropped")}})  # fmt: skip
                next_sample += 1.0
            if now >= next_reload:
                reloads += 1
                staged = flags / ".support.yaml.tmp"
                staged.write_text(text.replace(SPLITS[0], SPLITS[reloads % 2]))
                staged.replace(flag_file)  # atomic, as a deploy does
                next_reload += args.reload_every
            if now >= next_flap:
                flaps += 1
                collector.mode(MODES[flaps % len(MODES)])
                next_flap += args.flap_every

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    side = threading.Thread(target=background)
    began = time.monotonic()
    try:
        for thread in [*threads, side]:
            thread.start()
        time.sleep(args.duration)
        stop.set()
        for thread in [*threads, side]:
            thread.join()
        elapsed = time.monotonic() - began
        collector.mode("up")
        settled = evidence.flush(timeout=120)
        api.shutdown()  # closes the evidence
        received = collector.received()
        requests = collector.requests()
    finally:
        collector.stop()
    counters = evidence.counters
    evaluations, recordings = Histogram(), Histogram()
    for ev, rec in histograms:
        evaluations.merge(ev)
        recordings.merge(rec)
    expected = {f"{t}-{n}" for t in range(args.threads) for n in range(1, counts[t] + 1)}
    expected |= {f"{t}-{n}-o" for t in range(args.threads) for n in range(4, counts[t] + 1, 4)}
    unique = dict(received)  # eventId -> seq, duplicates removed
    arrived = list(unique.values())
    lost = len(expected - set(arrived))
    rss = [sample["rss_mib"] for sample in samples if sample["rss_mib"] is not None]
    result = {
        "duration_s": round(elapsed, 1),
        "requests": sum(counts),
        "events_recorded": counters["recorded"],
        "events_expected": len(expected),
        "events_arrived_unique": len(unique),
        "events_lost": lost,
        "duplicates_received": len(received) - len(unique),
        "seq_arrived_twice": len(arrived) - len(set(arrived)),
        "failed_evaluations": len(failures),
        "failure_examples": failures,
        "flushed": settled,
        "reloads": reloads,
        "collector_flaps": flaps,
        "collector_requests": requests,
        "counters": counters,
        "evaluation_latency": evaluations.summary(),
        "recording_latency": recordings.summary(),
        "rss_mib": {
            "first": rss[0] if rss else None,
            "max": max(rss) if rss else None,
            "last": rss[-1] if rss else None,
        },
        "samples": samples,
    }
    result["ok"] = (
        lost == 0 and not failures and counters["dropped"] == 0 and counters["failed"] == 0
        and result["seq_arrived_twice"] == 0
    )  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds (default 180)")
    parser.add_argument("--rate", type=float, default=2000.0,
                        help="requests per second, all threads (default 2000)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=4, help="request threads (default 4)")
    parser.add_argument("--reload-every", type=float, default=2.0, help="seconds (default 2)")
    parser.add_argument("--flap-every", type=float, default=3.0, help="seconds (default 3)")
    parser.add_argument("--smoke", action="store_true",
                        help="5 s at 400 requests/s, frequent reloads and flaps")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--collector", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.collector:
        serve_collector()
        return 0
    if args.smoke:
        args.duration, args.rate, args.reload_every, args.flap_every = 5.0, 400.0, 1.0, 0.7

    print(f"python {platform.python_version()}, modelflags {modelflags.__version__}; "
          f"{args.duration:g} s at {args.rate:g} requests/s in {args.threads} threads; "
          f"reload every {args.reload_every:g} s, collector flaps every {args.flap_every:g} s "
          f"({', '.join(MODES)})", flush=True)  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="modelflags-soak-"))
    try:
        result = soak(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def us(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.1f}"

    ev, rec, rss = result["evaluation_latency"], result["recording_latency"], result["rss_mib"]
    print(f"requests: {result['requests']:,} in {result['duration_s']} s; "
          f"{result['reloads']} reloads, {result['collector_flaps']} collector flaps "
          f"{result['collector_requests']}")  # fmt: skip
    print(
        f"evaluation latency us: p50 {us(ev['p50_us'])}, p95 {us(ev['p95_us'])}, "
        f"p99 {us(ev['p99_us'])}, p99.9 {us(ev['p99.9_us'])}, max {us(ev['max_us'])}"
    )
    print(
        f"recording latency us: p50 {us(rec['p50_us'])}, p95 {us(rec['p95_us'])}, "
        f"p99 {us(rec['p99_us'])}, p99.9 {us(rec['p99.9_us'])}, max {us(rec['max_us'])}"
    )
    print(f"rss MiB: first {us(rss['first'])}, max {us(rss['max'])}, last {us(rss['last'])}")
    print(f"events: {result['events_expected']:,} recorded, {result['events_arrived_unique']:,} "
          f"arrived (unique eventIds), {result['duplicates_received']:,} duplicates received; "
          f"events lost: {result['events_lost']}; failed evaluations: "
          f"{result['failed_evaluations']}")  # fmt: skip
    print(f"counters: {result['counters']}")
    print("ok" if result["ok"] else f"NOT OK: {result['failure_examples']}")
    if args.json:
        result.update({
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "machine": platform.platform(),
            "cpus": os.cpu_count(), "params": {k: v for k, v in vars(args).items() if k != "json"},
        })  # fmt: skip
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
