"""Fixtures for driving the ``modelflags`` command line: ``cli`` runs ``main(argv)`` in this
process with its own standard streams, so a test costs no interpreter start-up; the few tests
that need a real process (the console script, ``python -m``, broken pipes, a terminal) live in
test_entry_points.py."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelflags.cli import main

ROOT = Path(__file__).resolve().parents[2]

Cli = Callable[..., subprocess.CompletedProcess[str]]


class _KeptBuffer(io.BytesIO):
    """Bytes that outlive ``close()``: ``main()`` closes standard error after a broken pipe,
    and the test still reads what was written before."""

    def close(self) -> None:
        """Keep the contents readable."""


def _stream(errors: str) -> io.TextIOWrapper:
    """A text stream like the real ones: UTF-8 over bytes, so ``main()`` reconfigures it just
    as it does ``sys.stdout`` (text that cannot be encoded is escaped) and ``isatty()`` is
    False, as on a pipe."""
    return io.TextIOWrapper(_KeptBuffer(), encoding="utf-8", errors=errors, write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    """What was written, decoded with universal newlines as ``subprocess.run(text=True)``
    decodes a child's output."""
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _working_directory(cwd: Path | None) -> Iterator[None]:
    if cwd is None:
        yield
        return
    before = os.getcwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


def run_main(
    *args: str | Path, cwd: Path | None = None, input: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``modelflags ARGS...`` in-process: ``main(argv)`` with fresh standard streams
    (``input`` on standard input, as ``subprocess.run(input=...)``) in ``cwd``. Returns what a
    subprocess run would: the exit code, standard output and standard error. An exception that
    escapes ``main()`` fails the test with its traceback, as it would crash the command."""
    argv = [str(arg) for arg in args]
    stdout, stderr = _stream("strict"), _stream("backslashreplace")
    stdin = io.TextIOWrapper(io.BytesIO(input.encode("utf-8")), encoding="utf-8")
    saved_stdin = sys.stdin
    sys.stdin = stdin
    try:
        with (
            _working_directory(cwd),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            try:
                code = main(argv)
            except SystemExit as exit_:  # what ``raise SystemExit(main())`` would exit with
                code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["modelflags", *argv], code, _text(stdout), _text(stderr))


@pytest.fixture
def cli() -> Cli:
    """Run ``modelflags ARGS...`` in-process (``cwd=`` and ``input=`` optional); never raises
    on exit codes."""
    return run_main


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
