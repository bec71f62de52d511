"""The Python blocks of a documentation page, run the way a reader runs them: in order, in one
fresh interpreter, in a folder laid out like the repository (its flag files).

For the pages whose blocks need a set-up of their own (a Collector, a framework's test client):
the page marks them ``<!-- tested-in: ... -->``, ``tests/test_docs_blocks.py`` leaves them to
the test named, and that test runs them with this, against what it set up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(page: Path) -> list[str]:
    """The text of every ``python`` block of the page, in order."""
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.M | re.S)


def run_python_blocks(
    blocks: list[str],
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Copy the repository's flags/ into ``folder``, then run the blocks there, joined in
    order, in one fresh interpreter with this environment plus ``env``."""
    shutil.copytree(ROOT / "flags", folder / "flags")
    return subprocess.run(
        [sys.executable, "-c", "\n\n".join(blocks)],
        check=False,
        cwd=folder,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
