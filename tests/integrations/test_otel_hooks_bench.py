"""Smoke test of benchmarks/bench_hooks.py: it runs at tiny sizes, checks its own rows and
prints its table. No timing is asserted (timings belong to the benchmark's report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

ROOT = Path(__file__).resolve().parents[2]


def test_bench_hooks_runs_checks_every_row_and_prints_its_table(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    src = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    sizes = {"BENCH_EVALS": "600", "BENCH_REPEATS": "1", "BENCH_WARMUP": "300",
             "BENCH_CONTEXTS": "200", "PYTHONPATH": src}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_hooks.py"), "--json", str(out)],
        env={**os.environ, **sizes}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True and result["failures"] == []
    assert [row["key"] for row in result["rows"]] == ["a", "a2", "b", "c", "d", "e"]
    assert all(row["check"] == "ok" for row in result["rows"])
    for row in ("| (a) no hook (baseline) |", "| (c) OtelHook, recording span |",
                "| (e) AssignmentLogger, first sight |"):  # fmt: skip
        assert row in proc.stdout, proc.stdout
