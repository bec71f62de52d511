"""OpenAI integration benchmark: what ``ModelRouter.chat`` adds to a bare client call.

The real ``openai`` client calls a fake OpenAI-compatible server on 127.0.0.1 (the one the
tests use, ``tests/integrations/fake_openai.py``), run in a child process so that it does
not share this process's GIL. Rows, calls interleaved (a, b, a, b, ...) so that drift and
noise hit both alike:

- completion: bare ``client.chat.completions.create(model=..., messages=...)`` beside
  routed ``ModelRouter.chat(ctx, messages=...)`` on the repository's ``flags/support.yaml``
  through the OpenFeature client, priced from ``examples/prices.yaml``, recording to a
  ``JsonlTracker`` (the background thread live);
- stream: the same with ``stream=True``, read to the end (the bare call sets
  ``stream_options={"include_usage": True}``, as the router does);
- async completion: ``AsyncOpenAI`` beside ``AsyncModelRouter``, in one event loop.

Each call is timed alone (``perf_counter_ns``); a row's figure is the median. The overhead is
the median of the paired differences (routed minus the bare call beside it), in
microseconds, with the ratio of the medians. Units cycle over a fixed set of conversations,
so both arms and the fallback-free path are exercised. Correctness checks run after timing:
every routed call recorded exactly one exposure with its tokens and cost; a failed check
shows as WRONG and makes the exit status 1.

Usage (from the project root)::

    PYTHONPATH=src python benchmarks/bench_openai.py [--json results.json]

Environment: BENCH_CALLS (timed calls per row, 2000), BENCH_WARMUP (untimed calls per row
first, 200).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import openai
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

import modelflags
from modelflags import Evidence, JsonlTracker, ModelFlagsProvider, read_events
from modelflags.integrations.openai import AsyncModelRouter, ModelRouter

ROOT = Path(__file__).resolve().parent.parent
CALLS = int(os.environ.get("BENCH_CALLS", "2000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "200"))
FLAG = "support_answer_model_route"
DEFAULT_ROUTE = {"modelRoute": "support_model_a", "promptVersion": "support_v3"}
MESSAGES = [{"role": "user", "content": "Where is my refund?"}]
SERVE = """
import sys
sys.path.insert(0, sys.argv[1])
from fake_openai import FakeOpenAI
with FakeOpenAI() as server:
    print(server.base_url, flush=True)
    sys.stdin.read()  # serve until the benchmark closes our stdin
