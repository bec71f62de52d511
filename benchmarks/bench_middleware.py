"""Middleware benchmark: what ``ModelFlagsMiddleware`` adds to a Starlette request.

Rows, one Starlette application each (the same route, ``/conversations/{conversation_id}``,
whose endpoint answers the ``conversationId`` of the transaction context as plain text):

* (a) bare: no middleware (the floor);
* (b) unit from a header (``X-Conversation-Id``);
* (c) unit from the path parameter (the middleware matches the routes itself), a header as
  fallback;
* (d) unit from a header, plus two attributes from headers and a cookie source that is
  absent (the reader's worst ordinary case);
* (e) bare, and (f) as (b), through ``httpx.ASGITransport`` with an ``httpx.AsyncClient``:
  the overhead beside a whole in-process HTTP request.

(a) to (d) call the ASGI application directly, one request after the other on one event
loop, with a fresh scope per request (the router writes into it). Each row is checked
first: the endpoint must answer the request's unit (and the bare app none); a failed check
shows as WRONG and makes the exit status 1. Then warm-up requests, and batches timed with
``time.perf_counter_ns()`` after a ``gc.collect()`` (GC stays on), interleaved across the
rows (a, b, c, d, a, ...; then e, f, e, ...) so that load from other processes hits every
row alike. Median and min of the batches, in microseconds per request; the overhead of a
row is its median minus the bare median.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_middleware.py [--json results.json]

Environment: BENCH_REQUESTS (ASGI requests per batch, 20000), BENCH_HTTPX_REQUESTS (httpx
requests per batch, 2000), BENCH_REPEATS (batches, 7), BENCH_WARMUP (warm-up requests per
row, 2000).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from openfeature import api
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from modelflags.integrations.starlette import ModelFlagsMiddleware, UnitFrom

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20000"))
HTTPX_REQUESTS = int(os.environ.get("BENCH_HTTPX_REQUESTS", "2000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2000"))

UNIT = "conv-0f3a9c2e51d84b7c"
HEADERS = [
    (b"host", b"bench"),
    (b"user-agent", b"bench/1.0"),
    (b"accept", b"*/*"),
    (b"x-conversation-id", UNIT.encode()),
    (b"x-plan", b"pro"),
    (b"x-channel", b"chat"),
]
PATH = f"/conversations/{UNIT}"


async def endpoint(request: Request) -> PlainTextResponse:
    unit = api.get_transaction_context().attributes.get("conversationId")
    return PlainTextResponse(str(unit))


def application(unit: UnitFrom | None) -> Starlette:
    app = Starlette(routes=[Route("/conversations/{conversation_id}", endpoint)])
    if unit is not None:
        app.add_middleware(ModelFlagsMiddleware, unit=unit)
    return app


ATTRIBUTE = "conversationId"
ROWS: dict[str, tuple[str, UnitFrom | None]] = {
    "a": ("bare Starlette app (floor)", None),
    "b": (
        "middleware, unit from a header",
        UnitFrom(header="X-Conversation-Id", attribute=ATTRIBUTE),
    ),
    "c": (
        "middleware, unit from the path (routes matched)",
        UnitFrom(path_param="conversation_id", header="X-Conversation-Id", attribute=ATTRIBUTE),
    ),
    "d": (
        "middleware, header + 2 attribute headers + absent cookie",
        UnitFrom(
            header="X-Conversation-Id", cookie="conversation", attribute=ATTRIBUTE,
            headers={"plan": "X-Plan", "channel": "X-Channel"},
        ),
    ),
}  # fmt: skip


def scope() -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
        "root_path": "", "headers": list(HEADERS), "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class Body:
    """An ASGI ``send`` that keeps the response body (to check the rows)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))


async def discard(message: dict[str, Any]) -> None:
    return None


async def asgi_batch(app: Starlette, n: int) -> int:
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(n):
        await app(scope(), receive, discard)
    return time.perf_counter_ns() - start


