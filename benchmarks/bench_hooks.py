"""What the OpenTelemetry hook and the assignment logger add to one evaluation.

Rows, all timed in this one process through the real OpenFeature client and
``ModelFlagsProvider``, over the same seeded contexts, batches interleaved (a, b, c, d, e, a,
b, ...) so that machine drift hits every row alike:

* (a) no hook: ``client.get_object_details`` (the baseline)
* (a2) an empty ``Hook()``: what OpenFeature itself costs per registered hook (its stages
  are called, and do nothing), the floor under every hook below
* (b) ``OtelHook``, no recording span current (the hook looks, and does nothing)
* (c) ``OtelHook`` inside a recording span of the OTel SDK (one ``feature_flag.evaluation``
  span event per evaluation; the span keeps its last 128 events, the SDK's default limit)
* (d) ``AssignmentLogger``, steady state: every (unit, flag, variation) already recorded
  during the warm-up, so each evaluation is a de-duplication hit
* (e) ``AssignmentLogger``, first sight: every evaluation is of a unit never seen, so each
  one builds an ``assignment`` event and queues it to the evidence (its background thread
  hands it to a tracker that keeps nothing)

Each row's overhead is its median µs per evaluation minus row (a)'s. Before timing, every
row is checked: (c)'s span received events with the right flag key, (d) recorded exactly one
assignment per context, (e) one per evaluation; a failed check is reported as WRONG and makes
the exit status 1.

Usage (from the project root)::

    PYTHONPATH=src python benchmarks/bench_hooks.py [--json results.json]
    BENCH_EVALS=2000 BENCH_REPEATS=1 PYTHONPATH=src python benchmarks/bench_hooks.py

Environment: BENCH_EVALS (evaluations per batch, 20000), BENCH_REPEATS (batches, 7),
BENCH_WARMUP (warm-up evaluations, 5000), BENCH_CONTEXTS (contexts, 10000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.hook import Hook
from opentelemetry.sdk.trace import TracerProvider

import modelflags
from modelflags.integrations.assignments import AssignmentLogger
from modelflags.integrations.otel import OtelHook
from modelflags.testing import provider_from_yaml

FLAG_KEY = "support_answer_model_route"
FLAG_YAML = """\
version: 1
flags:
  support_answer_model_route:
    default: control
    variations:
      control: {modelRoute: model_a, promptVersion: v3}
      candidate: {modelRoute: model_b, promptVersion: v3}
      fallback: {modelRoute: model_a, promptVersion: v3, retrievalProfile: safe}
    assignment: {unit: conversation, key: conversationId}
    rules:
      - name: excluded_accounts
        when: {accountId: {$in: [acct-007, acct-023, acct-041]}}
        serve: fallback
    split: {control: 90, candidate: 10}
    experiment: {key: support-route-2026-11, control: control}
