"""Each command imports only what it uses: every ``modelflags`` command runs on each commit
(pre-commit, CI), so ``--help`` must not pay for the schema, and ``validate`` or ``rollback``
not for the diff's blast radius. Each case runs ``main(argv)`` in a fresh interpreter and
reads the modules it imported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """\
import contextlib, io, json, sys
from modelflags.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit_:
        code = exit_.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

ENGINE = "modelflags.engine"
DIFF = "modelflags.review.diff.report"
EVERYWHERE = ("openfeature", "duckdb", "httpx", "modelflags.analysis", "modelflags.provider")


def imported(cwd: Path, *argv: str) -> tuple[int, set[str]]:
    """The exit code of ``modelflags ARGV...`` run in a fresh interpreter, and the modules
    it imported."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    data = json.loads(result.stdout)
    return data["code"], set(data["modules"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's flags/ to run the commands in."""
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    return tmp_path


def test_help_imports_no_schema_loader_or_review_code(project: Path) -> None:
    code, modules = imported(project, "--help")
    assert code == 0
    heavy = {"pydantic", "yaml", "modelflags.schema", "modelflags.loader", "modelflags.review"}
    assert heavy.isdisjoint(modules)
    assert set(EVERYWHERE).isdisjoint(modules)


@pytest.mark.parametrize(
    ("argv", "unused"),
    [
        (("validate", "flags/"), (ENGINE, DIFF, "modelflags.loader.prices")),
        (("rollback", "support_answer_model_route", "--dry-run"), (DIFF,)),
        (("schema",), ("yaml", "modelflags.loader")),
    ],
    ids=["validate", "rollback", "schema"],
)
def test_a_command_does_not_import_what_it_does_not_use(
    project: Path, argv: tuple[str, ...], unused: tuple[str, ...]
) -> None:
    code, modules = imported(project, *argv)
    assert code == 0
    assert {*unused, *EVERYWHERE}.isdisjoint(modules)
