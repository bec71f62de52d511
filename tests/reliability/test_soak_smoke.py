"""The soak benchmark at its smoke size (5 seconds): it runs, checks itself (no event lost, no
evaluation failed, while the flag file is edited and the collector flaps) and reports its
latencies and memory. No timing is asserted (timings belong to benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_soak_smoke_loses_nothing_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    src = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_soak.py"), "--smoke", "--json", str(out)],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in ("evaluation latency us: p50", "recording latency us: p50", "rss MiB: first",
                 "events lost: 0"):  # fmt: skip
        assert line in proc.stdout, proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True
    assert result["events_lost"] == 0
    assert result["events_arrived_unique"] == result["events_expected"] > 0
    assert result["failed_evaluations"] == 0
    assert result["reloads"] >= 2
    assert result["collector_flaps"] >= 2
    assert result["counters"]["dropped"] == 0
    assert result["evaluation_latency"]["p99_us"] is not None
    assert result["samples"] and result["samples"][0]["rss_mib"] is not None
