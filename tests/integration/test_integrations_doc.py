"""docs/integrations.md is executable: its Python sketches run, in order, in one fresh
interpreter, in a folder laid out like the repository, against the FastAPI example's
OpenAI-compatible model server (examples/fastapi_service/model_server.py, failures off); the
pytest sketch runs under pytest, with the plugin modelflags installs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelflags import read_events

pytest.importorskip("openai")
pytest.importorskip("fastapi")
pytest.importorskip("opentelemetry.sdk")

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
PAGE = "docs/integrations.md"
THIS = "tests/integration/test_integrations_doc.py"
MARKER = re.compile(r"^<!-- (\S+?)(?:: (.+?))? -->$")


@dataclass(frozen=True)
class Block:
    """A fenced Python block of the page: its opening fence's line, text and markers."""

    line: int
    text: str
    markers: dict[str, str]

    @property
    def is_test(self) -> bool:
        return "\ndef test_" in f"\n{self.text}"


def python_blocks() -> list[Block]:
    lines = (ROOT / PAGE).read_text(encoding="utf-8").splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line != "```python":
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        markers, above = {}, index - 1
        while above >= 0 and (marker := MARKER.match(lines[above])):
            markers[marker[1]] = marker[2] or ""
            above -= 1
        blocks.append(Block(index + 1, "".join(f"{t}\n" for t in lines[index + 1 : end]), markers))
    return blocks


# Runs the blocks in one namespace, each compiled at its own line of the page, so that a
# traceback names the page's line.
RUNNER = """
import json, sys
session = {"__name__": "__main__"}
for block in json.load(sys.stdin):
    exec(compile("\\n" * block["line"] + block["text"], block["page"], "exec"), session)
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder laid out like the repository: the flag files and the price table."""
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "prices.yaml", tmp_path / "examples" / "prices.yaml")
    return tmp_path


@pytest.fixture
def model_server() -> Iterator[str]:
    """The example's model server, without injected failures; yields its base URL."""
    off = [f"--{kind}-rate={model}=0" for kind in ("error", "timeout")
           for model in ("support_model_a", "support_model_b")]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "fastapi_service" / "model_server.py"),
         "--port", "0", "--latency-scale", "0", *off],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        assert line, "the model server did not start"
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def test_every_python_block_is_run_by_this_test() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 7
    for block in blocks:
        assert block.markers.get("tested-in") == THIS, f"{PAGE}:{block.line}"
    assert sum(block.is_test for block in blocks) == 1


def test_the_sketches_run_in_order_against_an_openai_compatible_server(
    folder: Path, model_server: str
) -> None:
    blocks = [
        {"page": PAGE, "line": b.line, "text": b.text} for b in python_blocks() if not b.is_test
    ]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MODELFLAGS_", "OPENAI_", "OTEL_"))
    }
    env.update(OPENAI_BASE_URL=model_server, OPENAI_API_KEY="test")
    result = subprocess.run(
        [sys.executable, "-c", RUNNER], input=json.dumps(blocks), cwd=folder, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = list(read_events([folder / "events" / "integrations.jsonl"]))
    kinds = [(e["event"], e["unitId"]) for e in events]
    assert kinds == [("exposure", "conv-7"), ("assignment", "conv-8")]
    exposure = events[0]
    assert exposure["promptTokens"] > 0 and exposure["completionTokens"] > 0
    assert exposure["variation"] in {"control", "candidate"} and not exposure["fallbackUsed"]


def test_the_pytest_sketch_passes_under_pytest_with_the_plugin(folder: Path) -> None:
    (block,) = [b for b in python_blocks() if b.is_test]
    (folder / "test_sketch.py").write_text("\n" * block.line + block.text)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "test_sketch.py"],
        cwd=folder, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
