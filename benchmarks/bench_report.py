"""Report benchmark: how fast ``modelflags report`` turns millions of events into its report.

For each size (1, 3 and 10 million events by default) it generates a realistic event stream
with DuckDB (``COPY ... TO``, no Python loop): ~60% exposures and ~40% outcomes, 2 exposures
and ~1.3 outcomes per unit, a 90/10 split of control and candidate, 3% of units served by a
rule (not randomised), fallbacks, errors, missing latencies, two config versions, a ``plan``
attribute, a boolean and a numeric metric, and 0.1% duplicated events (a batch sent twice).
It writes the stream as JSON lines and as Parquet, then runs, each in a fresh process:

* ``report``: the whole command, ``python -m modelflags report FILE --flag ... --format json``
  (reading, aggregation, statistics, rendering);
* ``aggregate``: ``aggregate_events`` alone (the part that reads the events);
* ``naive`` (with ``--naive``): a plain DuckDB query over the JSON (schema detected, GROUP BY
  eventId to de-duplicate, then per unit and per arm), the floor a hand-written query gives.

Wall time is measured around the process; CPU time (user + system, all threads) and peak
memory (maximum resident set size) are the child's own: ``os.wait4`` gives the rusage of that
one child, where ``RUSAGE_CHILDREN`` would give the maximum over every child so far. With
``--repeat N`` each run is repeated and the fastest kept (the machine is shared: the others
show how noisy it was); the load average is noted. Each report is checked: the events, the
duplicates and the units per arm must be the generator's; a failed check prints WRONG and
exits 1.

Usage (from the project root)::

    PYTHONPATH=src python benchmarks/bench_report.py [--sizes 1e6 3e6 1e7] [--naive]
        [--repeat N] [--data-dir DIR] [--json results.json]
    PYTHONPATH=src python benchmarks/bench_report.py --smoke     # 20,000 events, seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ROOT / "flags" / "support.yaml"
FLAG_KEY = "support_answer_model_route"
SMOKE_EVENTS = 20_000

# One typed row per distinct event; i numbers the events. Ten consecutive events are three
# units: six exposures (two per unit), then four outcomes (units 0, 1, 2, 0 of the ten).
GENERATED = """
CREATE OR REPLACE TEMP VIEW generated AS
WITH base AS (
    SELECT i, i // 10 AS g, i % 10 AS j FROM range({distinct}) AS t(i)
),
units AS (
    SELECT i, j, j < 6 AS exposure,
        CASE WHEN j < 6 THEN 3 * g + j // 2 ELSE 3 * g + (j - 6) % 3 END AS unit,
        hash(i, 'event') AS h
    FROM base
),
drawn AS (
    SELECT *,
        hash(unit, 'arm') % 100 < 10 AS candidate,
        hash(unit, 'split') % 100 >= 3 AS randomised,
        ['free', 'pro', 'enterprise'][CAST(1 + hash(unit, 'plan') % 3 AS BIGINT)] AS plan
    FROM units
)
SELECT
    i,
    unit,
    randomised,
    CASE WHEN exposure THEN 'exposure' ELSE 'support_conversation_outcome' END AS event,
    printf('a1b2c3d4e5f6-%x', i) AS eventId,
    TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_milliseconds(i) AS "timestamp",
    '{flag}' AS flagKey,
    'support-route-2026-11' AS experimentKey,
    'conversation' AS assignmentUnit,
    printf('conv-%09d', unit) AS unitId,
    CASE
        WHEN NOT randomised THEN 'fallback'
        WHEN exposure AND h % 50 = 0 THEN 'fallback'
        WHEN candidate THEN 'candidate'
        ELSE 'control'
    END AS variation,
    CASE WHEN NOT randomised THEN 'fallback' WHEN candidate THEN 'candidate' ELSE 'control' END
        AS assignedVariation,
    CASE WHEN randomised THEN 'SPLIT' ELSE 'TARGETING_MATCH' END AS reason,
    CASE WHEN randomised THEN 'split' ELSE 'internal_traffic' END AS rule,
    randomised AS inExperiment,
    CASE WHEN i < {distinct} // 2 THEN '3f2a9c1d' ELSE '4b5c6d7e' END AS configVersion,
    h % 50 = 0 AS fallbackUsed,
    CASE WHEN h % 50 = 0 THEN 'timeout' END AS fallbackReason,
    CASE WHEN candidate THEN 'support_model_b' ELSE 'support_model_a' END AS modelRoute,
    'support_v3' AS promptVersion,
    CASE WHEN h % 50 = 0 THEN 'safe_fallback' ELSE 'baseline' END AS retrievalProfile,
    CASE
        WHEN h % 40 = 0 THEN NULL
        ELSE round(exp(6.6 + (CASE WHEN candidate THEN -0.1 ELSE 0 END)
            + (CAST((h // 7) % 1000 AS BIGINT) - 500) / 1000.0), 1)
    END AS latencyMs,
    round(((h // 13) % 600) / 100000.0 + 0.001, 5) AS estimatedCost,
    h % 97 = 0 AS error,
    CASE WHEN h % 97 = 0 THEN 'TimeoutError' END AS errorType,
    {{'plan': plan}} AS attributes,
    1.0 AS value,
    {{'resolvedWithoutEscalation': (h // 3) % 100 < (CASE WHEN candidate THEN 72 ELSE 70 END),
      'csat': CAST(1 + (h // 11) % 5 AS INTEGER)}} AS metrics,
    exposure
FROM drawn
"""

EXPOSURE_KEYS = [
    "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
    "variation", "assignedVariation", "reason", "rule", "inExperiment", "configVersion",
    "fallbackUsed", "fallbackReason", "modelRoute", "promptVersion", "retrievalProfile",
    "latencyMs", "estimatedCost", "error", "errorType", "attributes",
]  # fmt: skip
OUTCOME_KEYS = [
    "event", "eventId", "timestamp", "flagKey", "experimentKey", "assignmentUnit", "unitId",
    "variation", "configVersion", "value", "metrics",
]  # fmt: skip


def _struct(keys: list[str]) -> str:
    parts = []
    for key in keys:
        value = f'"{key}"'
        if key == "timestamp":
            value = "strftime(\"timestamp\", '%Y-%m-%dT%H:%M:%S.%gZ')"
        parts.append(f"'{key}': {value}")
    return "{" + ", ".join(parts) + "}"


def generate(folder: Path, events: int) -> dict[str, Any]:
    """Write ``events.jsonl`` and ``events.parquet`` of ``events`` events (0.1% duplicates)
    into ``folder``; return what a correct report must find."""
    folder.mkdir(parents=True, exist_ok=True)
    duplicates = events // 1000
    distinct = events - duplicates
    jsonl, parquet, truth = (folder / n for n in ("events.jsonl", "events.parquet", "truth.json"))
    if jsonl.exists() and parquet.exists() and truth.exists():
        known: dict[str, Any] = json.loads(truth.read_text())
        if known["events"] == events:
            return known
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        con.execute(GENERATED.format(distinct=distinct, flag=FLAG_KEY))
        # duplicates: every thousandth event, sent again at the end
        rows = f"SELECT * FROM generated UNION ALL (SELECT * FROM generated WHERE i % 997 = 0 LIMIT {duplicates})"  # noqa: E501
        lines = (
            f"SELECT CASE WHEN exposure THEN to_json({_struct(EXPOSURE_KEYS)}) "
            f"ELSE to_json({_struct(OUTCOME_KEYS)}) END FROM ({rows})"
        )
        con.execute(
            f"COPY ({lines}) TO '{jsonl}' "
            "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"
        )
        columns = ", ".join(f'"{key}"' for key in dict.fromkeys(EXPOSURE_KEYS + OUTCOME_KEYS))
        con.execute(f"COPY (SELECT {columns} FROM ({rows})) TO '{parquet}' (FORMAT parquet)")
        arms = con.execute(
            "SELECT assignedVariation, count(DISTINCT unit) FROM generated "
            "WHERE exposure AND randomised GROUP BY ALL"
        ).fetchall()
    found = {
        "events": events,
        "duplicates": duplicates,
        "units": dict(arms),
        "seconds": round(time.perf_counter() - started, 1),
        "jsonl_bytes": jsonl.stat().st_size,
        "parquet_bytes": parquet.stat().st_size,
    }
    truth.write_text(json.dumps(found))
    return found


NAIVE = """
WITH events AS (SELECT * FROM read_json('{path}', format = 'newline_delimited')),
once AS (SELECT eventId, any_value(COLUMNS(* EXCLUDE (eventId))) FROM events GROUP BY eventId),
units AS (
    SELECT unitId, any_value(assignedVariation) FILTER (WHERE event = 'exposure') AS arm,
        count(*) FILTER (WHERE event = 'exposure') AS n, sum(latencyMs) AS latency,
        sum(estimatedCost) AS cost, sum(error::INT) AS errors,
        max(metrics.resolvedWithoutEscalation::INT) AS resolved
    FROM once GROUP BY unitId)
SELECT arm, count(*), sum(n), sum(latency), sum(cost), sum(errors), sum(resolved)
FROM units GROUP BY arm
"""


def child(mode: str, path: Path, out: Path) -> list[str]:
    """The command line of one measured run."""
    if mode == "report":
        return [sys.executable, "-m", "modelflags", "report", str(path), "--flag", FLAG_KEY,
                "--flags", str(FLAGS), "--format", "json", "--output", str(out)]  # fmt: skip
    code = {
        "aggregate": (
            "import json, sys\n"
            "from modelflags.analysis.event_aggregation import aggregate_events\n"
            f"table = aggregate_events([sys.argv[1]], {FLAG_KEY!r}, ['control', 'candidate'])\n"
            "json.dump({'input': table.input_counts(), 'units': {v: table.arm_stat("
            "None, v, None, 'units') for v in table.variations()}}, open(sys.argv[2], 'w'))\n"
        ),
        "naive": (
            "import duckdb, sys\n"
            "con = duckdb.connect()\n"
            "con.execute('SET enable_progress_bar = false')\n"
            f"rows = con.sql({NAIVE!r}.format(path=sys.argv[1])).fetchall()\n"
            "open(sys.argv[2], 'w').write(repr(rows))\n"
        ),
    }[mode]
    return [sys.executable, "-c", code, str(path), str(out)]


def measure(mode: str, path: Path, truth: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """Run one mode on one file in a fresh process: wall time, peak RSS, and the check."""
    out = scratch / f"{mode}-{path.suffix[1:]}.out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
           os.environ.get("PYTHONPATH")]))}  # fmt: skip
    errors = scratch / f"{mode}-{path.suffix[1:]}.err"
    with errors.open("wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(child(mode, path, out), env=env, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    row = {
        "mode": mode,
        "format": path.suffix[1:],
        "events": truth["events"],
        "seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "events_per_s": round(truth["events"] / wall),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "exit": proc.returncode,
    }
    failed = f"WRONG: {errors.read_text(errors='replace')[-300:]}"
    row["check"] = check(mode, out, truth) if proc.returncode == 0 else failed
    return row


def check(mode: str, out: Path, truth: dict[str, Any]) -> str:
    """``ok`` when the output holds the generator's events, duplicates and units per arm."""
    if mode == "naive":
        return "ok" if out.exists() else "WRONG: no output"
    found = json.loads(out.read_text())
    if mode == "report":
        counts = found["input"]
        units = {arm["variation"]: arm["units"] for arm in found["arms"]}
    else:
        counts, units = found["input"], found["units"]
    wrong = []
    if counts["events"] != truth["events"]:
        wrong.append(f"events {counts['events']} != {truth['events']}")
    if counts["duplicates"] != truth["duplicates"]:
        wrong.append(f"duplicates {counts['duplicates']} != {truth['duplicates']}")
    if units != truth["units"]:
        wrong.append(f"units {units} != {truth['units']}")
    return "ok" if not wrong else "WRONG: " + "; ".join(wrong)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| events | format | run | wall s | CPU s | events/s | peak RSS MB | check |",
        "|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['events']:,} | {r['format']} | {r['mode']} | {r['seconds']:.2f} | "
            f"{r['cpu_seconds']:.2f} | {r['events_per_s']:,} | {r['peak_rss_mb']:,} | "
            f"{r['check']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 3e6, 1e7])
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_EVENTS:,} events only")
    parser.add_argument("--naive", action="store_true", help="also run the naive DuckDB query")
    parser.add_argument("--modes", nargs="+", default=["report", "aggregate"])
    parser.add_argument("--formats", nargs="+", default=["jsonl", "parquet"])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest is kept")
    parser.add_argument("--data-dir", type=Path, help="keep (and reuse) generated files here")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    sizes = [SMOKE_EVENTS] if args.smoke else [int(size) for size in args.sizes]
    modes = [*args.modes, *(["naive"] if args.naive else [])]
    rows: list[dict[str, Any]] = []
    generated: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        base = args.data_dir or Path(scratch)
        for size in sizes:
            truth = generate(base / f"{size}", size)
            generated[str(size)] = truth
            print(f"generated {size:,} events in {truth['seconds']} s "
                  f"(JSONL {truth['jsonl_bytes'] / 1e6:,.0f} MB, "
                  f"Parquet {truth['parquet_bytes'] / 1e6:,.0f} MB)", flush=True)  # fmt: skip
            for fmt in args.formats:
                for mode in modes:
                    if mode == "naive" and fmt != "jsonl":
                        continue
                    path = base / f"{size}" / f"events.{fmt}"
                    runs = [measure(mode, path, truth, Path(scratch)) for _ in range(args.repeat)]
                    row = min(runs, key=lambda run: run["seconds"])
                    row["all_seconds"] = [run["seconds"] for run in runs]
                    row["load_average"] = round(os.getloadavg()[0], 2)
                    rows.append(row)
                    print(f"  {fmt:8s} {mode:10s} {row['seconds']:7.2f} s  "
                          f"{row['cpu_seconds']:7.2f} CPU s  "
                          f"{row['events_per_s']:>12,} events/s  "
                          f"{row['peak_rss_mb']:>6,} MB  {row['check']}", flush=True)  # fmt: skip
    print()
    print(table(rows))
    ok = all(row["check"] == "ok" for row in rows)
    if args.json:
        args.json.write_text(json.dumps({
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "duckdb": duckdb.__version__, "platform": platform.platform()},
            "generated": generated,
            "rows": rows,
            "ok": ok,
        }, indent=2))  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
