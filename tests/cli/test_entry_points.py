"""The command as a user starts it, in real processes: the ``modelflags`` console script,
``python -m modelflags``, their exit codes, a reader that closes the pipe early, and a real
terminal. Everything else drives ``main()`` in-process (the ``cli`` fixture)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import modelflags

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the environment's scripts folder
FLAG = "support_answer_model_route"
CLEAN = """\
version: 1
flags:
  route:
    owner: ai_platform
    default: small
    variations: {small: 1, large: 2}
    split: {small: 50, large: 50}
"""


def run(
    command: list[str | Path],
    cwd: Path | None = None,
    *,
    stdout: int = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a real process; its standard error is always captured."""
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
        env=env, text=True, check=False, timeout=60,
    )  # fmt: skip


def flag_folder(root: Path, text: str = CLEAN) -> Path:
    (root / "flags").mkdir()
    (root / "flags" / "route.yaml").write_text(text)
    return root


def test_python_dash_m_prints_the_version() -> None:
    result = run([sys.executable, "-m", "modelflags", "--version"])
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"modelflags {modelflags.__version__}\n",
        "",
    )


def test_the_version_printed_is_the_installed_distribution_version() -> None:
    assert importlib.metadata.version("modelflags") == modelflags.__version__


@pytest.mark.parametrize(
    ("text", "args", "code", "shown"),
    [
        (CLEAN, [], 0, "flags/: 1 flag, 0 segments: ok\n"),
        (CLEAN.replace("default: small", "default: smal"), [], 1, "[unknown-variation]"),
        (CLEAN, ["--no-such-option"], 2, "error: unrecognized arguments: --no-such-option"),
    ],
    ids=["ok", "findings", "usage"],
)
def test_the_console_script_exits_0_ok_1_findings_2_usage(
    tmp_path: Path, text: str, args: list[str], code: int, shown: str
) -> None:
    result = run([BIN / "modelflags", "validate", *args], cwd=flag_folder(tmp_path, text))
    assert result.returncode == code, result.stderr
    assert shown in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_passes_the_exit_code_on(tmp_path: Path) -> None:
    broken = flag_folder(tmp_path, CLEAN.replace("default: small", "default: smal"))
    result = run([sys.executable, "-m", "modelflags", "validate"], cwd=broken)
    assert result.returncode == 1
    assert result.stdout.startswith("flags/route.yaml:5:14: [unknown-variation]")


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """``modelflags validate | head -n 1`` over more output than a pipe holds: the command
    meets a closed pipe mid-write and ends quietly with exit code 1."""
    long_name = "a_segment_name_long_enough_to_fill_the_pipe_sooner"
    segments = "".join(f"  {long_name}_{n}: {{plan: p{n}}}\n" for n in range(500))  # ~140 kB
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nsegments:\n" + segments + CLEAN.split("\n", 1)[1])
    script = 'modelflags validate "$1" | head -n 1; exit "${PIPESTATUS[0]}"'
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = run(["bash", "-c", script, "bash", big], env=env)
    assert result.stdout.startswith(f"{big}:3:3: warning: [unused-segment]")
    assert result.stdout.count("\n") == 1
    assert (result.returncode, result.stderr) == (1, "")


def test_a_pipe_closed_before_the_first_write_is_exit_1_without_a_traceback(
    tmp_path: Path,
) -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = run([BIN / "modelflags", "validate"], cwd=flag_folder(tmp_path), stdout=writer)
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (1, "")


def write_events(path: Path) -> Path:
    """Exposures and outcomes of 200 conversations per arm of the support flag."""
    lines: list[dict[str, Any]] = []
    for arm in ("control", "candidate"):
        for n in range(200):
            unit = f"{arm}-{n}"
            keys = {"flagKey": FLAG, "experimentKey": "support-route-2026-11",
                    "assignmentUnit": "conversation", "unitId": unit, "variation": arm,
                    "configVersion": "3f2a9c1d"}  # fmt: skip
            lines.append({
                "event": "exposure", "eventId": f"e-{unit}", "timestamp": "2026-11-29T19:00:00Z",
                **keys, "assignedVariation": arm, "reason": "SPLIT", "rule": "split",
                "inExperiment": True, "fallbackUsed": False, "latencyMs": 800.0 + n,
                "estimatedCost": 0.003, "error": False, "attributes": {},
            })  # fmt: skip
            lines.append({
                "event": "support_conversation_outcome", "eventId": f"o-{unit}",
                "timestamp": "2026-11-29T19:01:00Z", **keys, "value": None,
                "metrics": {"resolvedWithoutEscalation": n % 3 != 0}, "attributes": {},
            })  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_on_a_terminal_the_report_is_coloured_unless_no_color(
    tmp_path: Path, no_color: str | None, coloured: bool
) -> None:
    pty = pytest.importorskip("pty")
    events = write_events(tmp_path / "events.jsonl")
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [BIN / "modelflags", "report", events, "--flag", FLAG, "--flags", tmp_path / "flags",
         "--now", "2026-11-29T20:00:00Z"],
        stdout=follower, stderr=subprocess.PIPE, env=env,
    ) as process:  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    os.close(leader)
    shown = b"".join(chunks)
    assert b"control" in shown and b"candidate" in shown
    assert (b"\x1b[" in shown) is coloured
