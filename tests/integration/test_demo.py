"""The main job end to end: the README's demo routes simulated conversations, records the
evidence, and reads the experiment with ``modelflags report`` (table and HTML page)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelflags.cli import main

ROOT = Path(__file__).resolve().parents[2]
FLAG = "support_answer_model_route"
ACTIONS = ("ROLLBACK", "INVESTIGATE", "PROMOTE", "NO DIFFERENCE", "CONTINUE")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The demo's printed output and its events file, for 6,000 conversations."""
    events = tmp_path_factory.mktemp("demo") / "events" / "support.jsonl"
    result = subprocess.run(
        [sys.executable, "examples/support_route_demo.py", "--conversations", "6000",
         "--events", str(events)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout, events


def json_report(events: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["report", str(events), "--flag", FLAG, "--flags", str(ROOT / "flags"),
                 "--format", "json"])  # fmt: skip
    assert code == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def test_the_demo_ends_with_the_verdict_and_the_arm_table(demo: tuple[str, Path]) -> None:
    output, _ = demo
    routing, report = output.split("$ modelflags report", 1)
    assert "evidence:" in routing
    verdict = report.split("\n\n", 1)[1].lstrip()  # the first line after the command
    assert verdict.startswith(ACTIONS), verdict
    assert "control" in report and "candidate" in report and "Guardrails" in report


def test_the_demo_writes_the_html_page_next_to_the_events(demo: tuple[str, Path]) -> None:
    _, events = demo
    page = events.with_suffix(".report.html").read_text()
    assert page.lower().startswith("<!doctype html>") and page.count("<svg") >= 2
    assert FLAG in page


def test_the_report_finds_the_candidate_faster_and_cheaper(
    demo: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, events = demo
    report = json_report(events, capsys)
    found = {(c["variation"], c["metric"]): c for c in report["comparisons"]}
    for metric in ("latency_ms", "cost"):  # simulated: 650 vs 900 ms, 0.0025 vs 0.004
        comparison = found[("candidate", metric)]
        assert comparison["diff"] < 0 and comparison["ci95"][1] < 0, comparison
        assert comparison["pValue"] < 0.05


def test_the_report_compares_only_randomised_conversations(
    demo: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, events = demo
    report = json_report(events, capsys)
    population = report["population"]
    assert population["randomized"] == sum(arm["units"] for arm in report["arms"])
    # internal traffic (a rule), excluded accounts and ineligible plans are counted apart
    assert {"TARGETING_MATCH", "DEFAULT"} <= set(population["byReason"])
    assert population["multipleAssignments"] == 0 and not report["srm"]["mismatch"]


def test_the_readme_report_and_edit_commands_run_on_the_demo_events(
    demo: tuple[str, Path], tmp_path: Path
) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Read the experiment, then act\n", 1)[1].split("\n## ", 1)[0]
    (commands,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    _, events = demo
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    (tmp_path / "events").mkdir()
    shutil.copy(events, tmp_path / "events" / "support.jsonl")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    outputs = []
    for command in commands.splitlines():
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env={**os.environ, "PATH": path},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        outputs.append(result.stdout)
    table, markdown, _, ramp, promote = outputs
    assert table.startswith(ACTIONS)
    assert "| variation |" in markdown and "plan" in markdown
    assert "<svg" in (tmp_path / "report.html").read_text()
    assert "+    split: {control: 75, candidate: 25}" in ramp
    assert "+    default: candidate" in promote
