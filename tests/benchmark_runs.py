"""The benchmark scripts, run at smoke size by their tests: each checks itself, prints its
report lines and writes its results as JSON; the tests assert on those, never on a timing
(timings belong to benchmarks/RESULTS.md).

pytest imports the root ``conftest.py`` with this folder on ``sys.path``, so a test module
anywhere below it imports this as ``from benchmark_runs import run_benchmark``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(
    script: str,
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    *args: str,
    timeout: float = 180,
) -> tuple[str, Any]:
    """Run ``benchmarks/<script> [ARGS] --json FILE`` with ``env`` added to this environment
    and this checkout's ``src`` first on ``PYTHONPATH``; fail unless it exits 0. Returns its
    standard output and the JSON it wrote."""
    src = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args, "--json", str(out)],
        env={**os.environ, **(env or {}), "PYTHONPATH": src},
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out.read_text(encoding="utf-8"))
