"""Smoke test of benchmarks/bench_hooks.py: it runs at tiny sizes, checks its own rows and
prints its table. No timing is asserted (timings belong to the benchmark's report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_runs import run_benchmark

pytest.importorskip("opentelemetry.sdk")


def test_bench_hooks_runs_checks_every_row_and_prints_its_table(tmp_path: Path) -> None:
    sizes = {"BENCH_EVALS": "600", "BENCH_REPEATS": "1", "BENCH_WARMUP": "300",
             "BENCH_CONTEXTS": "200"}  # fmt: skip
    stdout, result = run_benchmark("bench_hooks.py", tmp_path, sizes, timeout=120)
    assert result["ok"] is True and result["failures"] == []
    assert [row["key"] for row in result["rows"]] == ["a", "a2", "b", "c", "d", "e"]
    assert all(row["check"] == "ok" for row in result["rows"])
    for row in ("| (a) no hook (baseline) |", "| (c) OtelHook, recording span |",
                "| (e) AssignmentLogger, first sight |"):  # fmt: skip
        assert row in stdout, stdout
