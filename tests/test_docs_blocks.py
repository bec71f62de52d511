"""Every fenced block of README.md and docs/*.md runs, or says why it does not.

A block is classified by its language and by HTML comments on the lines right above its
fence, which the rendered page does not show:

- ``python`` runs in a fresh interpreter per page, in a folder laid out like the repository
  (its flags/ and examples/), in order. Each block runs on its own, so a reader who copies
  one gets no ``NameError``; ``<!-- continues -->`` runs it with the names of every block
  above it, as a reader following the page in one session has them.
- ``sh`` and ``console`` (its ``$ `` lines) run in bash, in a fresh copy of that folder, with
  the environment's scripts (``modelflags``, ``python``) first on PATH, as with the venv
  activated; ``<!-- setup: COMMAND -->`` runs first, for what the page says comes before
  (the quickstart's demo, say).
- ``yaml`` is a flag file and must load without an error.
- ``<!-- output-of: COMMAND -->``: the block is what COMMAND prints. Its lines appear in the
  command's output, in order and adjacent; ``...`` stands for any text within a line, or for
  any lines on a line of its own. JSON is compared as data, ``...`` inside a string as above.
- ``<!-- tested-in: PATH -->``: the test at PATH runs the block with a set-up of its own.
- ``<!-- not-run: REASON -->``: not run, and the reason says why (a formula, a fragment, a
  command that needs a cluster or a warehouse).

Any other block (``text``, ``json``, plain) must carry one of these markers, so a shown output
cannot go stale unnoticed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelflags.loader import InlineSource, load

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the environment's scripts: modelflags, python

PAGES = ["README.md", *(f"docs/{path.name}" for path in sorted((ROOT / "docs").glob("*.md")))]

MARKER = re.compile(r"^<!-- (not-run|continues|output-of|setup|tested-in)(?:: (.+?))? -->$")
FENCE = re.compile(r"^```(\S*)$")
LANGUAGES = {"python": "python", "sh": "shell", "console": "shell", "yaml": "flag-file"}


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and the markers above it."""

    page: str
    line: int  # the opening fence's line, 1-based
    language: str
    text: str
    markers: Mapping[str, str]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str | None:
        """How the block is checked; None when nothing says."""
        for marker in ("not-run", "tested-in", "output-of"):
            if marker in self.markers:
                return marker
        return LANGUAGES.get(self.language)


def read_blocks(page: str) -> list[Block]:
    """The page's fenced blocks, in order."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        markers: dict[str, str] = {}
        above = index - 1
        while above >= 0 and (marker := MARKER.match(lines[above])):
            markers[marker[1]] = marker[2] or ""
            above -= 1
        text = "".join(f"{line}\n" for line in lines[index + 1 : end])
        blocks.append(Block(page, index + 1, fence[1], text, markers))
        index = end + 1
    return blocks


BLOCKS = [block for page in PAGES for block in read_blocks(page)]


def of_kind(kind: str) -> list[Any]:
    return [pytest.param(block, id=str(block)) for block in BLOCKS if block.kind == kind]


def environment() -> dict[str, str]:
    """The reader's shell with the venv active; git with a fixed identity and no user config;
    no modelflags settings from the machine running the tests; 80 columns for help text."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MODELFLAGS_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", COLUMNS="80", NO_COLOR="1",
        GIT_AUTHOR_NAME="Docs", GIT_AUTHOR_EMAIL="docs@example.com",
        GIT_COMMITTER_NAME="Docs", GIT_COMMITTER_EMAIL="docs@example.com",
        GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
    )  # fmt: skip
    return env


def bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", script], cwd=cwd, env=environment(),
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


Folder = Callable[..., Path]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A folder laid out like the repository (its flags/ and examples/) after a set-up
    command; each command runs once, and tests work on copies."""
    templates: dict[str, Path] = {}

    def template(setup: str) -> Path:
        if setup not in templates:
            folder = tmp_path_factory.mktemp("prepared")
            for name in ("flags", "examples"):
                shutil.copytree(ROOT / name, folder / name)
            if setup:
                result = bash(setup, folder)
                assert result.returncode == 0, f"setup: {setup}\n{result.stderr}"
            templates[setup] = folder
        return templates[setup]

    return template


@pytest.fixture
def workspace(prepared: Callable[[str], Path], tmp_path: Path) -> Folder:
    """A fresh copy of the prepared folder for ``setup`` (none by default), to change."""

    def copy(setup: str = "") -> Path:
        work = tmp_path / "work"
        shutil.copytree(prepared(setup), work)
        return work

    return copy


# Runs a page's Python blocks in order in one interpreter. A block that continues runs with
# the names of every block above it (the reader's session); any other runs with none, then
# its names join the session. Tracebacks name the page and its own line numbers.
RUNNER = """
import json, sys
session = {"__name__": "__main__"}
for block in json.load(sys.stdin):
    code = compile("\\n" * block["line"] + block["text"], block["page"], "exec")
    alone = session if block["continues"] else {"__name__": "__main__"}
    exec(code, alone)
    session.update(alone)
