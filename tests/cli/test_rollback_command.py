"""``modelflags rollback``: the kill switch as an edit, through ``main()``."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags import ModelFlagsProvider, load_flags

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = "support_answer_model_route"


Cli = Callable[..., subprocess.CompletedProcess[str]]
Rollback = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def rollback(cli: Cli) -> Rollback:
    """Run ``modelflags rollback ARGS...`` through ``main()`` (``cwd=`` optional)."""

    def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return cli("rollback", *args, cwd=cwd)

    return run


@pytest.fixture
def flags_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "flags"
    folder.mkdir()
    for name in ("support.yaml", "assistant.yaml"):
        shutil.copy(ROOT / "flags" / name, folder / name)
    return folder


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """The removed and added lines of an edit, without context."""
    diff = list(difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True)))
    return (
        [line[2:] for line in diff if line.startswith("- ")],
        [line[2:] for line in diff if line.startswith("+ ")],
    )


def test_rollback_changes_only_state_and_default(rollback: Rollback, flags_dir: Path) -> None:
    path = flags_dir / "support.yaml"
    old = path.read_text()
    result = rollback(SUPPORT, "--file", path)
    assert result.returncode == 0, result.stderr
    new = path.read_text()
    assert changed_lines(old, new) == (
        ["    state: on\n", "    default: control\n"],
        ["    state: off\n", "    default: fallback\n"],
    )
    assert "-    state: on" in result.stdout and "+    default: fallback" in result.stdout
    assert result.stdout.startswith(f"--- a/{path}\n+++ b/{path}\n")
    # every other byte kept: comments, order, flow mappings, spacing
    assert new == old.replace(
        "state: on\n    default: control", "state: off\n    default: fallback"
    )


def test_rolled_back_flag_serves_the_target_with_reason_disabled(
    rollback: Rollback, flags_dir: Path
) -> None:
    path = flags_dir / "support.yaml"
    assert rollback(SUPPORT, "--file", path).returncode == 0
    resolution = load_flags(path).evaluate(
        SUPPORT, {"targetingKey": "c1", "conversationId": "c1", "plan": "pro", "channel": "chat"}
    )
    assert (resolution.variant, resolution.reason) == ("fallback", "DISABLED")


def test_to_picks_the_variation_and_state_absent_is_inserted(
    rollback: Rollback, flags_dir: Path
) -> None:
    path = flags_dir / "assistant.yaml"
    old = path.read_text()
    result = rollback("reranker_top_k", "--to", "k12", "--file", path)
    assert result.returncode == 0, result.stderr
    new = path.read_text()
    assert changed_lines(old, new) == (
        ["    default: k8\n"],
        ["    state: off\n", "    default: k12\n"],
    )
    assert "  reranker_top_k:\n    state: off\n    description:" in new
    resolution = load_flags(path).evaluate(
        "reranker_top_k", {"targetingKey": "u1", "accountId": "a"}
    )
    assert (resolution.variant, resolution.value, resolution.reason) == ("k12", 12, "DISABLED")


def test_without_fallback_the_default_stays_and_plain_on_off_names_work(
    rollback: Rollback, flags_dir: Path
) -> None:
    path = flags_dir / "assistant.yaml"
    old = path.read_text()
    result = rollback("summarizer_streaming", "--file", path)
    assert result.returncode == 0, result.stderr
    assert changed_lines(old, path.read_text()) == (["    state: on\n"], ["    state: off\n"])
    result = rollback("summarizer_streaming", "--to", "on", "--file", path)
    assert result.returncode == 0, result.stderr
    assert changed_lines(old, path.read_text()) == (
        ["    state: on\n", "    default: off\n"],
        ["    state: off\n", "    default: on\n"],
    )
    resolution = load_flags(path).evaluate("summarizer_streaming", {"targetingKey": "u1"})
    assert (resolution.value, resolution.reason) == (True, "DISABLED")


FLOW = """\
# flow style, quoted values
version: 1
flags:
  quoted: {state: 'on', default: "small", variations: {small: 1, large: 2}}  # keep me
  bare:   { default: 'small' , variations: {small: 1, large: 2} }
