"""Smoke test of the report benchmark: 20,000 generated events, every run checked.

No timing is asserted (timings belong to benchmarks/RESULTS.md): the script must generate its
events, run each mode in a child process, find the generator's events, duplicates and units
per arm, and print its table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_report_smoke_runs_checks_and_prints_its_table(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    src = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_report.py"), "--smoke", "--naive",
         "--json", str(out)],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "| events | format | run | wall s | CPU s | events/s | peak RSS MB | check |" in proc.stdout
    )
    result = json.loads(out.read_text())
    assert result["ok"] is True
    runs = {(row["format"], row["mode"]) for row in result["rows"]}
    assert runs == {
        ("jsonl", "report"), ("jsonl", "aggregate"), ("jsonl", "naive"),
        ("parquet", "report"), ("parquet", "aggregate"),
    }  # fmt: skip
    assert all(row["check"] == "ok" and row["peak_rss_mb"] > 0 for row in result["rows"])
    assert result["generated"]["20000"]["duplicates"] == 20
