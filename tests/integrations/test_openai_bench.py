"""Smoke test of benchmarks/bench_openai.py: it runs at a tiny size against its fake server,
checks its own exposures, and prints the overhead lines. No timing is asserted (timings
belong to the benchmark's report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_openai_runs_checks_its_exposures_and_prints_the_overhead(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    src = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_openai.py"), "--json", str(out)],
        env={**os.environ, "BENCH_CALLS": "20", "BENCH_WARMUP": "2", "PYTHONPATH": src},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in ("overhead completion:", "overhead stream:", "overhead async completion:",
                 "| completion | 20 |"):  # fmt: skip
        assert line in proc.stdout, proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True
    assert result["check"]["exposures"] == 3 * (20 + 2)
    assert [row["name"] for row in result["rows"]] == ["completion", "stream", "async completion"]
