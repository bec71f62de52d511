"""Smoke tests of the benchmark scripts: each runs at tiny sizes, checks itself, and prints
its report lines. No timing is asserted (timings belong to benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmark_runs import run_benchmark

ROOT = Path(__file__).resolve().parent.parent


SMOKE = {"BENCH_REPEATS": "1", "BENCH_WARMUP": "200"}
"""One repeat after a short warm-up: enough for each script to check itself."""


def test_bench_evaluation_runs_checks_and_prints_its_ratios(tmp_path: Path) -> None:
    stdout, result = run_benchmark(
        "bench_evaluation.py", tmp_path, {**SMOKE, "BENCH_EVALS": "2000"}
    )
    for line in ("ratio a/b ", "ratio a/b2", "direct c:", "ratio c/d ",
                 "| (a) modelflags provider via OpenFeature client |"):  # fmt: skip
        assert line in stdout, stdout
    assert result["ok"] is True
    assert result["provider_direct_disagreements"] == 0
    assert {row["key"] for row in result["rows"]} == {"a", "b", "b2", "c", "d"}
    assert set(result["ratios"]) == {"a/b", "a/b2", "c/d"}


def test_bench_evidence_runs_checks_and_prints_its_report(tmp_path: Path) -> None:
    sizes = {"BENCH_EXPOSURES": "2000", "BENCH_EVENTS": "3000", "BENCH_HTTP_EVENTS": "2000",
             "BENCH_DOWN_EVENTS": "6000", "BENCH_CONTEXTS": "100"}  # fmt: skip
    stdout, result = run_benchmark("bench_evidence.py", tmp_path, {**SMOKE, **sizes})
    for line in (
        "exposure, thread idle:",
        "exposure floor (dict + deque):",
        "exposure, thread live:",
        "jsonl emit (tracker alone):",
        "jsonl end to end:",
        "jsonl end to end, process, one core busy:",
        "http to a local collector:",
        "collector down: peak traced memory",
        "| (e) exposure, thread idle |",
    ):
        assert line in stdout, stdout
    assert result["ok"] is True
    assert result["collector_down"]["check"]["missing"] == 0


def test_bench_startup_times_each_row_against_the_bare_interpreter(tmp_path: Path) -> None:
    out = tmp_path / "startup.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_startup.py"), "--runs", "1",
         "--rows", "bare,import,help", "--json", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| python -c pass (floor) |" in proc.stdout
    assert "| import modelflags |" in proc.stdout
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [row["key"] for row in rows] == ["bare", "import", "help"]
    assert all(row["median_ms"] > 0 for row in rows)
