"""docs/evidence.md is executable: its Python blocks run, in order, in a fresh interpreter, in a
folder laid out like the repository (its flag files), so the page stays true."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "evidence.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), flags=re.M | re.S)


def test_every_python_block_of_the_evidence_page_runs_in_order(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 4
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    result = subprocess.run(
        [sys.executable, "-c", "\n\n".join(blocks)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "events" / "support.jsonl").stat().st_size > 0