async def httpx_batch(client: httpx.AsyncClient, n: int) -> int:
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(n):
        await client.get(PATH)
    return time.perf_counter_ns() - start


async def check_asgi(app: Starlette, expect: str) -> dict[str, Any]:
    body = Body()
    await app(scope(), receive, body)
    got = b"".join(body.chunks).decode()
    return {"ok": got == expect, "answered": got, "expected": expect}


def summary(batch_ns: list[int], n: int) -> dict[str, Any]:
    per = [ns / n / 1000.0 for ns in batch_ns]
    return {"median_us": statistics.median(per), "min_us": min(per), "batches_us": per}


async def run() -> dict[str, Any]:
    results: dict[str, Any] = {"rows": {}, "ok": True}
    apps = {key: application(unit) for key, (_, unit) in ROWS.items()}
    for key, app in apps.items():
        check = await check_asgi(app, "None" if ROWS[key][1] is None else UNIT)
        results["rows"][key] = {"name": ROWS[key][0], "check": check, "batch_ns": []}
        results["ok"] &= check["ok"]
        for _ in range(WARMUP):
            await app(scope(), receive, discard)
    for _ in range(REPEATS):
        for key, app in apps.items():
            results["rows"][key]["batch_ns"].append(await asgi_batch(app, REQUESTS))
    for row in results["rows"].values():
        row.update(summary(row["batch_ns"], REQUESTS))
    bare = results["rows"]["a"]["median_us"]
    for row in results["rows"].values():
        row["overhead_us"] = row["median_us"] - bare

    headers = {name.decode(): value.decode() for name, value in HEADERS if name != b"host"}
    clients = {
        "e": ("httpx ASGITransport, bare app", apps["a"], "None"),
        "f": ("httpx ASGITransport, middleware (header)", apps["b"], UNIT),
    }
    opened = {}
    for key, (name, app, expect) in clients.items():
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers
        )
        opened[key] = client
        got = (await client.get(PATH)).text
        check = {"ok": got == expect, "answered": got, "expected": expect}
        results["rows"][key] = {"name": name, "check": check, "batch_ns": []}
        results["ok"] &= check["ok"]
        for _ in range(max(1, WARMUP // 10)):
            await client.get(PATH)
    for _ in range(REPEATS):
        for key, client in opened.items():
            results["rows"][key]["batch_ns"].append(await httpx_batch(client, HTTPX_REQUESTS))
    for key, client in opened.items():
        await client.aclose()
        results["rows"][key].update(summary(results["rows"][key]["batch_ns"], HTTPX_REQUESTS))
    rows = results["rows"]
    rows["f"]["overhead_us"] = rows["f"]["median_us"] - rows["e"]["median_us"]
    rows["e"]["overhead_us"] = 0.0
    results["overhead_share_of_httpx_request"] = rows["b"]["overhead_us"] / rows["e"]["median_us"]
    return results


def report(results: dict[str, Any]) -> None:
    rows = results["rows"]
    for key, row in rows.items():
        status = "" if row["check"]["ok"] else "  WRONG: " + json.dumps(row["check"])
        print(
            f"({key}) {row['name']}: median {row['median_us']:.2f} us/request, "
            f"min {row['min_us']:.2f}, overhead {row['overhead_us']:+.2f} us{status}"
        )
    share = results["overhead_share_of_httpx_request"]
    print(f"header middleware overhead: {rows['b']['overhead_us']:.2f} us per request, "
          f"{share:.1%} of an in-process httpx request")  # fmt: skip
    print()
    print("| row | what | median us/request | min | overhead us |")
    print("|---|---|---|---|---|")
    for key, row in rows.items():
        print(
            f"| ({key}) | {row['name']} | {row['median_us']:.2f} | {row['min_us']:.2f} "
            f"| {row['overhead_us']:+.2f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {REQUESTS} ASGI / {HTTPX_REQUESTS} httpx requests "
        f"per batch, {REPEATS} batches, interleaved"
    )
    results = asyncio.run(run())
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
