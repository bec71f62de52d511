"""``modelflags report`` through ``main()``: real event files in, a report out; exit codes 0 and 2.
(On a terminal the table is coloured: test_entry_points.py, which needs a real one.)"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from modelflags.analysis import event_aggregation
from modelflags.cli import main

ROOT = Path(__file__).resolve().parents[2]
FLAG = "support_answer_model_route"
NOW = "2026-11-29T20:00:00Z"


def exposure(
    n: int, unit: str, arm: str, *, plan: str, latency: float, error: bool
) -> dict[str, Any]:
    return {
        "event": "exposure", "eventId": f"e-{n}",
        "timestamp": f"2026-11-29T19:{n % 60:02d}:00.000Z",
        "flagKey": FLAG, "experimentKey": "support-route-2026-11", "assignmentUnit": "conversation",
        "unitId": unit, "variation": arm, "assignedVariation": arm, "reason": "SPLIT",
        "rule": "split", "inExperiment": True, "configVersion": "3f2a9c1d", "fallbackUsed": False,
        "fallbackReason": None, "modelRoute": None, "promptVersion": None, "retrievalProfile": None,
        "latencyMs": latency, "estimatedCost": 0.003, "error": error, "errorType": None,
        "attributes": {"plan": plan},
    }  # fmt: skip


def outcome(n: int, unit: str, arm: str, resolved: bool) -> dict[str, Any]:
    return {
        "event": "support_conversation_outcome", "eventId": f"o-{n}",
        "timestamp": f"2026-11-29T19:{n % 60:02d}:30.000Z", "flagKey": FLAG,
        "experimentKey": "support-route-2026-11", "assignmentUnit": "conversation",
        "unitId": unit, "variation": arm, "configVersion": "3f2a9c1d", "value": None,
        "metrics": {"resolvedWithoutEscalation": resolved}, "attributes": {},
    }  # fmt: skip


def write_events(path: Path, units: dict[str, int], *, slow: str | None = None) -> Path:
    """A JSONL file of ``units[arm]`` conversations per arm; ``slow`` is an arm whose calls
    take twice as long."""
    rng = random.Random(7)
    lines = []
    for arm, count in units.items():
        for i in range(count):
            unit = f"{arm}-{i}"
            latency = rng.lognormvariate(6.7, 0.3) * (2.0 if arm == slow else 1.0)
            plan = rng.choice(("pro", "enterprise"))
            lines.append(exposure(len(lines), unit, arm, plan=plan, latency=latency, error=False))
            lines.append(outcome(len(lines), unit, arm, rng.random() < 0.7))
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def events(tmp_path: Path) -> Path:
    return write_events(tmp_path / "events.jsonl", {"control": 900, "candidate": 100})


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    folder = tmp_path / "flags"
    folder.mkdir()
    for path in sorted((ROOT / "flags").glob("*.yaml")):
        shutil.copy(path, folder / path.name)
    return folder


def report(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["report", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_of_real_events(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path
) -> None:
    code, out, err = report(capsys, events, "--flag", FLAG, "--flags", flags, "--format", "json",
                            "--now", NOW)  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["flagKey"] == FLAG and data["method"] == "sequential"
    assert {arm["variation"]: arm["units"] for arm in data["arms"]} == {
        "control": 900,
        "candidate": 100,
    }
    assert data["population"]["randomized"] == 1000
    assert data["input"]["events"] == 2000
    assert data["generatedAt"] == NOW
    assert data["decision"]["action"] in {"continue", "promote", "no_difference"}


def test_a_breached_guardrail_is_still_exit_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: Path
) -> None:
    slow = write_events(
        tmp_path / "slow.jsonl", {"control": 600, "candidate": 400}, slow="candidate"
    )
    code, out, _ = report(capsys, slow, "--flag", FLAG, "--flags", flags, "--format", "json",
                          "--now", NOW)  # fmt: skip
    assert code == 0
    decision = json.loads(out)["decision"]
    assert decision["action"] == "rollback"
    assert decision["command"] == f"modelflags rollback {FLAG} --flags {flags}"


def test_fixed_horizon_and_segments(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path
) -> None:
    code, out, _ = report(capsys, events, "--flag", FLAG, "--flags", flags, "--format", "json",
                          "--fixed-horizon", "--by", "plan", "--now", NOW)  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["method"] == "fixed-horizon"
    assert sorted(s["value"] for s in data["segments"]) == ["enterprise", "pro"]


def test_the_table_has_no_colour_when_stdout_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path
) -> None:
    code, out, _ = report(capsys, events, "--flag", FLAG, "--flags", flags, "--now", NOW)
    assert code == 0
    assert "control" in out and "candidate" in out
    assert "\x1b[" not in out


def test_output_writes_the_html_to_the_file_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, events: Path, flags: Path
) -> None:
    target = tmp_path / "report.html"
    code, out, _ = report(capsys, events, "--flag", FLAG, "--flags", flags, "--format", "html",
                          "--output", target, "--now", NOW)  # fmt: skip
    assert code == 0
    assert out == ""
    assert "<html" in target.read_text(encoding="utf-8").lower()


def test_an_output_that_cannot_be_written_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, events: Path, flags: Path
) -> None:
    target = tmp_path / "no-such-folder" / "report.html"
    code, _, err = report(capsys, events, "--flag", FLAG, "--flags", flags, "--format", "html",
                          "--output", target, "--now", NOW)  # fmt: skip
    assert code == 1
    assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err


@pytest.mark.parametrize("since", ["2026-11-29", "2026-11-29Z"])
def test_a_time_without_a_zone_gets_an_example_that_works(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path, since: str
) -> None:
    code, _, err = report(capsys, events, "--flag", FLAG, "--flags", flags, "--since", since)
    assert code == 2
    example = err.split("(e.g. ", 1)[1].split(")", 1)[0]
    code, _, _ = report(capsys, events, "--flag", FLAG, "--flags", flags, "--since", example,
                        "--now", NOW)  # fmt: skip
    assert code == 0


def test_rfc3339_times_may_be_lowercase(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path
) -> None:
    code, _, _ = report(capsys, events, "--flag", FLAG, "--flags", flags,
                        "--since", "2026-01-01t00:00:00z", "--now", NOW)  # fmt: skip
    assert code == 0


def test_filters_that_leave_nothing_say_so(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path
) -> None:
    code, out, _ = report(capsys, events, "--flag", FLAG, "--flags", flags, "--format", "json",
                          "--config-version", "no-such-version", "--now", NOW)  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["input"]["outsideWindow"] > 0
    (reason,) = data["decision"]["reasons"]
    assert "filters left out all" in reason and "--config-version" in reason


def test_a_missing_events_path_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: Path
) -> None:
    code, out, err = report(capsys, tmp_path / "nope.jsonl", "--flag", FLAG, "--flags", flags)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "nope.jsonl" in err


def test_a_missing_flags_path_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, events: Path
) -> None:
    code, _, err = report(capsys, events, "--flag", FLAG, "--flags", tmp_path / "no-flags")
    assert code == 2
    assert err.count("\n") == 1 and "no-flags" in err


def test_an_unknown_flag_is_exit_2_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path
) -> None:
    code, _, err = report(capsys, events, "--flag", "support_answer_model_rout", "--flags", flags)
    assert code == 2
    assert "no flag 'support_answer_model_rout'" in err and f"did you mean '{FLAG}'" in err


@pytest.mark.parametrize(
    ("flag", "missing"),
    [("summarizer_model", "no split"), ("summarizer_streaming", "no experiment")],
)
def test_a_flag_that_is_not_an_experiment_is_exit_2(
    capsys: pytest.CaptureFixture[str], events: Path, flags: Path, flag: str, missing: str
) -> None:
    code, _, err = report(capsys, events, "--flag", flag, "--flags", flags)
    assert code == 2
    assert missing in err and err.count("\n") == 1


def test_events_or_aggregates_are_needed(capsys: pytest.CaptureFixture[str], flags: Path) -> None:
    code, _, err = report(capsys, "--flag", FLAG, "--flags", flags)
    assert code == 2 and "EVENTS or --aggregates" in err


def test_an_aggregate_table_gives_the_same_report_as_its_events(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, events: Path, flags: Path
) -> None:
    from modelflags.analysis.aggregates import write_aggregates
    from modelflags.analysis.event_aggregation import aggregate_events

    table = tmp_path / "table.parquet"
    write_aggregates(aggregate_events([events], FLAG, ["control", "candidate"]), table)
    common = ("--flag", FLAG, "--flags", flags, "--format", "json", "--now", NOW)
    code_events, from_events, _ = report(capsys, events, *common)
    code_table, from_table, _ = report(capsys, "--aggregates", table, *common)
    assert code_events == code_table == 0
    assert_same(json.loads(from_table), json.loads(from_events))


def assert_same(left: Any, right: Any) -> None:
    """Equal reports, numbers up to rounding (DuckDB adds in parallel, in any order)."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and list(left) == list(right)
        for key in left:
            assert_same(left[key], right[key])
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right)
        for a, b in zip(left, right, strict=True):
            assert_same(a, b)
    elif isinstance(left, float) and not isinstance(right, bool):
        assert right == pytest.approx(left, rel=1e-9, abs=1e-12)
    else:
        assert left == right


