"""The soak benchmark at its smoke size (5 seconds): it runs, checks itself (no event lost, no
evaluation failed, while the flag file is edited and the collector flaps) and reports its
latencies and memory. No timing is asserted (timings belong to benchmarks/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

from benchmark_runs import run_benchmark


def test_bench_soak_smoke_loses_nothing_and_reports(tmp_path: Path) -> None:
    stdout, result = run_benchmark("bench_soak.py", tmp_path, None, "--smoke", timeout=120)
    for line in ("evaluation latency us: p50", "recording latency us: p50", "rss MiB: first",
                 "events lost: 0"):  # fmt: skip
        assert line in stdout, stdout
    assert result["ok"] is True
    assert result["events_lost"] == 0
    assert result["events_arrived_unique"] == result["events_expected"] > 0
    assert result["failed_evaluations"] == 0
    assert result["reloads"] >= 2
    assert result["collector_flaps"] >= 2
    assert result["counters"]["dropped"] == 0
    assert result["evaluation_latency"]["p99_us"] is not None
    assert result["samples"] and result["samples"][0]["rss_mib"] is not None
