"""Smoke test of benchmarks/bench_middleware.py: at tiny sizes it runs, checks every row
(each app answers the request's unit) and prints its figures. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_middleware_benchmark_checks_its_rows_and_reports_the_overhead(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    sizes = {"BENCH_REQUESTS": "200", "BENCH_HTTPX_REQUESTS": "20", "BENCH_REPEATS": "1",
             "BENCH_WARMUP": "20"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_middleware.py"), "--json", str(out)],
        env={**os.environ, **sizes},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "header middleware overhead:" in proc.stdout
    assert "| (c) | middleware, unit from the path (routes matched) |" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True
    assert set(result["rows"]) == {"a", "b", "c", "d", "e", "f"}
    assert all(row["check"]["ok"] for row in result["rows"].values())
