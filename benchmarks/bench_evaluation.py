"""In-process evaluation benchmark: modelflags beside its floors, in one run.

Rows, all timed in this one process over the same pre-built contexts, batches interleaved
(a, b, b2, c, d, a, b, ...) so that machine drift hits every row alike:

* (a)  modelflags provider through the OpenFeature client (``client.get_object_details``)
* (b)  floor 1: OpenFeature ``InMemoryProvider``, fixed variant (the client's own cost)
* (b2) floor 1b: ``InMemoryProvider`` + a hand-written ``context_evaluator`` (the best case
  for any OpenFeature provider in Python)
* (c)  the direct path: ``modelflags.load_flags(path).evaluate(key, ctx_dict)``
* (d)  floor 2: a plain function, ``mmh3`` + dict

The flag is the reference flag of the peer comparison (benchmarks/README.md): three object
variations, one rule ``accountId $in [3 accounts]`` -> fallback, else a 90/10 split on the
targeting key. The 10,000 contexts come from the peers' seeded generator
(``benchmarks/peers/reference.py``, :func:`make_contexts`).

Every row's correctness is checked before timing: excluded accounts get ``fallback``, the
others control or candidate with a candidate share of 8-12%, the same answer twice, and the
direct path and the provider agree on every context. A failed check is reported as WRONG in
the table and makes the exit status 1 (the timings are still printed).

Usage (from the project root)::

    PYTHONPATH=src python benchmarks/bench_evaluation.py [--json results.json]
    BENCH_EVALS=2000 BENCH_REPEATS=1 PYTHONPATH=src python benchmarks/bench_evaluation.py

Environment: BENCH_EVALS (evaluations per batch, 100000), BENCH_REPEATS (batches, 7),
BENCH_WARMUP (warm-up evaluations, 20000), BENCH_CONTEXTS (contexts, 10000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mmh3
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

import modelflags

# --------------------------------------------------------------------------------------------
# The flag and the contexts
# --------------------------------------------------------------------------------------------
# The peers' reference flag and contexts (benchmarks/peers/reference.py, standard library
# only), so that this benchmark and the peer comparison evaluate the same 10,000 conversations.
PEERS = str(Path(__file__).resolve().parent / "peers")
sys.path.insert(0, PEERS)
try:
    from measure import check_case
    from reference import (
        CONTROL,
        EXCLUDED_ACCOUNTS,
        FLAG_KEY,
        SEED,
        VARIATIONS,
        make_contexts,
    )
    from reference import MODELFLAGS_YAML as FLAG_YAML
finally:
    sys.path.remove(PEERS)

N_CONTEXTS = int(os.environ.get("BENCH_CONTEXTS", "10000"))
EVALS = int(os.environ.get("BENCH_EVALS", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "20000"))

TARGET_CLIENT_RATIO = 1.10  # at most 1.10x the InMemoryProvider floor
TARGET_DIRECT_US = 1.5  # at most 1.5 us for the reference flag


# --------------------------------------------------------------------------------------------
# The rows
# --------------------------------------------------------------------------------------------
class Row:
    def __init__(
        self,
        *,
        key: str,
        name: str,
        api_call: str,
        evaluate: Callable[[Any], Any],
        variant_of: Callable[[Any], str | None],
        contexts: list[Any],
        fixed: bool = False,
    ) -> None:
        self.key = key
        self.name = name
        self.api_call = api_call
        self.evaluate = evaluate
        self.variant_of = variant_of
        self.contexts = contexts
        self.fixed = fixed
        self.batch_ns: list[int] = []
        self.check: dict[str, Any] = {}
        self.variants: list[str | None] = []

    @property
    def per_eval_us(self) -> list[float]:
        return [ns / EVALS / 1000.0 for ns in self.batch_ns]

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_eval_us)

    @property
    def min_us(self) -> float:
        return min(self.per_eval_us)


def classify(value: Any) -> str | None:
    for name, expected in VARIATIONS.items():
        if value == expected:
            return name
    return None


def details_variant(get: Callable[..., Any]) -> Callable[[EvaluationContext], str | None]:
    def variant_of(ctx: EvaluationContext) -> str | None:
        details = get(FLAG_KEY, CONTROL, ctx)
        if details.error_code is not None:
            return f"error:{details.error_code}:{details.error_message}"
        name = classify(details.value)
        return name if details.variant in (None, name) else f"mismatch:{details.variant}/{name}"

    return variant_of


def of_contexts(plain: list[dict[str, str]]) -> list[EvaluationContext]:
    return [
        EvaluationContext(
            targeting_key=c["targetingKey"],
            attributes={"accountId": c["accountId"], "locale": c["locale"], "userId": c["userId"]},
        )
        for c in plain
    ]


def client_for(domain: str, provider: Any) -> Any:
    """A client bound to its own domain, so every OpenFeature row lives in this process."""
    api.set_provider_and_wait(provider, domain=domain)
    return api.get_client(domain=domain)


def build_rows(flag_path: Path, plain: list[dict[str, str]]) -> list[Row]:
    of_ctxs = of_contexts(plain)
    dict_ctxs = [dict(c) for c in plain]
    key, default = FLAG_KEY, CONTROL

    # (a) modelflags through the OpenFeature client
    get_a = client_for("modelflags", modelflags.ModelFlagsProvider(flag_path)).get_object_details

    def evaluate_a(ctx: EvaluationContext) -> Any:
        return get_a(key, default, ctx)

    # (b) floor 1: InMemoryProvider, fixed variant
    fixed_flag = InMemoryFlag(default_variant="control", variants=dict(VARIATIONS))
    get_b = client_for("floor1", InMemoryProvider({FLAG_KEY: fixed_flag})).get_object_details

    def evaluate_b(ctx: EvaluationContext) -> Any:
        return get_b(key, default, ctx)

    # (b2) floor 1b: InMemoryProvider + the floor-2 logic as a context_evaluator
    excluded = frozenset(EXCLUDED_ACCOUNTS)
    seed = mmh3.hash(FLAG_KEY, signed=False)
    hash32 = mmh3.hash
    targeting_match, split = Reason.TARGETING_MATCH, Reason.SPLIT

    def context_evaluator(flag: InMemoryFlag, ec: EvaluationContext) -> FlagResolutionDetails:
        if ec.attributes.get("accountId") in excluded:
            return FlagResolutionDetails(
                value=flag.variants["fallback"], variant="fallback", reason=targeting_match
            )
        bucket = (hash32(ec.targeting_key, seed, signed=False) * 100) >> 32
        v = "candidate" if bucket >= 90 else "control"
        return FlagResolutionDetails(value=flag.variants[v], variant=v, reason=split)

    logic_flag = InMemoryFlag(
        default_variant="control", variants=dict(VARIATIONS), context_evaluator=context_evaluator
    )
    get_b2 = client_for("floor1b", InMemoryProvider({FLAG_KEY: logic_flag})).get_object_details

    def evaluate_b2(ctx: EvaluationContext) -> Any:
        return get_b2(key, default, ctx)

    # (c) the direct path
    flags = modelflags.load_flags(flag_path)
    evaluate_c = flags.evaluate

    def evaluate_c_row(ctx: dict[str, str]) -> Any:
        return evaluate_c(key, ctx)

    def variant_c(ctx: dict[str, str]) -> str | None:
        resolution = evaluate_c(key, ctx)
        if resolution.error_code is not None:
            return f"error:{resolution.error_code}:{resolution.error_message}"
        name = classify(resolution.value)
        return name if resolution.variant == name else f"mismatch:{resolution.variant}/{name}"

    # (d) floor 2: plain mmh3 + dict
    variations = VARIATIONS

    def evaluate_d(ctx: dict[str, str]) -> tuple[str, dict[str, str]]:
        if ctx["accountId"] in excluded:
            return "fallback", variations["fallback"]
        bucket = (hash32(ctx["targetingKey"], seed, signed=False) * 100) >> 32
        v = "candidate" if bucket >= 90 else "control"
        return v, variations[v]

    def variant_d(ctx: dict[str, str]) -> str | None:
        name, value = evaluate_d(ctx)
        return name if value == VARIATIONS[name] else None

    of_row = {"api_call": "client.get_object_details", "contexts": of_ctxs}
    dict_row = {"contexts": dict_ctxs}
    return [
        Row(
            key="a",
            name="(a) modelflags provider via OpenFeature client",
            evaluate=evaluate_a,
            variant_of=details_variant(get_a),
            **of_row,
        ),
        Row(
            key="b",
            name="(b) floor 1: InMemoryProvider, fixed variant",
            evaluate=evaluate_b,
            variant_of=details_variant(get_b),
            fixed=True,
            **of_row,
        ),
        Row(
            key="b2",
            name="(b2) floor 1b: InMemoryProvider + hand logic",
            evaluate=evaluate_b2,
            variant_of=details_variant(get_b2),
            **of_row,
        ),
        Row(
            key="c",
            name="(c) modelflags direct: FlagSet.evaluate",
            api_call="flags.evaluate(key, dict)",
            evaluate=evaluate_c_row,
            variant_of=variant_c,
            **dict_row,
        ),
        Row(
            key="d",
            name="(d) floor 2: plain mmh3 + dict",
            api_call="evaluate(dict)",
            evaluate=evaluate_d,
            variant_of=variant_d,
            **dict_row,
        ),
    ]


# --------------------------------------------------------------------------------------------
# Correctness and timing
# --------------------------------------------------------------------------------------------
def check_row(row: Row, plain: list[dict[str, str]]) -> None:
    """Judge the row's answers as the peer comparison does (``peers/measure.py``), and keep
    its first answer per context to compare the provider with the direct path."""
    row.variants = [row.variant_of(ctx) for ctx in row.contexts]
    row.check = check_case(row, plain).as_json()


def time_batch(evaluate: Callable[[Any], Any], batch: list[Any]) -> int:
    t0 = time.perf_counter_ns()
    for ctx in batch:
        evaluate(ctx)
    return time.perf_counter_ns() - t0


def time_rows(rows: list[Row]) -> None:
    """Warm every row up, then REPEATS rounds of one gc-collected batch per row."""
    batches = {}
    for row in rows:
        n = len(row.contexts)
        batches[row.key] = [row.contexts[i % n] for i in range(EVALS)]
        time_batch(row.evaluate, [row.contexts[i % n] for i in range(WARMUP)])
    for _ in range(REPEATS):
        for row in rows:
            gc.collect()
            row.batch_ns.append(time_batch(row.evaluate, batches[row.key]))


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def check_text(row: Row) -> str:
    c = row.check
    text = "ok" if c["ok"] else "WRONG"
    if not row.fixed:
        text += f", excl {c['excluded_fallback']}/{c['excluded']}"
    if c["wrong"]:
        text += f", wrong {c['wrong']}"
    if c["unstable"]:
        text += f", unstable {c['unstable']}"
    return text


def markdown_table(rows: list[Row], floor: Row) -> str:
    lines = [
        "| row | timed call | us/eval median | us/eval min | candidate share "
        "| ratio to floor 1 | check |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        share = row.check["candidate_share"]
        share_text = "n/a (fixed)" if share is None else f"{share:.2%}"
        lines.append(
            f"| {row.name} | `{row.api_call}` | {row.median_us:.3f} | {row.min_us:.3f} "
            f"| {share_text} | {row.median_us / floor.median_us:.2f}x | {check_text(row)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    args = parser.parse_args(argv)

    plain = make_contexts(N_CONTEXTS)
    print(f"contexts: {len(plain)} from the seeded generator (seed {SEED})")
    print(
        f"python {platform.python_version()}, modelflags {modelflags.__version__}; "
        f"warm-up {WARMUP}, {REPEATS} x {EVALS} evaluations per row, batches interleaved"
    )
    with tempfile.TemporaryDirectory(prefix="modelflags-bench-") as folder:
        flag_path = Path(folder) / "flags.yaml"
        flag_path.write_text(FLAG_YAML, encoding="utf-8")
        rows = build_rows(flag_path, plain)
        try:
            for row in rows:
                check_row(row, plain)
                share = row.check["candidate_share"]
                share_text = "n/a" if share is None else f"{share:.2%}"
                print(f"check {row.key}: {check_text(row)}, candidate share {share_text}")
            by_key = {row.key: row for row in rows}
            disagree = sum(
                va != vc for va, vc in zip(by_key["a"].variants, by_key["c"].variants, strict=True)
            )
            print(f"check a == c: {len(plain) - disagree}/{len(plain)} contexts agree")
            time_rows(rows)
        finally:
            api.shutdown()

    a, b, b2, c, d = (by_key[k] for k in ("a", "b", "b2", "c", "d"))
    ratios = {
        "a/b": a.median_us / b.median_us,
        "a/b2": a.median_us / b2.median_us,
        "c/d": c.median_us / d.median_us,
    }
    all_ok = all(row.check["ok"] for row in rows) and disagree == 0
    print()
    print(
        f"ratio a/b  (client / floor 1):  {ratios['a/b']:.3f}x  "
        f"(target <= {TARGET_CLIENT_RATIO:.2f}x)"
    )
    print(f"ratio a/b2 (client / floor 1b): {ratios['a/b2']:.3f}x")
    print(
        f"direct c: {c.median_us:.3f} us/eval median, {c.min_us:.3f} min  "
        f"(target <= {TARGET_DIRECT_US} us)"
    )
    print(f"ratio c/d  (direct / floor 2):  {ratios['c/d']:.2f}x")
    print()
    print(markdown_table(rows, b))
    if not all_ok:
        print("\nCORRECTNESS CHECK FAILED (see the check column / the lines above)")

    if args.json:
        result = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "modelflags": modelflags.__version__,
            "params": {
                "contexts": len(plain),
                "contexts_seed": SEED,
                "evals": EVALS,
                "repeats": REPEATS,
                "warmup": WARMUP,
            },
            "rows": [
                {
                    "key": row.key,
                    "row": row.name,
                    "api": row.api_call,
                    "us_median": row.median_us,
                    "us_min": row.min_us,
                    "us_all": row.per_eval_us,
                    "correctness": row.check,
                }
                for row in rows
            ],
            "ratios": ratios,
            "targets": {"a/b": TARGET_CLIENT_RATIO, "c_us": TARGET_DIRECT_US},
            "provider_direct_disagreements": disagree,
            "ok": all_ok,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
