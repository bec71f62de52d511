"""``modelflags ramp`` through ``main()``: the edit, the printed blast radius against the
engine, a run in a real git repository, and a running OpenFeature provider that serves the new
assignment once the file is edited."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags import ModelFlagsProvider, load_flags
from modelflags.cli import main
from modelflags.engine import compile_flags, decide
from modelflags.engine.bucketing import Split
from modelflags.loader import load

Cli = Callable[..., subprocess.CompletedProcess[str]]
SUPPORT = "support_answer_model_route"
ELIGIBLE = {"plan": "pro", "channel": "chat", "accountId": "acct_3"}
WAIT = 5.0  # the longest a test waits for the provider; reached only when it fails


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def ramp(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``modelflags ramp ARGS`` in-process: (exit code, stdout, stderr)."""
    code = main(["ramp", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True)))
    return (
        [line[2:] for line in diff if line.startswith("- ")],
        [line[2:] for line in diff if line.startswith("+ ")],
    )


def test_ten_to_twenty_five_changes_one_line_and_prints_diff_and_blast_radius(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flags_copy / "support.yaml"
    old = path.read_text()
    code, out, err = ramp(capsys, SUPPORT, "candidate", "25", "--flags", flags_copy)
    assert (code, err) == (0, "")
    assert changed_lines(old, path.read_text()) == (
        ["    split: {control: 90, candidate: 10}\n"],
        ["    split: {control: 75, candidate: 25}\n"],
    )
    assert out.startswith(f"--- a/{path}\n+++ b/{path}\n")
    assert "+    split: {control: 75, candidate: 25}" in out
    assert (
        "**Moves 15.0% of conversations that reach the split:** control → candidate 15.0%." in out
    )
    assert "| control | 75.0% | 15.0% | 90.0% |" in out
    assert "Ramped 'candidate' to 25% of the split: control 90 → 75, candidate 10 → 25." in out
    assert "16.7% of the units in 'control' move to 'candidate'." in out


def test_the_printed_blast_radius_matches_sampling_the_engine(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = compile_flags(load(flags_copy).config, "old")[SUPPORT]
    code, out, _ = ramp(capsys, SUPPORT, "candidate", "25", "--flags", flags_copy)
    assert code == 0
    after = compile_flags(load(flags_copy).config, "new")[SUPPORT]
    printed = re.search(r"control → candidate (\d+\.\d)%\.", out)
    of_control = re.search(r"(\d+\.\d)% of the units in 'control' move to 'candidate'", out)
    assert printed is not None and of_control is not None
    assert float(printed[1]) == pytest.approx(15.0) and float(of_control[1]) == 16.7  # 15/90
    n, in_control, moved = 40_000, 0, 0
    for i in range(n):
        context = {**ELIGIBLE, "conversationId": f"conv-{i}"}
        old, new = (
            decide(before, context, None, None)[0].variant,
            decide(after, context, None, None)[0].variant,
        )
        in_control += old == "control"
        moved += (old, new) == ("control", "candidate")
        assert (old, new) != ("candidate", "control")  # ramping up never moves units out
    share = moved / in_control
    sigma = ((15 / 90) * (75 / 90) / in_control) ** 0.5
    assert abs(share - 15 / 90) < 4.5 * sigma, (share, sigma)
    assert abs(moved / n - float(printed[1]) / 100) < 4.5 * (0.15 * 0.85 / n) ** 0.5


def test_lowering_is_refused_without_force_and_made_with_it(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flags_copy / "support.yaml"
    original = path.read_bytes()
    assert ramp(capsys, SUPPORT, "candidate", "25", "--flags", flags_copy)[0] == 0
    ramped = path.read_bytes()
    code, out, err = ramp(capsys, SUPPORT, "candidate", "10", "--flags", flags_copy)
    line = next(i for i, text in enumerate(ramped.decode().splitlines(), 1) if "split:" in text)
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}:{line}:")
    assert "[ramp-down] ramping 'candidate' from 25% to 10% of the split moves 60.0%" in err
    assert "pass --force" in err
    assert path.read_bytes() == ramped
    code, out, _ = ramp(capsys, SUPPORT, "candidate", "10", "--flags", flags_copy, "--force")
    assert code == 0 and "candidate → control 15.0%" in out
    assert path.read_bytes() == original


def test_dry_run_prints_the_same_and_leaves_the_file(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in flags_copy.iterdir()}
    code, out, _ = ramp(capsys, SUPPORT, "candidate", "50", "--flags", flags_copy, "--dry-run")
    assert code == 0 and "+    split: {control: 50, candidate: 50}" in out
    assert "control → candidate 40.0%" in out
    assert {p: p.read_bytes() for p in flags_copy.iterdir()} == before


@pytest.mark.parametrize("percent", ["101", "-5", "abc", "12.34567", "nan"])
def test_a_bad_percent_is_a_usage_error(
    flags_copy: Path, capsys: pytest.CaptureFixture[str], percent: str
) -> None:
    code, out, err = ramp(capsys, SUPPORT, "candidate", percent, "--flags", flags_copy)
    assert (code, out) == (2, "")
    assert "PERCENT" in err or "-5" in err


def test_unknown_flag_and_variation_exit_1_with_did_you_mean(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in flags_copy.iterdir()}
    code, _, err = ramp(
        capsys, "support_answer_model_rout", "candidate", "20", "--flags", flags_copy
    )
    assert code == 1 and "[unknown-flag]" in err and f"did you mean '{SUPPORT}'?" in err
    code, _, err = ramp(capsys, SUPPORT, "candidat", "20", "--flags", flags_copy)
    assert code == 1 and f"{flags_copy / 'support.yaml'}:12:3: [unknown-variation]" in err
    assert "did you mean 'candidate'?" in err
    assert {p: p.read_bytes() for p in flags_copy.iterdir()} == before


def test_a_flag_without_a_split_is_a_located_error(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ramp(capsys, "summarizer_model", "large", "10", "--flags", flags_copy)
    assert (code, out) == (1, "")
    assert f"{flags_copy / 'assistant.yaml'}:14:3: [no-split] flag 'summarizer_model'" in err


def test_the_current_share_is_no_change(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (flags_copy / "support.yaml").read_bytes()
    code, out, err = ramp(capsys, SUPPORT, "candidate", "10%", "--flags", flags_copy)
    assert (code, out) == (0, "") and "no change" in err
    assert (flags_copy / "support.yaml").read_bytes() == before


THREE_ARMS = """\
version: 1
flags:
  route:
    owner: team
    default: a
    variations: {a: 1, b: 2, c: 3}
    split:         # c is the newest route
      a: 50
      b: 30
      c: 20
"""


def test_a_three_arm_ramp_reports_rounding_and_moves_only_between_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "route.yaml"
    path.write_text(THREE_ARMS)
    code, out, _ = ramp(capsys, "route", "c", "40", "--file", path)
    assert code == 0
    expected = THREE_ARMS.replace("a: 50", "a: 38").replace("b: 30", "b: 22")
    assert path.read_text() == expected.replace("c: 20", "c: 40")
    assert "Rounding: at a total of 100 the other arms cannot keep their exact ratio" in out
    moves = re.search(r"\*\*Moves [^*]+:\*\* (.*)\.", out)
    assert moves is not None and "b → a" in moves[1]
    assert not re.search(r"\bc → ", moves[1])  # nothing leaves the ramped arm


def test_an_anchor_shared_split_is_refused_and_the_file_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(
        "version: 1\nflags:\n"
        "  a: {owner: t, default: x, variations: {x: 1, y: 2}, split: &s {x: 90, y: 10}}\n"
        "  b: {owner: t, default: x, variations: {x: 1, y: 2}, split: *s}\n"
    )
    before = path.read_bytes()
    code, out, err = ramp(capsys, "a", "y", "20", "--file", path)
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}:4:55: [shared-yaml] ramp of flag 'a' would also change")
    assert path.read_bytes() == before


def test_a_running_provider_serves_the_ramped_assignment(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    salt = SUPPORT  # the flag's assignment.salt
    old, new = (
        Split(salt, {"control": 90, "candidate": 10}),
        Split(salt, {"control": 75, "candidate": 25}),
    )
    unit = next(
        f"conv-{i}" for i in range(10_000)
        if (old.choose(f"conv-{i}"), new.choose(f"conv-{i}")) == ("control", "candidate")
    )  # fmt: skip
    api.set_provider_and_wait(ModelFlagsProvider(flags_copy, poll_interval=0.05))
    client = api.get_client()
    context = EvaluationContext(unit, {**ELIGIBLE, "conversationId": unit})
    assert client.get_object_details(SUPPORT, {}, context).variant == "control"
    assert ramp(capsys, SUPPORT, "candidate", "25", "--flags", flags_copy)[0] == 0
    deadline = time.monotonic() + WAIT
    details = client.get_object_details(SUPPORT, {}, context)
    while details.variant != "candidate" and time.monotonic() < deadline:
        time.sleep(0.02)
        details = client.get_object_details(SUPPORT, {}, context)
    assert (details.variant, details.reason) == ("candidate", "SPLIT")
    assert details.value["modelRoute"] == "support_model_b"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_in_a_git_repository_a_ramp_is_a_one_line_diff(cli: Cli, git_repo: Path) -> None:
    result = cli("ramp", SUPPORT, "candidate", "25", cwd=git_repo)  # --flags defaults to flags/
    assert result.returncode == 0, result.stderr
    assert "control → candidate 15.0%" in result.stdout
    assert git(git_repo, "diff", "--numstat").split() == ["1", "1", "flags/support.yaml"]
    assert load_flags(git_repo / "flags").config.flags[SUPPORT].split == {
        "control": 75,
        "candidate": 25,
    }


def test_help_and_missing_arguments(cli: Cli) -> None:
    assert cli("ramp", SUPPORT, "candidate").returncode == 2
    result = cli("ramp", "--help")
    assert result.returncode == 0 and "PERCENT" in result.stdout and "--force" in result.stdout