"""


def test_flow_style_and_quoted_values_keep_their_style(rollback: Rollback, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW)
    assert rollback("quoted", "--to", "large", "--file", path).returncode == 0
    assert rollback("bare", "--to", "large", "--file", path).returncode == 0
    assert path.read_text() == FLOW.replace(
        """{state: 'on', default: "small",""", """{state: 'off', default: "large","""
    ).replace("{ default: 'small' ,", "{ state: off, default: 'large' ,")
    for key in ("quoted", "bare"):
        resolution = load_flags(path).evaluate(key, {"targetingKey": "u"})
        assert (resolution.variant, resolution.reason) == ("large", "DISABLED")


def test_crlf_line_endings_are_kept(rollback: Rollback, tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    original = b"version: 1\r\nflags:\r\n  f:\r\n    default: a\r\n    variations: {a: 1, b: 2}\r\n"
    path.write_bytes(original)
    assert rollback("f", "--to", "b", "--file", path).returncode == 0
    assert path.read_bytes() == original.replace(
        b"  f:\r\n    default: a", b"  f:\r\n    state: off\r\n    default: b"
    )


def test_unknown_variation_exits_1_with_did_you_mean_and_leaves_the_file(
    rollback: Rollback, flags_dir: Path
) -> None:
    path = flags_dir / "support.yaml"
    before = path.read_bytes()
    result = rollback(SUPPORT, "--to", "candidat", "--file", path)
    assert result.returncode == 1
    assert f"{path}:12:3: [unknown-variation]" in result.stderr
    assert "known: control, candidate, fallback" in result.stderr
    assert "did you mean 'candidate'?" in result.stderr
    assert result.stdout == ""
    assert path.read_bytes() == before


def test_unknown_flag_exits_1_with_did_you_mean(rollback: Rollback, flags_dir: Path) -> None:
    before = {p: p.read_bytes() for p in flags_dir.iterdir()}
    result = rollback("summarizer_modle", "--flags", flags_dir)
    assert result.returncode == 1
    assert "[unknown-flag]" in result.stderr and "did you mean 'summarizer_model'?" in result.stderr
    result = rollback("nope", "--file", flags_dir / "support.yaml")
    assert result.returncode == 1
    assert f"{flags_dir / 'support.yaml'}:11:1: [unknown-flag]" in result.stderr
    assert {p: p.read_bytes() for p in flags_dir.iterdir()} == before


def test_usage_errors_exit_2_and_help_exits_0(rollback: Rollback) -> None:
    assert rollback().returncode == 2
    assert rollback(SUPPORT, "--bogus").returncode == 2
    result = rollback("--help")
    assert result.returncode == 0 and "--to VARIATION" in result.stdout


def test_a_directory_finds_the_right_file_and_keeps_its_mode(
    rollback: Rollback, flags_dir: Path
) -> None:
    support = flags_dir / "support.yaml"
    assistant = flags_dir / "assistant.yaml"
    support.chmod(0o640)
    untouched = assistant.read_bytes()
    result = rollback(SUPPORT, "--flags", flags_dir)
    assert result.returncode == 0, result.stderr
    assert "+    default: fallback" in result.stdout
    assert assistant.read_bytes() == untouched
    assert "state: off\n    default: fallback" in support.read_text()
    assert support.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in flags_dir.iterdir()) == ["assistant.yaml", "support.yaml"]
    resolution = load_flags(flags_dir).evaluate(SUPPORT, {"targetingKey": "c1"})
    assert (resolution.variant, resolution.reason) == ("fallback", "DISABLED")


def test_default_flags_directory_and_dry_run(rollback: Rollback, flags_dir: Path) -> None:
    before = (flags_dir / "support.yaml").read_bytes()
    result = rollback(SUPPORT, "--dry-run", cwd=flags_dir.parent)  # --flags defaults to flags/
    assert result.returncode == 0, result.stderr
    assert "+    state: off" in result.stdout
    assert (flags_dir / "support.yaml").read_bytes() == before


def test_rolling_back_twice_is_a_no_op(rollback: Rollback, flags_dir: Path) -> None:
    path = flags_dir / "support.yaml"
    assert rollback(SUPPORT, "--file", path).returncode == 0
    after = path.read_bytes()
    result = rollback(SUPPORT, "--file", path)
    assert result.returncode == 0 and result.stdout == ""
    assert "no change" in result.stderr
    assert path.read_bytes() == after


def test_a_running_provider_picks_up_the_rollback(rollback: Rollback, flags_dir: Path) -> None:
    api.set_provider_and_wait(ModelFlagsProvider(flags_dir))
    client = api.get_client()
    context_attrs = {"conversationId": "c1", "plan": "pro", "channel": "chat"}
    context = EvaluationContext("c1", context_attrs)
    before = client.get_object_details(SUPPORT, {}, context)
    assert before.variant in {"control", "candidate"}
    assert rollback(SUPPORT, "--flags", flags_dir).returncode == 0
    deadline = time.monotonic() + 1.0
    while True:
        details = client.get_object_details(SUPPORT, {}, context)
        if details.variant == "fallback" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert (details.variant, details.reason) == ("fallback", "DISABLED")
    assert details.value["retrievalProfile"] == "safe_fallback"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_in_a_git_repository_the_diff_is_two_lines(rollback: Rollback, flags_dir: Path) -> None:
    repo = flags_dir.parent
    git(repo, "init", "-q")
    git(repo, "add", "flags")
    git(repo, "commit", "-q", "-m", "flags")
    result = rollback(SUPPORT, "--flags", "flags", cwd=repo)
    assert result.returncode == 0, result.stderr
    stat = git(repo, "diff", "--stat")
    assert "1 file changed, 2 insertions(+), 2 deletions(-)" in stat
    assert "flags/support.yaml" in stat
    assert git(repo, "status", "--porcelain").strip() == "M flags/support.yaml"
    assert os.path.exists(repo / "flags" / "support.yaml")


MERGED = """\
version: 1
flags:
  base: &base
    owner: team
    default: small
    variations: {small: 1, large: 2, fallback: 0}
    split: {small: 50, large: 50}
  copy:            # the same experiment under another key
    <<: *base
"""


def test_a_flag_merged_by_another_is_refused_and_the_merging_one_rolls_back_alone(
    rollback: Rollback, tmp_path: Path
) -> None:
    path = tmp_path / "merged.yaml"
    path.write_text(MERGED)
    result = rollback("base", "--file", path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"{path}:9:5: [shared-yaml] rollback of flag 'base'")
    assert "'flags.copy.default', 'flags.copy.state' (merged with '<<'" in result.stderr
    assert path.read_text() == MERGED
    result = rollback("copy", "--file", path)
    assert result.returncode == 0, result.stderr
    assert path.read_text() == MERGED.replace(
        "  copy:            # the same experiment under another key\n",
        "  copy:            # the same experiment under another key\n"
        "    state: off\n    default: fallback\n",
    )
    flags = load_flags(path)
    assert flags.evaluate("base", {"targetingKey": "u1"}).reason == "SPLIT"
    assert flags.evaluate("copy", {"targetingKey": "u1"}).reason == "DISABLED"
