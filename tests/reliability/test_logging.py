"""The library logs through the standard ``logging`` module, under ``modelflags.*`` loggers:
the application's logging configuration routes and silences it, and nothing the library
logs reaches standard output (which may carry an event stream).

The first tests run a real process: a provider watching a folder sees an invalid edit
(logged as an error) and a valid one (logged as information), under each logging set-up.
"""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openfeature import api

import modelflags
from modelflags import ModelFlagsProvider

ROOT = Path(modelflags.__file__).resolve().parents[2]
SRC = ROOT / "src" / "modelflags"
WAIT = 10.0

FLAGS = "version: 1\nflags:\n  f:\n    default: a\n    variations: {a: 1, b: 2}\n"
INVALID = FLAGS.replace("default: a", "default: c")  # an unknown variation: line 4, col 14
VALID = FLAGS.replace("default: a", "default: b")

SERVICE = """\
import logging, os, sys, time
from openfeature import api
from openfeature.event import ProviderEvent
from modelflags import ModelFlagsProvider

{setup}

folder = sys.argv[1]
seen = []
api.add_handler(ProviderEvent.PROVIDER_STALE, lambda details: seen.append("stale"))
api.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, lambda d: seen.append("changed"))
api.set_provider_and_wait(ModelFlagsProvider(folder, poll_interval=0.02))


def wait_for(event):
    deadline = time.monotonic() + {wait}
    while event not in seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert event in seen, event


for text, event in ((sys.argv[2], "stale"), (sys.argv[3], "changed")):
    with open(os.path.join(folder, "flags.yaml.tmp"), "w") as f:
        f.write(text)
    os.replace(os.path.join(folder, "flags.yaml.tmp"), os.path.join(folder, "flags.yaml"))
    wait_for(event)
api.shutdown()
"""


def run_service(tmp_path: Path, setup: str) -> subprocess.CompletedProcess[str]:
    folder = tmp_path / "flags"
    folder.mkdir()
    (folder / "flags.yaml").write_text(FLAGS)
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    script = SERVICE.format(setup=setup, wait=WAIT)
    return subprocess.run(
        [sys.executable, "-c", script, str(folder), INVALID, VALID],
        env=env, capture_output=True, text=True, timeout=WAIT * 3, check=False,
    )  # fmt: skip


def test_without_logging_configured_nothing_is_printed(tmp_path: Path) -> None:
    result = run_service(tmp_path, setup="")
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


def test_the_applications_logging_config_routes_the_records(tmp_path: Path) -> None:
    setup = (
        "logging.basicConfig(stream=sys.stderr, level=logging.INFO,"
        " format='%(name)s|%(levelname)s|%(message)s')"
    )
    result = run_service(tmp_path, setup)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    located = f"{tmp_path / 'flags' / 'flags.yaml'}:4:14: [unknown-variation]"
    assert any(
        line.startswith("modelflags.store|ERROR|flag source") and located in line for line in lines
    ), lines
    assert any(line.startswith("modelflags.store|INFO|flag source") for line in lines), lines
    assert any(line.startswith("modelflags.store|INFO|flags reloaded") for line in lines), lines


def test_the_applications_logging_config_silences_the_records(tmp_path: Path) -> None:
    setup = (
        "logging.basicConfig(stream=sys.stdout, level=logging.DEBUG)\n"
        "logging.getLogger('modelflags').setLevel(logging.CRITICAL)"
    )
    result = run_service(tmp_path, setup)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("modelflags")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_record_carries_its_context_as_attributes(records: Records, tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    api.set_provider_and_wait(ModelFlagsProvider(path, poll_interval=0.02))
    (tmp_path / "flags.yaml.tmp").write_text(INVALID)
    os.replace(tmp_path / "flags.yaml.tmp", path)
    deadline = time.monotonic() + WAIT
    while not records.records and time.monotonic() < deadline:
        time.sleep(0.01)
    (record,) = records.records
    assert (record.name, record.levelno) == ("modelflags.store", logging.ERROR)
    assert record.source == str(path)  # type: ignore[attr-defined]
    assert record.error.startswith(f"{path}:4:14: [unknown-variation]")  # type: ignore[attr-defined]


def test_the_library_adds_only_a_null_handler() -> None:
    handlers = logging.getLogger("modelflags").handlers
    assert [type(h) for h in handlers] == [logging.NullHandler]


def structlog_importers(exempt: set[str]) -> list[str]:
    """Modules of the package importing structlog, except those named in ``exempt``."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name in exempt:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "structlog" or n.startswith("structlog.") for n in names):
                found.append(name)
                break
    return found


def test_no_module_outside_the_evidence_logs_through_structlog() -> None:
    assert [n for n in structlog_importers(set()) if not n.startswith("evidence/")] == []


def test_no_module_but_the_structlog_tracker_imports_structlog() -> None:
    # StructlogTracker writes events (not the library's logs) through structlog by design.
    assert structlog_importers({"evidence/structlog_tracker.py"}) == []
