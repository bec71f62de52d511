"""``modelflags promote`` through ``main()``: the edit, a result that ``validate --strict``
accepts, a run in a real git repository, and a running OpenFeature provider that serves the
winner once the file is edited."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags import ModelFlagsProvider
from modelflags.cli import main
from modelflags.engine.bucketing import Split

Cli = Callable[..., subprocess.CompletedProcess[str]]
SUPPORT = "support_answer_model_route"
ELIGIBLE = {"plan": "pro", "channel": "chat", "accountId": "acct_3"}
WAIT = 5.0  # the longest a test waits for the provider; reached only when it fails


def promote(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``modelflags promote ARGS`` in-process: (exit code, stdout, stderr)."""
    code = main(["promote", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def removed_lines(old: str, new: str) -> list[str]:
    diff = difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True))
    return [line[2:] for line in diff if line.startswith("- ")]


def test_promote_edits_the_file_and_prints_diff_blast_radius_and_summary(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flags_copy / "support.yaml"
    old = path.read_text()
    code, out, err = promote(
        capsys, SUPPORT, "candidate", "--flags", flags_copy,
        "--context", '{"plan": "pro", "channel": "chat"}', "--samples", "20000",
    )  # fmt: skip
    assert (code, err) == (0, "")
    new = path.read_text()
    experiment = old[old.index("    experiment:\n") : old.index("    metadata:")]
    assert new == old.replace("default: control", "default: candidate").replace(
        old[old.index("      control: ") : old.index("      candidate: ")], ""
    ).replace("    coverage: 100\n    split: {control: 90, candidate: 10}\n", "").replace(
        experiment, ""
    )  # fmt: skip
    assert "+    default: candidate" in out and "-    split: {control: 90, candidate: 10}" in out
    assert "**Moves ~" in out and "control → candidate" in out  # eligible synthetic traffic
    assert "Promoted 'candidate': default control → candidate; removed coverage, split," in out
    assert "Removed 'control': nothing serves it any more" in out
    assert "Events no longer carry experiment key 'support-route-2026-11'." in out


def test_the_promoted_source_passes_validate_strict(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote(capsys, SUPPORT, "candidate", "--flags", flags_copy, "--samples", "100")[0] == 0
    assert promote(capsys, "summarizer_streaming", "on", "--flags", flags_copy)[0] == 0
    assert main(["validate", "--strict", str(flags_copy)]) == 0
    out, _ = capsys.readouterr()
    assert out.endswith(": ok\n") and "warning" not in out


def test_dry_run_prints_and_leaves_the_files(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in flags_copy.iterdir()}
    code, out, _ = promote(capsys, "summarizer_streaming", "on", "--flags", flags_copy, "--dry-run")
    assert code == 0
    assert "-    variations: {on: true, off: false}\n" in out
    assert "+    variations: {on: true}\n" in out and "-    split: {on: 50, off: 50}\n" in out
    assert "**Moves 50.0% of users:** off → on 50.0%." in out  # no conditions: exact
    assert {p: p.read_bytes() for p in flags_copy.iterdir()} == before


@pytest.mark.parametrize(
    ("flag", "variation", "code_text"),
    [
        ("answer_temperature", "warm", "[promote-off]"),
        ("summarizer_model", "large", "[no-split]"),
        (SUPPORT, "fallback", "[not-an-arm] 'fallback' gets no units in the split"),
        (SUPPORT, "candiate", "did you mean 'candidate'?"),
    ],
)
def test_refusals_exit_1_located_and_leave_the_files(
    flags_copy: Path, capsys: pytest.CaptureFixture[str], flag: str, variation: str, code_text: str
) -> None:
    before = {p: p.read_bytes() for p in flags_copy.iterdir()}
    code, out, err = promote(capsys, flag, variation, "--flags", flags_copy)
    assert (code, out) == (1, "")
    assert err.startswith(str(flags_copy)) and code_text in err
    assert {p: p.read_bytes() for p in flags_copy.iterdir()} == before


def test_promoting_again_is_no_change(flags_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert promote(capsys, "summarizer_streaming", "on", "--flags", flags_copy)[0] == 0
    after = (flags_copy / "assistant.yaml").read_bytes()
    code, out, err = promote(capsys, "summarizer_streaming", "on", "--flags", flags_copy)
    assert (code, out) == (0, "") and "already serves 'on'" in err
    assert (flags_copy / "assistant.yaml").read_bytes() == after


MERGED = """\
version: 1
flags:
  base: &base
    owner: team
    default: a
    variations: {a: 1, b: 2}
    split: {a: 50, b: 50}   # shared with copy
  copy:
    <<: *base
    description: the same experiment, another key
"""


def test_a_split_shared_through_a_merge_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "merged.yaml"
    path.write_text(MERGED)
    code, out, err = promote(capsys, "base", "b", "--file", path)
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}:9:5: [shared-yaml] promote of flag 'base' would also change")
    code, _, err = promote(capsys, "copy", "b", "--file", path)
    assert code == 1 and err.startswith(f"{path}:9:5: [shared-yaml] 'split' of flag 'copy'")
    assert path.read_text() == MERGED


def test_a_bad_samples_option_is_a_usage_error(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote(capsys, SUPPORT, "candidate", "--flags", flags_copy, "--samples", "0")[0] == 2


def test_a_running_provider_serves_the_winner_after_promote(
    flags_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    split = Split(SUPPORT, {"control": 90, "candidate": 10})  # salt: the flag's assignment.salt
    unit = next(f"conv-{i}" for i in range(100) if split.choose(f"conv-{i}") == "control")
    api.set_provider_and_wait(ModelFlagsProvider(flags_copy, poll_interval=0.05))
    client = api.get_client()
    context = EvaluationContext(unit, {**ELIGIBLE, "conversationId": unit})
    before = client.get_object_details(SUPPORT, {}, context)
    assert (before.variant, before.flag_metadata["experimentKey"]) == (
        "control", "support-route-2026-11"
    )  # fmt: skip
    assert promote(capsys, SUPPORT, "candidate", "--flags", flags_copy, "--samples", "100")[0] == 0
    deadline = time.monotonic() + WAIT
    details = client.get_object_details(SUPPORT, {}, context)
    while details.variant != "candidate" and time.monotonic() < deadline:
        time.sleep(0.02)
        details = client.get_object_details(SUPPORT, {}, context)
    assert (details.variant, details.reason) == ("candidate", "DEFAULT")
    assert details.value["modelRoute"] == "support_model_b"
    assert "experimentKey" not in details.flag_metadata


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_in_a_git_repository_promote_then_validate_strict_pass(cli: Cli, git_repo: Path) -> None:
    result = cli("promote", SUPPORT, "candidate", "--samples", "1000", cwd=git_repo)
    assert result.returncode == 0, result.stderr
    assert "Promoted 'candidate'" in result.stdout
    stat = subprocess.run(
        ["git", "diff", "--numstat"], cwd=git_repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert stat[1:] != ["0", "flags/support.yaml"] and stat[2] == "flags/support.yaml"
    assert int(stat[0]) == 1  # one line added: the new default; the rest are removals
    assert cli("validate", "--strict", cwd=git_repo).returncode == 0
