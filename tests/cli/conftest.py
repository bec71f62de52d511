"""Fixtures for driving the real ``modelflags`` command line in subprocesses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli() -> Cli:
    """Run ``python -m modelflags ARGS...`` (``cwd=`` optional); never raises on exit codes."""

    def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelflags", *map(str, args)],
            capture_output=True, text=True, check=False, timeout=120, cwd=cwd,
        )  # fmt: skip

    return run


@pytest.fixture
def flags_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's flags/ folder."""
    folder = tmp_path / "flags"
    folder.mkdir()
    for path in sorted((ROOT / "flags").glob("*.yaml")):
        shutil.copy(path, folder / path.name)
    return folder


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; return its standard output."""
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A real git repository with the repository's flags/ committed on ``main``."""
    repo = tmp_path / "repo"
    (repo / "flags").mkdir(parents=True)
    for path in sorted((ROOT / "flags").glob("*.yaml")):
        shutil.copy(path, repo / "flags" / path.name)
    git(repo, "init", "-q")
    git(repo, "add", "flags")
    git(repo, "commit", "-q", "-m", "flags")
    return repo
