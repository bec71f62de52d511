"""docs/web-frameworks.md is executable: its Python blocks (Starlette, FastAPI, Django) run,
in order, in a fresh interpreter, in a folder laid out like the repository (its flag files)."""

from __future__ import annotations

from pathlib import Path

from page_blocks import python_blocks, run_python_blocks

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "web-frameworks.md"


def test_every_python_block_of_the_web_frameworks_page_runs_in_order(tmp_path: Path) -> None:
    blocks = python_blocks(PAGE)
    assert len(blocks) >= 6
    result = run_python_blocks(blocks, tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "conv-1842" in (tmp_path / "events" / "web.jsonl").read_text()


def test_the_overhead_table_names_the_benchmark_that_measured_it() -> None:
    page = PAGE.read_text()
    assert (ROOT / "benchmarks" / "bench_middleware.py").exists()
    assert "benchmarks/bench_middleware.py" in page.split("## Overhead", 1)[1]
