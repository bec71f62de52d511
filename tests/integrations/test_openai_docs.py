"""docs/openai.md is executable: its Python blocks run, in order, in a fresh interpreter, in a
folder laid out like the repository, against a local fake OpenAI-compatible server that answers
``support_model_b`` with 429 (the page's overloaded candidate route)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "openai.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), flags=re.M | re.S)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.set_mode("support_model_b", "rate_limited")
        yield fake


def test_every_python_block_of_the_openai_page_runs_in_order(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 5
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "prices.yaml", tmp_path / "examples" / "prices.yaml")
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"}
    result = subprocess.run(
        [sys.executable, "-c", "\n\n".join(blocks)],
        check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    models = [request.body.get("model") for request in server.requests]
    assert models.count("support_model_b") == 2  # the candidate: one try, one client retry
    assert "answer from support_model_a" in result.stdout


def test_the_pages_price_table_is_the_example_file() -> None:
    yaml_blocks = re.findall(r"^```yaml\n(.*?)^```", PAGE.read_text(), flags=re.M | re.S)
    example = (ROOT / "examples" / "prices.yaml").read_text()
    body = "".join(line + "\n" for line in example.splitlines() if not line.startswith("#"))
    assert body in yaml_blocks
