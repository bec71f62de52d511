"""Evidence benchmark: the cost of recording exposures, and how fast trackers take them.

Sections, all in one run (the targets are the project's performance goals):

1. **Exposure cost on the request path** (target <= 5 us):
   ``with evidence.exposure(details, ctx) as x: x.record(estimated_cost=...)`` where
   ``details`` is an OpenFeature ``FlagEvaluationDetails`` from the real provider (the repo's
   ``flags/support.yaml``). Rows, batches interleaved (e, f, g, e, ...):

   * (e) background thread idle: a huge ``batch_size``/``flush_interval`` keep the thread
     asleep during the timed batch (it would compete for the GIL); the queue is drained,
     untimed, between batches;
   * (f) floor: two clock reads, one wall-clock read, a plain dict of the same facts, appended
     to a ``deque``;
   * (g) background thread live (default ``Evidence`` options, ``JsonlTracker``): the
     application thread's time per exposure while the thread drains beside it, and the whole
     process's time per event (recording + ``flush()``), the honest cost of one event.

2. **JSONL throughput** (target >= 200,000 events/s): (a) ``JsonlTracker.emit`` of finished
   event dicts in batches of 512 to a real file (the tracker alone, encoding included); (b)
   end to end, N exposures recorded by the application thread while the dispatcher drains to
   a ``JsonlTracker``, from the first record to ``flush()`` returning; (b') the same with a
   ``JsonlProcessTracker`` (encoding and writing in a writer process; the writer is started
   by one untimed exposure first), with the application process's CPU time per event; (c)
   the background thread alone: N exposures queued while it sleeps, then timed from
   ``flush()`` to its return (build, encode and write per event, batches of 512). Each file
   is verified: N parseable lines, every eventId unique.

3. **HTTP throughput** to a local collector (a ``ThreadingHTTPServer`` on 127.0.0.1, port 0,
   in a child process so that it does not share this process's GIL) that accepts gzip NDJSON:
   events/s through ``HttpTracker`` via an ``Evidence``; every eventId the tracker was handed
   is verified as arrived.

4. **Memory while the collector is down**: the collector answers 503; ``Evidence(HttpTracker
   (url), spill_dir=...)`` with the default options; N exposures recorded (in chunks of
   5,000, each followed by a short pause, an application that does not outrun the thread).
   Peak traced memory (``tracemalloc``) after each quarter of the events and the spool's size
   on disk show that memory stays bounded; then the collector comes back and every event
   must arrive (replay), none dropped.

GC stays on everywhere (time spent in collections is measured with ``gc.callbacks`` and
reported per section). Correctness checks run before timing; a failed check shows as WRONG
and makes the exit status 1.

Usage (from the project root)::

    PYTHONPATH=src python benchmarks/bench_evidence.py [--json results.json]

Environment: BENCH_EXPOSURES (exposures per timed batch, 100000), BENCH_REPEATS (batches,
5), BENCH_WARMUP (warm-up exposures, 10000), BENCH_EVENTS (events per JSONL run, 200000),
BENCH_HTTP_EVENTS (events per HTTP run, 100000), BENCH_DOWN_EVENTS (events recorded while the
collector is down, 200000), BENCH_CONTEXTS (distinct contexts, 1000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import gzip
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

import modelflags
from modelflags.evidence.http_tracker import HttpTracker
from modelflags.evidence.jsonl_tracker import rotated_files
from modelflags.evidence.tracker import Event

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ROOT / "flags" / "support.yaml"
FLAG_KEY = "support_answer_model_route"
COST = 0.0021

EXPOSURES = int(os.environ.get("BENCH_EXPOSURES", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "10000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))
HTTP_EVENTS = int(os.environ.get("BENCH_HTTP_EVENTS", "100000"))
DOWN_EVENTS = int(os.environ.get("BENCH_DOWN_EVENTS", "200000"))
N_CONTEXTS = int(os.environ.get("BENCH_CONTEXTS", "1000"))
EMIT_BATCH = 512
DOWN_CHUNK = 5000

TARGET_EXPOSURE_US = 5.0  # goal: exposure recording at most 5 us
TARGET_JSONL_PER_S = 200_000  # goal: JSONL sustained at least 200k events/s

Pair = tuple[Any, EvaluationContext]


# --------------------------------------------------------------------------------------------
# Helpers: GC accounting, files, the contexts and their evaluations
# --------------------------------------------------------------------------------------------
class GcClock:
    """Time spent in garbage collections while installed (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.ns = 0
        self.collections = [0, 0, 0]
        self._start = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter_ns()
        else:
            self.ns += time.perf_counter_ns() - self._start
            self.collections[info["generation"]] += 1

    @contextmanager
    def installed(self) -> Iterator[GcClock]:
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


def check_jsonl(path: Path, expected: int) -> dict[str, Any]:
    """Every line parses, there are ``expected`` of them, and every eventId is unique.

    Rotated files (``NAME.1.jsonl``, ...) count too.
    """
    lines = [
        line for part in [*rotated_files(path), path] for line in part.read_bytes().splitlines()
    ]
    ids: set[str] = set()
    bad = 0
    for line in lines:
        try:
            event = json.loads(line)
            ids.add(event["eventId"])
            bad += event["event"] != "exposure" or event["unitId"] is None
        except (ValueError, KeyError, TypeError):
            bad += 1
    ok = len(lines) == expected and len(ids) == expected and bad == 0
    return {"ok": ok, "lines": len(lines), "unique_ids": len(ids), "bad": bad}


def make_pairs(client: Any) -> list[Pair]:
    """Contexts of paid support chats and their evaluation details (real provider)."""
    pairs = []
    for i in range(N_CONTEXTS):
        conversation = f"conv-{i:06d}"
        ctx = EvaluationContext(
            targeting_key=conversation,
            attributes={"conversationId": conversation, "plan": "pro", "channel": "chat"},
        )
        pairs.append((client.get_object_details(FLAG_KEY, {}, ctx), ctx))
    return pairs


def cycle(pairs: list[Pair], n: int) -> list[Pair]:
    return [pairs[i % len(pairs)] for i in range(n)]


def record_all(evidence: modelflags.Evidence, batch: Sequence[Pair]) -> None:
    """The application: one exposure per request, its cost recorded."""
    exposure = evidence.exposure
    for details, ctx in batch:
        with exposure(details, ctx) as x:
            x.record(estimated_cost=COST)


def check_events(events: list[Event], pairs: list[Pair]) -> dict[str, Any]:
    """The exposures of ``pairs`` carry the evaluation's join keys and what was recorded."""
    bad: list[str] = []
    for event, (details, ctx) in zip(events, pairs, strict=True):
        expected = {
            "event": "exposure",
            "flagKey": FLAG_KEY,
            "unitId": ctx.targeting_key,
            "variation": details.variant,
            "assignedVariation": details.variant,
            "experimentKey": details.flag_metadata["experimentKey"],
            "configVersion": details.flag_metadata["configVersion"],
            "modelRoute": details.value["modelRoute"],
            "estimatedCost": COST,
            "fallbackUsed": False,
        }
        wrong = {k: event.get(k) for k, v in expected.items() if event.get(k) != v}
        if not isinstance(event.get("latencyMs"), float) or not str(event["timestamp"]).endswith(
            "Z"
        ):
            wrong["latencyMs/timestamp"] = (event.get("latencyMs"), event.get("timestamp"))
        if wrong and len(bad) < 3:
            bad.append(f"{ctx.targeting_key}: {wrong}")
    variants = {details.variant for details, _ in pairs}
    ok = not bad and len(events) == len(pairs) and variants <= {"control", "candidate"}
    return {"ok": ok, "events": len(events), "variants": sorted(map(str, variants)), "bad": bad}


# --------------------------------------------------------------------------------------------
# 1. Exposure cost on the request path
# --------------------------------------------------------------------------------------------
def exposure_cost(pairs: list[Pair], folder: Path) -> dict[str, Any]:
    # correctness first: the events, as a tracker receives them
    memory = modelflags.MemoryTracker()
    checked = modelflags.Evidence(memory)
    record_all(checked, pairs)
    checked.close()
    check = check_events(memory.events, pairs)
    print(f"check exposures: {'ok' if check['ok'] else 'WRONG'} ({check})")

    batch = cycle(pairs, EXPOSURES)
    idle = modelflags.Evidence(
        modelflags.JsonlTracker(folder / "idle.jsonl", fsync="never"),
        queue_size=EXPOSURES + WARMUP,
        batch_size=10**9,  # never wakes the thread early ...
        flush_interval=3600.0,  # ... nor on a timer: it sleeps through the timed batch
    )
    live_path = folder / "live.jsonl"
    live = modelflags.Evidence(modelflags.JsonlTracker(live_path), queue_size=EXPOSURES)
    floor_queue: deque[dict[str, Any]] = deque()

    def run_idle() -> tuple[int, int]:
        t0 = time.perf_counter_ns()
        record_all(idle, batch)
        elapsed = time.perf_counter_ns() - t0
        idle.flush(None)  # untimed drain (its collections count against its time, for gc_share)
        return elapsed, time.perf_counter_ns() - t0

    def run_floor() -> tuple[int, int]:
        append, perf_counter, now = floor_queue.append, time.perf_counter, time.time
        t0 = time.perf_counter_ns()
        for details, ctx in batch:
            start = perf_counter()
            append(
                {
                    "details": details,
                    "context": ctx,
                    "estimatedCost": COST,
                    "latencyMs": (perf_counter() - start) * 1000.0,
                    "timestamp": now(),
                }
            )
        elapsed = time.perf_counter_ns() - t0
        floor_queue.clear()
        return elapsed, 0

    def run_live() -> tuple[int, int]:
        t0 = time.perf_counter_ns()
        record_all(live, batch)
        recorded = time.perf_counter_ns() - t0
        live.flush(None)
        return recorded, time.perf_counter_ns() - t0

    rows = {"e": run_idle, "f": run_floor, "g": run_live}
    record_all(idle, cycle(pairs, WARMUP))
    idle.flush(None)
    times: dict[str, list[tuple[int, int]]] = {key: [] for key in rows}
    gc_ns = dict.fromkeys(rows, 0)
    for _ in range(REPEATS):
        for key, run in rows.items():
            gc.collect()
            with GcClock().installed() as clock:
                times[key].append(run())
            gc_ns[key] += clock.ns
    idle.close()
    live.close()
    live_check = check_jsonl(live_path, EXPOSURES * REPEATS)
    dropped = idle.counters["dropped"] + live.counters["dropped"]
    print(f"check live file: {'ok' if live_check['ok'] else 'WRONG'} ({live_check})")

    def us(key: str, which: int) -> list[float]:
        return [t[which] / EXPOSURES / 1000.0 for t in times[key]]

    result = {
        "check": check,
        "live_file": live_check,
        "dropped": dropped,
        "us": {
            "e_idle": us("e", 0),
            "f_floor": us("f", 0),
            "g_live_app": us("g", 0),
            "g_live_whole": us("g", 1),
        },
        "gc_share": {
            key: gc_ns[key] / max(1, sum(t[1] or t[0] for t in times[key])) for key in rows
        },
    }
    result["ok"] = check["ok"] and live_check["ok"] and dropped == 0
    return result


# --------------------------------------------------------------------------------------------
# 2. JSONL throughput
# --------------------------------------------------------------------------------------------
def jsonl_throughput(pairs: list[Pair], folder: Path) -> dict[str, Any]:
    # finished events, as the dispatcher hands them to a tracker
    memory = modelflags.MemoryTracker()
    source = modelflags.Evidence(memory, queue_size=EVENTS)
    record_all(source, cycle(pairs, EVENTS))
    source.close()
    events = list(memory.events)
    del memory

    emit_s: list[float] = []
    ends: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
    thread_s: list[float] = []
    checks: list[dict[str, Any]] = []
    gc_ns = {"emit": 0, "e2e": 0}
    batch = cycle(pairs, EVENTS)
    for repeat in range(REPEATS):
        # (a) the tracker alone
        path = folder / f"emit-{repeat}.jsonl"
        tracker = modelflags.JsonlTracker(path)
        gc.collect()
        with GcClock().installed() as clock:
            t0 = time.perf_counter_ns()
            for start in range(0, len(events), EMIT_BATCH):
                tracker.emit(events[start : start + EMIT_BATCH])
            tracker.flush()
            emit_s.append((time.perf_counter_ns() - t0) / 1e9)
        gc_ns["emit"] += clock.ns
        tracker.close()
        checks.append(check_jsonl(path, EVENTS))
        path.unlink()

        # (b) end to end: record while the dispatcher drains, until flush() returns, to a
        # JsonlTracker and (b') to a JsonlProcessTracker, with both cores free and with one
        # kept busy by another process
        for name, kind in (("thread", modelflags.JsonlTracker),
                           ("process", modelflags.JsonlProcessTracker)):  # fmt: skip
            for busy in (False, True):
                run = end_to_end(kind, folder / f"{name}-{busy}-{repeat}.jsonl", batch, busy)
                ends[name, busy].append(run)
                checks.append(run["check"])
                if name == "thread" and not busy:
                    gc_ns["e2e"] += run["gc_ns"]

        # (c) the thread alone: queued while it sleeps, then drained in batches of 512
        path = folder / f"thread-{repeat}.jsonl"
        asleep = modelflags.Evidence(
            modelflags.JsonlTracker(path), queue_size=EVENTS, batch_size=10**9,
            flush_interval=3600.0,
        )  # fmt: skip
        record_all(asleep, batch)
        asleep._dispatcher.batch_size = EMIT_BATCH  # (private: the batches it will take)
        gc.collect()
        t0 = time.perf_counter_ns()
        asleep.flush(None)
        thread_s.append((time.perf_counter_ns() - t0) / 1e9)
        asleep.close()
        checks.append(check_jsonl(path, EVENTS))
        path.unlink()
    ok = all(c["ok"] for c in checks)
    print(f"check jsonl files: {'ok' if ok else 'WRONG'} ({checks[-2]}, {checks[-1]})")
    return {
        "ok": ok,
        "checks": checks,
        "emit_per_s": [EVENTS / s for s in emit_s],
        "end_to_end": {
            f"{name}{', one core busy' if busy else ''}": {
                "per_s": [EVENTS / run["seconds"] for run in runs],
                "app_cpu_us": [run["app_cpu"] / EVENTS * 1e6 for run in runs],
                "writer_cpu_us": [run["writer_cpu"] / EVENTS * 1e6 for run in runs],
            }
            for (name, busy), runs in ends.items()
        },
        "thread_us": [s / EVENTS * 1e6 for s in thread_s],
        "gc_share": {
            "emit": gc_ns["emit"] / 1e9 / sum(emit_s),
            "e2e": gc_ns["e2e"] / 1e9 / sum(run["seconds"] for run in ends["thread", False]),
        },
    }


def end_to_end(kind: Any, path: Path, batch: Sequence[Pair], busy: bool) -> dict[str, Any]:
    """Record ``batch`` while the dispatcher delivers to ``kind(path)``, until ``flush()``
    returns (one exposure before, untimed, starts a writer process): seconds, the application
    process's CPU seconds, its children's (the writer's, counted once it is reaped at close,
    its start-up included), the file's check and the time in collections; ``busy``: with a
    process spinning on one core meanwhile."""
    # queue_size=EVENTS: the application records faster than any tracker takes events;
    # a smaller queue would drop (counted) instead of measuring sustained delivery.
    evidence = modelflags.Evidence(kind(path), queue_size=EVENTS)
    record_all(evidence, batch[:1])
    evidence.flush(None)
    gc.collect()
    with busy_core() if busy else nullcontext(), GcClock().installed() as clock:
        c0, t0 = time.process_time(), time.perf_counter_ns()
        record_all(evidence, batch)
        evidence.flush(None)
        seconds = (time.perf_counter_ns() - t0) / 1e9
        app_cpu = time.process_time() - c0
    children = children_cpu()  # (the spinner's included: reaped by now; the writer is not)
    evidence.close()
    check = check_jsonl(path, EVENTS + 1)
    check["dropped"] = evidence.counters["dropped"]
    check["ok"] = check["ok"] and check["dropped"] == 0
    path.unlink()
    return {"seconds": seconds, "app_cpu": app_cpu, "writer_cpu": children_cpu() - children,
            "check": check, "gc_ns": clock.ns}  # fmt: skip


def children_cpu() -> float:
    """CPU seconds of this process's children that were reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def busy_core() -> Iterator[None]:
    """Another process spinning on one core: a machine that is not all this one's."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # running before the timing starts
        yield
    finally:
        spinner.kill()
        spinner.wait()


# --------------------------------------------------------------------------------------------
# 3 and 4. The HTTP collector (a child process) and the tracker
# --------------------------------------------------------------------------------------------
def serve_collector() -> None:
    """``--collector``: accept gzip NDJSON on 127.0.0.1, remember eventIds; 503 when down.

    ``POST /mode/down`` and ``POST /mode/up`` switch; ``GET /ids`` lists the eventIds
    received (one a line, duplicates included); the port is printed on stdout.
    """
    state: dict[str, Any] = {"down": False, "ids": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real collectors do

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path.startswith("/mode/"):
                state["down"] = self.path == "/mode/down"
                return self._answer(200)
            if state["down"]:
                return self._answer(503)
            lines = gzip.decompress(body).splitlines()
            state["ids"].extend(json.loads(line)["eventId"] for line in lines)
            return self._answer(200)

        def do_GET(self) -> None:
            self._answer(200, "\n".join(state["ids"]).encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
        self.url = f"{self.base}/events"

    def mode(self, mode: str) -> None:
        httpx.post(f"{self.base}/mode/{mode}")

    def ids(self) -> list[str]:
        text = httpx.get(f"{self.base}/ids", timeout=60.0).text
        return text.split("\n") if text else []

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class WitnessTracker(HttpTracker):
    """An HttpTracker that notes the eventIds it was handed (to verify arrival) in a file, so
    that the witness does not count as the tracker's memory."""

    def __init__(self, url: str, witness: Path, **options: Any) -> None:
        super().__init__(url, **options)
        self.witness = witness.open("a", encoding="utf-8")

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        self.witness.write("".join([event["eventId"] + "\n" for event in events]))
        super().emit(events, timeout)

    def handed(self) -> list[str]:
        self.witness.flush()
        return Path(self.witness.name).read_text(encoding="utf-8").splitlines()


def arrival(tracker: WitnessTracker, received: list[str]) -> dict[str, Any]:
    """Every event handed to the tracker (retries hand some more than once) arrived."""
    listed = tracker.handed()
    handed, arrived = set(listed), set(received)
    return {
        "ok": handed == arrived,
        "handed": len(handed),
        "handed_again": len(listed) - len(handed),
        "arrived_unique": len(arrived),
        "arrived_duplicates": len(received) - len(arrived),
        "missing": len(handed - arrived),
    }


def http_throughput(pairs: list[Pair], folder: Path) -> dict[str, Any]:
    per_s: list[float] = []
    checks: list[dict[str, Any]] = []
    batch = cycle(pairs, HTTP_EVENTS)
    for repeat in range(REPEATS):
        collector = Collector()
        try:
            tracker = WitnessTracker(collector.url, folder / f"http-{repeat}.ids")
            evidence = modelflags.Evidence(tracker, queue_size=HTTP_EVENTS)
            gc.collect()
            t0 = time.perf_counter_ns()
            record_all(evidence, batch)
            evidence.flush(None)
            per_s.append(HTTP_EVENTS / ((time.perf_counter_ns() - t0) / 1e9))
            evidence.close()
            check = arrival(tracker, collector.ids())
            check["ok"] = check["ok"] and check["handed"] == HTTP_EVENTS
            checks.append(check)
        finally:
            collector.stop()
    ok = all(c["ok"] for c in checks)
    print(f"check http arrivals: {'ok' if ok else 'WRONG'} ({checks[-1]})")
    return {"ok": ok, "checks": checks, "per_s": per_s}


def memory_while_down(pairs: list[Pair], folder: Path) -> dict[str, Any]:
    collector = Collector()
    try:
        collector.mode("down")
        spill = folder / "spill"
        tracker = WitnessTracker(collector.url, folder / "outage.ids")
        evidence = modelflags.Evidence(tracker, spill_dir=spill)  # the documented set-up
        batch = cycle(pairs, DOWN_EVENTS)
        quarters: list[dict[str, float]] = []
        rss_before = rss_kib()
        gc.collect()
        tracemalloc.start()
        t0 = time.perf_counter()
        for start in range(0, DOWN_EVENTS, DOWN_CHUNK):
            record_all(evidence, batch[start : start + DOWN_CHUNK])
            time.sleep(0.02)  # the thread spills the queue meanwhile
            done = start + DOWN_CHUNK
            if done * 4 // DOWN_EVENTS > len(quarters) or done >= DOWN_EVENTS:
                quarters.append(
                    {
                        "events": min(done, DOWN_EVENTS),
                        "peak_mib": tracemalloc.get_traced_memory()[1] / 2**20,
                        "spool_mib": spool_bytes(spill) / 2**20,
                        "queued": evidence.counters["queued"],
                    }
                )
        recording_s = time.perf_counter() - t0
        tracemalloc.stop()
        rss_after = rss_kib()
        down_counters = evidence.counters
        # the collector comes back: the spool is replayed, nothing is lost
        collector.mode("up")
        t0 = time.perf_counter()
        replayed = evidence.flush(timeout=300)
        replay_s = time.perf_counter() - t0
        evidence.close()
        check = arrival(tracker, collector.ids())
        counters = evidence.counters
        check["ok"] = (
            check["ok"]
            and replayed
            and check["handed"] == DOWN_EVENTS
            and counters["delivered"] == DOWN_EVENTS
            and counters["dropped"] == 0
        )
        check["spool_left"] = spool_bytes(spill)
    finally:
        collector.stop()
    print(f"check replay after outage: {'ok' if check['ok'] else 'WRONG'} ({check})")
    return {
        "ok": check["ok"],
        "check": check,
        "quarters": quarters,
        "down_counters": down_counters,
        "rss_growth_mib": None
        if rss_before is None
        else (rss_after or 0) / 1024 - rss_before / 1024,
        "recording_s": recording_s,
        "replay_s": replay_s,
    }


def spool_bytes(spill: Path) -> int:
    """Bytes of spool segments on disk."""
    return sum(path.stat().st_size for path in spill.glob("spool-*.jsonl"))


def rss_kib() -> int | None:
    """Resident set size now (Linux), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def med(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--collector", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.collector:
        serve_collector()
        return 0

    print(
        f"python {platform.python_version()}, modelflags {modelflags.__version__}; "
        f"{REPEATS} x {EXPOSURES} exposures per row (warm-up {WARMUP}), {N_CONTEXTS} contexts; "
        f"JSONL {EVENTS}, HTTP {HTTP_EVENTS}, outage {DOWN_EVENTS} events"
    )
    api.set_provider_and_wait(modelflags.ModelFlagsProvider(FLAGS), domain="bench-evidence")
    pairs = make_pairs(api.get_client(domain="bench-evidence"))
    with tempfile.TemporaryDirectory(prefix="modelflags-bench-evidence-") as name:
        folder = Path(name)
        try:
            exposure = exposure_cost(pairs, folder)
            jsonl = jsonl_throughput(pairs, folder)
            http = http_throughput(pairs, folder)
            down = memory_while_down(pairs, folder)
        finally:
            api.shutdown()

    us = exposure["us"]
    e, f, g_app, g_whole = (med(us[k]) for k in ("e_idle", "f_floor", "g_live_app", "g_live_whole"))
    ends = jsonl["end_to_end"]
    emit, e2e, http_s = med(jsonl["emit_per_s"]), med(ends["thread"]["per_s"]), med(http["per_s"])
    last = down["quarters"][-1]
    all_ok = exposure["ok"] and jsonl["ok"] and http["ok"] and down["ok"]

    print()
    print(f"exposure, thread idle: {e:.3f} us/exposure median, {min(us['e_idle']):.3f} min  "
          f"(target <= {TARGET_EXPOSURE_US} us)")  # fmt: skip
    print(f"exposure floor (dict + deque): {f:.3f} us; ratio exposure/floor: {e / f:.2f}x")
    print(f"exposure, thread live: {g_app:.3f} us on the application thread, "
          f"{g_whole:.3f} us per event for the whole process")  # fmt: skip
    print(f"jsonl emit (tracker alone): {emit:,.0f} events/s  "
          f"(target >= {TARGET_JSONL_PER_S:,} events/s)")  # fmt: skip
    print(f"jsonl end to end: {e2e:,.0f} events/s  (target >= {TARGET_JSONL_PER_S:,} events/s)")
    for name, end in ends.items():
        print(f"jsonl end to end, {name}: {med(end['per_s']):,.0f} events/s; CPU per event "
              f"{med(end['app_cpu_us']):.3f} us in the application process, "
              f"{med(end['writer_cpu_us']):.3f} us in a writer process")  # fmt: skip
    proc = med(ends["process"]["per_s"])
    thread_us = med(jsonl["thread_us"])
    print(f"jsonl, the thread alone: {thread_us:.3f} us per event (build, encode, write)")
    print(f"http to a local collector: {http_s:,.0f} events/s")
    peaks = ", ".join(f"{q['peak_mib']:.1f}" for q in down["quarters"])
    rss = down["rss_growth_mib"]
    rss_text = "n/a" if rss is None else f"{rss:.1f} MiB"
    print(f"collector down: peak traced memory {peaks} MiB after each quarter of "
          f"{DOWN_EVENTS:,} events; spool {last['spool_mib']:.1f} MiB on disk; "
          f"RSS growth {rss_text}; replayed in {down['replay_s']:.2f} s")  # fmt: skip
    gcs, gcj = exposure["gc_share"], jsonl["gc_share"]
    print(f"gc share of the time: exposure e {gcs['e']:.0%}, f {gcs['f']:.0%}, g {gcs['g']:.0%}; "
          f"jsonl emit {gcj['emit']:.0%}, end to end {gcj['e2e']:.0%}")  # fmt: skip

    def ok(flag: bool) -> str:
        return "ok" if flag else "WRONG"

    print()
    print("| measure | median | min / max | target | check |")
    print("|---|---:|---:|---:|---|")
    print(f"| (e) exposure, thread idle | {e:.3f} us | {min(us['e_idle']):.3f} us | <= 5 us "
          f"| {ok(exposure['ok'])} |")  # fmt: skip
    print(f"| (f) floor: dict + deque.append | {f:.3f} us | {min(us['f_floor']):.3f} us | | |")
    print(f"| ratio e/f | {e / f:.2f}x | | | |")
    print(f"| (g) exposure, thread live: application thread | {g_app:.3f} us "
          f"| {min(us['g_live_app']):.3f} us | | {ok(exposure['live_file']['ok'])} |")  # fmt: skip
    print(f"| (g) exposure, thread live: whole process per event | {g_whole:.3f} us "
          f"| {min(us['g_live_whole']):.3f} us | | |")  # fmt: skip
    print(f"| JSONL `emit`, batches of {EMIT_BATCH} | {emit:,.0f} ev/s "
          f"| {max(jsonl['emit_per_s']):,.0f} ev/s | >= 200,000 | {ok(jsonl['ok'])} |")  # fmt: skip
    for name, end in ends.items():
        rates = end["per_s"]
        print(f"| JSONL end to end ({EVENTS:,} exposures), {name} | {med(rates):,.0f} ev/s "
              f"| {max(rates):,.0f} ev/s | >= 200,000 | {ok(jsonl['ok'])} |")  # fmt: skip
    busy_rates = [med(ends[f"{name}, one core busy"]["per_s"]) for name in ("process", "thread")]
    busy = busy_rates[0] / busy_rates[1]
    print(f"| ratio process / thread, end to end | {proc / e2e:.2f}x (one core busy: "
          f"{busy:.2f}x) | | | |")  # fmt: skip
    print(f"| JSONL, the thread alone, per event | {thread_us:.3f} us "
          f"| {min(jsonl['thread_us']):.3f} us | | {ok(jsonl['ok'])} |")  # fmt: skip
    print(f"| HTTP to a local collector ({HTTP_EVENTS:,} exposures) | {http_s:,.0f} ev/s "
          f"| {max(http['per_s']):,.0f} ev/s | | {ok(http['ok'])} |")  # fmt: skip
    print(f"| collector down: peak traced memory ({DOWN_EVENTS:,} events) "
          f"| {last['peak_mib']:.1f} MiB | | bounded | {ok(down['ok'])} |")  # fmt: skip
    print(f"| collector down: spool on disk | {last['spool_mib']:.1f} MiB | | | |")
    if not all_ok:
        print("\nCORRECTNESS CHECK FAILED (see the check lines above)")

    if args.json:
        result = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "modelflags": modelflags.__version__,
            "params": {
                "exposures": EXPOSURES,
                "repeats": REPEATS,
                "warmup": WARMUP,
                "events": EVENTS,
                "http_events": HTTP_EVENTS,
                "down_events": DOWN_EVENTS,
                "contexts": N_CONTEXTS,
            },
            "exposure": exposure,
            "jsonl": jsonl,
            "http": http,
            "collector_down": down,
            "ok": all_ok,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
