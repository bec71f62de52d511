"""Smoke test of benchmarks/bench_middleware.py: at tiny sizes it runs, checks every row
(each app answers the request's unit) and prints its figures. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

from benchmark_runs import run_benchmark


def test_the_middleware_benchmark_checks_its_rows_and_reports_the_overhead(tmp_path: Path) -> None:
    sizes = {"BENCH_REQUESTS": "200", "BENCH_HTTPX_REQUESTS": "20", "BENCH_REPEATS": "1",
             "BENCH_WARMUP": "20"}  # fmt: skip
    stdout, result = run_benchmark("bench_middleware.py", tmp_path, sizes, timeout=120)
    assert "header middleware overhead:" in stdout
    assert "| (c) | middleware, unit from the path (routes matched) |" in stdout
    assert result["ok"] is True
    assert set(result["rows"]) == {"a", "b", "c", "d", "e", "f"}
    assert all(row["check"]["ok"] for row in result["rows"].values())