"""
SEED = 20261129

N_CONTEXTS = int(os.environ.get("BENCH_CONTEXTS", "10000"))
EVALS = int(os.environ.get("BENCH_EVALS", "20000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5000"))


def make_contexts(n: int, seed: int = SEED, prefix: str = "conv") -> list[EvaluationContext]:
    """``n`` distinct conversations (64-bit ids), each with one of 50 accounts."""
    rng = random.Random(seed)
    ids = {f"{prefix}-{rng.getrandbits(64):016x}" for _ in range(n)}
    while len(ids) < n:
        ids.add(f"{prefix}-{rng.getrandbits(64):016x}")
    return [
        EvaluationContext(
            attributes={"conversationId": unit, "accountId": f"acct-{rng.randrange(50):03d}"}
        )
        for unit in sorted(ids)
    ]


class Discard:
    """A tracker that keeps nothing: the first-sight row measures the request path only."""

    def __init__(self) -> None:
        self.count = 0

    def emit(self, events: Sequence[dict[str, Any]], timeout: float | None = None) -> None:
        self.count += len(events)

    def flush(self, timeout: float | None = None) -> None:
        return

    def close(self) -> None:
        return


class Row:
    def __init__(
        self,
        key: str,
        name: str,
        client: Any,
        contexts: Callable[[int], Sequence[EvaluationContext]],
        around: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        self.key, self.name, self.client = key, name, client
        self.contexts = contexts  # batch number -> the contexts of that batch
        self.around = around
        self.batch_ns: list[int] = []
        self.check = "ok"

    def run(self, batch: int, n: int) -> int:
        contexts = self.contexts(batch)
        get = self.client.get_object_details
        count = len(contexts)
        with self.around():
            gc.collect()
            start = time.perf_counter_ns()
            for i in range(n):
                get(FLAG_KEY, {}, contexts[i % count])
            return time.perf_counter_ns() - start

    @property
    def median_us(self) -> float:
        return statistics.median(self.batch_ns) / EVALS / 1000.0

    @property
    def min_us(self) -> float:
        return min(self.batch_ns) / EVALS / 1000.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)

    contexts = make_contexts(N_CONTEXTS)
    fresh_batches = [  # row (e): units never seen, WARMUP or EVALS of them per batch
        make_contexts(max(EVALS, WARMUP), seed=SEED + batch, prefix=f"new{batch}")
        for batch in range(-1, REPEATS)
    ]
    api.set_provider_and_wait(provider_from_yaml(FLAG_YAML))

    def client(name: str, *hooks: Any) -> Any:
        c = api.get_client(name)
        c.add_hooks(list(hooks))
        return c

    tracer = TracerProvider().get_tracer("bench")  # no processor: spans recorded, dropped
    spans: list[Any] = []

    @contextmanager
    def recording_span() -> Iterator[Any]:
        with tracer.start_as_current_span("request") as span:
            spans.append(span)
            yield span

    steady = modelflags.Evidence(Discard(), queue_size=1_000_000)
    steady_logger = AssignmentLogger(steady)
    first_tracker = Discard()
    first = modelflags.Evidence(first_tracker, queue_size=1_000_000)
    first_logger = AssignmentLogger(first, dedupe_size=1_000_000)

    rows = [
        Row("a", "no hook (baseline)", client("plain"), lambda b: contexts),
        Row("a2", "empty Hook() (OpenFeature's own cost)", client("empty", Hook()),
            lambda b: contexts),
        Row("b", "OtelHook, no recording span", client("otel-idle", OtelHook()),
            lambda b: contexts),
        Row("c", "OtelHook, recording span", client("otel", OtelHook()), lambda b: contexts,
            around=recording_span),
        Row("d", "AssignmentLogger, seen before", client("assign", steady_logger),
            lambda b: contexts),
        Row("e", "AssignmentLogger, first sight", client("assign-new", first_logger),
            lambda b: fresh_batches[b + 1]),
    ]  # fmt: skip

    # warm-up: batch -1 (also records every context of row d once)
    for row in rows:
        row.run(-1, max(WARMUP, len(contexts)) if row.key == "d" else WARMUP)

    # checks
    row_of = {row.key: row for row in rows}
    events = list(spans[-1].events) if spans else []
    if not events or any(e.attributes.get("feature_flag.key") != FLAG_KEY for e in events):
        row_of["c"].check = "WRONG: no feature_flag.evaluation events on the span"
    if steady_logger.counters["recorded"] != len(contexts):
        row_of["d"].check = f"WRONG: {steady_logger.counters['recorded']} recorded"
    if first_logger.counters["recorded"] != WARMUP or first_logger.counters["duplicates"]:
        row_of["e"].check = f"WRONG: {first_logger.counters}"
    failures = [f"{row.key}: {row.check}" for row in rows if row.check != "ok"]

    for batch in range(REPEATS):
        for row in rows:
            row.batch_ns.append(row.run(batch, EVALS))

    first_counts = first_logger.counters
    if first_counts["recorded"] != WARMUP + REPEATS * EVALS:
        failures.append(f"e: {first_counts['recorded']} recorded, not one per evaluation")
    if not first.flush(timeout=60) or first_tracker.count != first_counts["recorded"]:
        failures.append(f"e: {first_tracker.count} delivered of {first_counts['recorded']}")
    steady.close()
    first.close()
    api.shutdown()

    base = rows[0].median_us
    lines = [
        f"modelflags hook overhead, {REPEATS} x {EVALS:,} evaluations per row, "
        f"{len(contexts):,} contexts, Python {platform.python_version()}",
        "",
        "| row | us/eval median | us/eval min | overhead us | overhead | check |",
        "|---|---:|---:|---:|---:|---|",
    ]
    result_rows = []
    for row in rows:
        extra = row.median_us - base
        lines.append(
            f"| ({row.key}) {row.name} | {row.median_us:.3f} | {row.min_us:.3f} | "
            f"{extra:+.3f} | {extra / base:+.1%} | {row.check} |"
        )
        result_rows.append({
            "key": row.key, "name": row.name, "median_us": row.median_us,
            "min_us": row.min_us, "overhead_us": extra, "check": row.check,
        })  # fmt: skip
    print("\n".join(lines))
    for failure in failures:
        print(f"WRONG {failure}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({
                "ok": not failures, "failures": failures, "rows": result_rows,
                "evals": EVALS, "repeats": REPEATS, "contexts": len(contexts),
                "python": platform.python_version(), "platform": platform.platform(),
                "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }, out, indent=2)  # fmt: skip
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
