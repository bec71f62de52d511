"""Smoke test of benchmarks/bench_evidence.py: it runs, verifies what it wrote and received,
and prints its report lines.

Tiny sizes, so it takes a few seconds; no timing is asserted (timings belong to
benchmarks/RESULTS.md, not to tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_evidence.py"


def test_bench_evidence_runs_checks_and_prints_its_report(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BENCH_EXPOSURES": "2000",
        "BENCH_REPEATS": "1",
        "BENCH_WARMUP": "200",
        "BENCH_EVENTS": "3000",
        "BENCH_HTTP_EVENTS": "2000",
        "BENCH_DOWN_EVENTS": "6000",
        "BENCH_CONTEXTS": "100",
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
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in (
        "exposure, thread idle:",
        "exposure floor (dict + deque):",
        "exposure, thread live:",
        "jsonl emit (tracker alone):",
        "jsonl end to end:",
        "http to a local collector:",
        "collector down: peak traced memory",
        "| (e) exposure, thread idle |",
    ):
        assert line in proc.stdout, proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True
    assert result["collector_down"]["check"]["missing"] == 0