"""


@pytest.mark.parametrize(
    "page", [page for page in PAGES if any(b.page == page and b.kind == "python" for b in BLOCKS)]
)
def test_the_python_blocks_of_a_page_run(page: str, workspace: Folder) -> None:
    blocks = [
        {"page": b.page, "line": b.line, "text": b.text, "continues": "continues" in b.markers}
        for b in BLOCKS
        if b.page == page and b.kind == "python"
    ]
    assert not blocks[0]["continues"], f"{page}: the first Python block continues nothing"
    result = subprocess.run(
        [sys.executable, "-c", RUNNER], input=json.dumps(blocks), cwd=workspace(),
        env=environment(), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def commands(block: Block) -> str:
    """The shell text of a block: a ``console`` block's ``$ `` lines, or all of an ``sh``."""
    if block.language == "console":
        return "".join(line[2:] + "\n" for line in block.text.splitlines() if line[:2] == "$ ")
    return block.text


@pytest.mark.parametrize("block", of_kind("shell"))
def test_a_shell_block_runs(block: Block, workspace: Folder) -> None:
    work = workspace(block.markers.get("setup", ""))
    result = bash("set -e\n" + commands(block), work)
    assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr


def line_matches(shown: str, actual: str) -> bool:
    """One shown line against one real line; ``...`` stands for any text."""
    if "..." not in shown:
        return shown == actual
    first, *middle, last = shown.split("...")
    end = len(actual) - len(last)
    if end < len(first) or not actual.startswith(first) or not actual.endswith(last):
        return False
    position = len(first)
    for piece in middle:
        found = actual.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def lines_match(shown: list[str], actual: list[str]) -> bool:
    """``shown`` matches ``actual`` from its first line; a line ``...`` skips any lines."""
    if not shown:
        return True
    if shown[0].strip() == "...":
        return any(lines_match(shown[1:], actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and line_matches(shown[0], actual[0]) and lines_match(shown[1:], actual[1:])


def appears_in(shown: str, output: str) -> bool:
    """The shown lines appear in the output, adjacent (but for ``...`` lines), anywhere."""
    wanted, lines = shown.rstrip("\n").splitlines(), output.splitlines()
    return any(lines_match(wanted, lines[start:]) for start in range(len(lines)))


def data_matches(shown: Any, actual: Any) -> bool:
    """JSON compared as data; a shown string with ``...`` matches as a line does."""
    if isinstance(shown, dict):
        return (
            isinstance(actual, dict)
            and list(shown) == list(actual)
            and all(data_matches(shown[key], actual[key]) for key in shown)
        )
    if isinstance(shown, list):
        return (
            isinstance(actual, list)
            and len(shown) == len(actual)
            and all(data_matches(a, b) for a, b in zip(shown, actual, strict=True))
        )
    if isinstance(shown, str) and isinstance(actual, str) and "..." in shown:
        return line_matches(shown, actual)
    return type(shown) is type(actual) and shown == actual


@pytest.mark.parametrize("block", of_kind("output-of"))
def test_a_shown_output_is_what_its_command_prints(block: Block, workspace: Folder) -> None:
    command = block.markers["output-of"]
    result = bash(command, workspace(block.markers.get("setup", "")))
    assert "Traceback" not in result.stderr, result.stderr
    output = result.stdout + result.stderr
    if block.language == "json":
        assert data_matches(json.loads(block.text), json.loads(result.stdout)), result.stdout
    else:
        assert appears_in(block.text, output), f"{block}: `{command}` printed\n{output}"


@pytest.mark.parametrize("block", of_kind("flag-file"))
def test_a_yaml_block_is_a_valid_flag_file(block: Block) -> None:
    padded = "\n" * block.line + block.text  # issues name the page's own lines
    assert load(InlineSource(padded, name=block.page)).config.flags


def test_every_block_runs_or_says_why_not() -> None:
    unclassified = [f"{b} ({b.language or 'plain'})" for b in BLOCKS if b.kind is None]
    assert unclassified == [], "say how each is checked (this module's docstring): " + ", ".join(
        unclassified
    )
    for block in BLOCKS:
        if block.kind == "not-run":
            assert block.markers["not-run"].strip(), f"{block}: not-run needs a reason"
        if block.kind == "tested-in":
            assert (ROOT / block.markers["tested-in"]).is_file(), f"{block}: no such test"
        if "continues" in block.markers:
            assert block.kind == "python", f"{block}: only Python blocks continue"
        if "setup" in block.markers:
            assert block.kind in {"shell", "output-of"}, f"{block}: nothing runs after setup"
    counts = {kind: sum(b.kind == kind for b in BLOCKS) for kind in {b.kind for b in BLOCKS}}
    skipped = counts.get("not-run", 0)
    assert skipped < len(BLOCKS) - skipped, counts  # a marker is no way around the checks


def test_the_matching_of_shown_output_holds_and_fails() -> None:
    output = "first line\nflags/a.yaml:3:1: [code] message; hint\nsecond\nthird\nsummary: ok\n"
    assert appears_in("flags/a.yaml:3:1: [code] ...; hint\nsecond\n", output)
    assert appears_in("first line\n...\nsummary: ok\n", output)
    assert not appears_in("first line\nsecond\n", output)  # not adjacent
    assert not appears_in("flags/a.yaml:3:2: [code] ...\n", output)  # another column
    assert not appears_in("third\nsecond\n", output)  # not in order
    assert data_matches({"a": [1, "x: ..."]}, {"a": [1, "x: anything"]})
    assert not data_matches({"a": 1}, {"a": 1, "b": 2})
    assert not data_matches({"a": True}, {"a": 1})