def test_a_file_that_is_not_an_aggregate_table_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: Path
) -> None:
    bad = tmp_path / "table.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    code, out, err = report(capsys, "--aggregates", bad, "--flag", FLAG, "--flags", flags)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "table.csv" in err


def test_an_invalid_flag_file_is_exit_2_with_its_located_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, events: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nflags:\n  f: {default: a, variations: {b: 1}}\n")
    code, _, err = report(capsys, events, "--flag", "f", "--flags", broken)
    assert code == 2
    assert f"{broken}:3:" in err


# -- progress of a long aggregation: on a terminal, or with --progress ----------------------------


def test_progress_is_not_printed_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, events: Path, flags: Path
) -> None:
    monkeypatch.setattr(event_aggregation, "PROGRESS_BYTES", 1)  # every input counts as large
    code, _, err = report(capsys, events, "--flag", FLAG, "--flags", flags, "--now", NOW)
    assert (code, err) == (0, "")


def test_progress_flag_prints_progress_on_stderr_that_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, events: Path, flags: Path
) -> None:
    monkeypatch.setattr(event_aggregation, "PROGRESS_BYTES", 1)
    code, _, err = report(capsys, events, "--flag", FLAG, "--flags", flags, "--now", NOW,
                          "--progress")  # fmt: skip
    assert code == 0
    assert err.splitlines() and all(line.startswith("modelflags: ") for line in err.splitlines())


def test_progress_is_printed_when_stderr_is_a_terminal(
    monkeypatch: pytest.MonkeyPatch, events: Path, flags: Path
) -> None:
    monkeypatch.setattr(event_aggregation, "PROGRESS_BYTES", 1)
    controller, terminal_fd = os.openpty()  # a real pseudo-terminal as standard error
    try:
        with open(terminal_fd, "w", encoding="utf-8") as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            argv = ["report", str(events), "--flag", FLAG, "--flags", str(flags), "--now", NOW]
            code = main([*argv, "--output", os.devnull])
            monkeypatch.setattr(sys, "stderr", sys.__stderr__)
        os.set_blocking(controller, False)
        try:
            said = os.read(controller, 65536).decode("utf-8")
        except OSError:  # nothing was written: EAGAIN, or EIO once the terminal side is closed
            said = ""
    finally:
        os.close(controller)
    assert code == 0
    assert said.startswith("modelflags: ")
