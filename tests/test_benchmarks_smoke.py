"""Smoke test of benchmarks/bench_evaluation.py: it runs, checks itself, and prints its ratios.

Tiny sizes, so it takes a couple of seconds; no timing is asserted (timings belong to
benchmarks/RESULTS.md, not to tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_evaluation.py"


def test_bench_evaluation_runs_checks_and_prints_its_ratios(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BENCH_EVALS": "2000",
        "BENCH_REPEATS": "1",
        "BENCH_WARMUP": "200",
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in ("ratio a/b ", "ratio a/b2", "direct c:", "ratio c/d "):
        assert line in proc.stdout, proc.stdout
    assert "| (a) modelflags provider via OpenFeature client |" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True
    assert result["provider_direct_disagreements"] == 0
    assert {row["key"] for row in result["rows"]} == {"a", "b", "b2", "c", "d"}
    assert set(result["ratios"]) == {"a/b", "a/b2", "c/d"}