"""


def contexts(n: int = 64) -> list[EvaluationContext]:
    """Paid chat conversations: every one reaches the split (control or candidate)."""
    return [
        EvaluationContext(
            attributes={
                "conversationId": f"bench-{i}",
                "accountId": f"acct_bench_{i}",
                "plan": "pro",
                "channel": "chat",
            }
        )
        for i in range(n)
    ]


def start_server() -> tuple[subprocess.Popen[str], str]:
    folder = str(ROOT / "tests" / "integrations")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, folder], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def paired(
    bare: Callable[[int], Any], routed: Callable[[int], Any], calls: int, warmup: int
) -> tuple[list[int], list[int]]:
    """Per-call nanoseconds of ``bare`` and ``routed``, interleaved, after a warm-up."""
    for i in range(warmup):
        bare(i)
        routed(i)
    times_bare, times_routed = [], []
    clock = time.perf_counter_ns
    for i in range(calls):
        start = clock()
        bare(i)
        middle = clock()
        routed(i)
        times_bare.append(middle - start)
        times_routed.append(clock() - middle)
    return times_bare, times_routed


async def paired_async(
    bare: Callable[[int], Awaitable[Any]],
    routed: Callable[[int], Awaitable[Any]],
    calls: int,
    warmup: int,
) -> tuple[list[int], list[int]]:
    for i in range(warmup):
        await bare(i)
        await routed(i)
    times_bare, times_routed = [], []
    clock = time.perf_counter_ns
    for i in range(calls):
        start = clock()
        await bare(i)
        middle = clock()
        await routed(i)
        times_bare.append(middle - start)
        times_routed.append(clock() - middle)
    return times_bare, times_routed


def summary(name: str, bare: list[int], routed: list[int]) -> dict[str, Any]:
    differences = [r - b for b, r in zip(bare, routed, strict=True)]
    bare_us, routed_us = statistics.median(bare) / 1e3, statistics.median(routed) / 1e3
    return {
        "name": name, "calls": len(bare), "bare_median_us": bare_us,
        "routed_median_us": routed_us, "overhead_us": statistics.median(differences) / 1e3,
        "ratio": routed_us / bare_us,
    }  # fmt: skip


def check_events(path: Path, routed_calls: int) -> dict[str, Any]:
    events = [event for event in read_events([path]) if event["event"] == "exposure"]
    complete = sum(
        event["promptTokens"] is not None and event["estimatedCost"] is not None
        and not event["error"] for event in events
    )  # fmt: skip
    return {"exposures": len(events), "expected": routed_calls, "complete": complete,
            "ok": len(events) == routed_calls == complete}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, openai {openai.__version__}, "
          f"modelflags {modelflags.__version__}; warm-up {WARMUP}, {CALLS} calls per row, "
          "interleaved; server in a child process")  # fmt: skip
    child, base_url = start_server()
    units = contexts()
    n = len(units)
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="modelflags-bench-") as folder:
            events = Path(folder) / "events.jsonl"
            evidence = Evidence(JsonlTracker(events))
            api.set_provider_and_wait(ModelFlagsProvider(ROOT / "flags", evidence=evidence))
            settings: dict[str, Any] = {
                "flag_key": FLAG, "evidence": evidence, "default_route": DEFAULT_ROUTE,
                "prices": ROOT / "examples" / "prices.yaml", "fallback": "fallback",
            }  # fmt: skip
            client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)
            router = ModelRouter(client, **settings)
            create = client.chat.completions.create

            def bare(i: int) -> Any:
                return create(model="support_model_a", messages=MESSAGES)  # type: ignore[arg-type]

            def routed(i: int) -> Any:
                return router.chat(units[i % n], messages=MESSAGES)

            def bare_stream(i: int) -> Any:
                return list(create(model="support_model_a", messages=MESSAGES, stream=True,  # type: ignore[call-overload]
                                   stream_options={"include_usage": True}))  # fmt: skip

            def routed_stream(i: int) -> Any:
                return list(router.chat(units[i % n], messages=MESSAGES, stream=True))

            rows.append(summary("completion", *paired(bare, routed, CALLS, WARMUP)))
            rows.append(summary("stream", *paired(bare_stream, routed_stream, CALLS, WARMUP)))

            async def run_async() -> tuple[list[int], list[int]]:
                async_client = openai.AsyncOpenAI(base_url=base_url, api_key="bench",
                                                  max_retries=0)  # fmt: skip
                async_router = AsyncModelRouter(async_client, **settings)
                acreate = async_client.chat.completions.create

                async def abare(i: int) -> Any:
                    return await acreate(model="support_model_a", messages=MESSAGES)  # type: ignore[arg-type]

                async def arouted(i: int) -> Any:
                    return await async_router.chat(units[i % n], messages=MESSAGES)

                try:
                    return await paired_async(abare, arouted, CALLS, WARMUP)
                finally:
                    await async_client.close()

            rows.append(summary("async completion", *asyncio.run(run_async())))
            api.shutdown()  # flushes and closes the evidence
            check = check_events(events, 3 * (CALLS + WARMUP))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)

    print()
    print(
        "| row | calls | bare median (us) | routed median (us) | overhead per call (us) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['name']} | {row['calls']} | {row['bare_median_us']:.1f} | "
              f"{row['routed_median_us']:.1f} | {row['overhead_us']:.1f} | "
              f"{row['ratio']:.3f}x |")  # fmt: skip
    print()
    for row in rows:
        print(f"overhead {row['name']}: {row['overhead_us']:.1f} us per call "
              f"({row['ratio']:.3f}x the bare call)")  # fmt: skip
    verdict = "ok" if check["ok"] else "WRONG"
    print(f"check: {check['exposures']} exposures for {check['expected']} routed calls, "
          f"{check['complete']} with tokens and cost: {verdict}")  # fmt: skip
    if args.json:
        result = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "machine": platform.platform(),
            "cpus": os.cpu_count(), "openai": openai.__version__,
            "modelflags": modelflags.__version__,
            "params": {"calls": CALLS, "warmup": WARMUP},
            "rows": rows, "check": check, "ok": check["ok"],
        }  # fmt: skip
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if check["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
