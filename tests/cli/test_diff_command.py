"""``modelflags diff``: OLD NEW and --git REV, through ``main()`` against real files and real
git repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

# conftest's helpers are not imported by module name: with several conftest.py files in one
# run, "conftest" may name another one.
Cli = Callable[..., subprocess.CompletedProcess[str]]
SUPPORT = "support_answer_model_route"
NOW = ("--now", "2026-11-15T00:00:00Z")


def commit_all(repo: Path, message: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", "commit", "-q", "-am", message],
        cwd=repo, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def ramp(path: Path, old: str = "{control: 90, candidate: 10}", new: str = "") -> None:
    """Edit the support flag's split in place (default: to 50/50)."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new or "{control: 50, candidate: 50}"))


def test_two_files_show_the_changed_weights_and_the_units_that_move(
    cli: Cli, flags_copy: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new.yaml"
    shutil.copy(flags_copy / "support.yaml", new)
    ramp(new)
    result = cli("diff", flags_copy / "support.yaml", new, *NOW)
    assert result.returncode == 0, result.stderr
    assert f"## `{SUPPORT}`: changed" in result.stdout
    assert "- `split.control`: `90` → `50`" in result.stdout
    assert "**Moves 40.0% of conversations that reach the split:** control → candidate 40.0%." in (
        result.stdout
    )
    assert "Method: exact" in result.stdout


def test_two_directories_list_removed_and_unchanged_flags(
    cli: Cli, flags_copy: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(flags_copy / "support.yaml", new / "support.yaml")
    result = cli("diff", "--format", "json", flags_copy, new, *NOW)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    removed = [f["key"] for f in data["flags"] if f["status"] == "removed"]
    assert removed == ["answer_temperature", "reranker_top_k", "summarizer_model",
                       "summarizer_streaming"]  # fmt: skip
    assert data["unchanged"] == [SUPPORT]
    assert data["summary"] == {"added": 0, "changed": 0, "removed": 4, "unchanged": 1}


def test_git_head_against_the_working_tree_after_a_ramp(cli: Cli, git_repo: Path) -> None:
    ramp(git_repo / "flags" / "support.yaml")
    result = cli("diff", "--git", "HEAD", "--format", "json", *NOW, cwd=git_repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["old"], data["new"]) == ("HEAD:flags/", "flags/")
    (flag,) = data["flags"]
    radius = flag["blastRadius"]
    assert (flag["key"], radius["method"], radius["moved"]) == (SUPPORT, "exact", 0.4)
    assert radius["matrix"] == [
        {"from": "candidate", "share": 0.1, "to": "candidate"},
        {"from": "control", "share": 0.4, "to": "candidate"},
        {"from": "control", "share": 0.5, "to": "control"},
    ]


def test_git_runs_from_a_subdirectory_with_paths_relative_to_it(cli: Cli, git_repo: Path) -> None:
    ramp(git_repo / "flags" / "support.yaml")
    result = cli("diff", "--git", "HEAD", "support.yaml", *NOW, cwd=git_repo / "flags")
    assert result.returncode == 0, result.stderr
    assert "# Flag changes: HEAD:support.yaml → support.yaml" in result.stdout
    assert "Moves 40.0%" in result.stdout


def test_a_path_absent_at_the_revision_has_all_its_flags_added(cli: Cli, git_repo: Path) -> None:
    (git_repo / "more").mkdir()
    shutil.copy(git_repo / "flags" / "assistant.yaml", git_repo / "more" / "assistant.yaml")
    result = cli("diff", "--git", "HEAD", "more", "--format", "json", *NOW, cwd=git_repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {f["status"] for f in data["flags"]} == {"added"}
    assert len(data["flags"]) == 4


def test_exit_code_reports_whether_anything_changed(cli: Cli, git_repo: Path) -> None:
    assert cli("diff", "--git", "HEAD", "--exit-code", *NOW, cwd=git_repo).returncode == 0
    ramp(git_repo / "flags" / "support.yaml")
    assert cli("diff", "--git", "HEAD", "--exit-code", *NOW, cwd=git_repo).returncode == 1


def test_exit_code_on_bad_input_is_1_with_no_report(cli: Cli, flags_copy: Path) -> None:
    # documented: standard output tells "changes" (a report) from bad input (nothing)
    result = cli("diff", "--exit-code", flags_copy / "support.yaml", flags_copy / "nope.yaml")
    assert (result.returncode, result.stdout) == (1, "")
    assert "nope.yaml" in result.stderr


def test_a_bad_revision_is_a_failure_naming_it(cli: Cli, git_repo: Path) -> None:
    result = cli("diff", "--git", "no-such-branch", cwd=git_repo)
    assert result.returncode == 1
    assert "unknown revision 'no-such-branch'" in result.stderr


def test_git_outside_a_repository_is_a_failure(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "flags").mkdir()
    result = cli("diff", "--git", "HEAD", cwd=tmp_path)
    assert result.returncode == 1
    assert "not a git repository" in result.stderr


def test_invalid_yaml_on_one_side_gives_the_located_error(cli: Cli, git_repo: Path) -> None:
    path = git_repo / "flags" / "support.yaml"
    path.write_text(path.read_text().replace("serve: candidate", "serve: candidat"))
    commit_all(git_repo, "typo")
    path.write_text(path.read_text().replace("serve: candidat", "serve: candidate"))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "serve: c" in text)
    result = cli("diff", "--git", "HEAD", cwd=git_repo)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"HEAD:flags/support.yaml:{line}:16: [unknown-variation] ")


def test_malformed_yaml_in_new_gives_the_located_error(cli: Cli, flags_copy: Path) -> None:
    broken = flags_copy.parent / "broken.yaml"
    broken.write_text("version: 1\nflags:\n  f: [unclosed\n")
    result = cli("diff", flags_copy / "assistant.yaml", broken)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{broken}:4:1: [")


def test_a_rule_edit_is_sampled_on_the_given_context(cli: Cli, git_repo: Path) -> None:
    path = git_repo / "flags" / "support.yaml"
    path.write_text(path.read_text().replace("serve: candidate", "serve: fallback"))
    context = '{"plan": "pro", "channel": "chat", "email": "a@example.com"}'
    result = cli(
        "diff", "--git", "HEAD", "--format", "json", "--context", context,
        "--samples", "2000", *NOW, cwd=git_repo,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    radius = json.loads(result.stdout)["flags"][0]["blastRadius"]
    assert (radius["method"], radius["samples"]) == ("sampled", 2000)
    assert radius["matrix"] == [{"from": "candidate", "share": 1.0, "to": "fallback"}]


def test_a_switch_off_is_summarised_and_contexts_may_come_from_a_file(
    cli: Cli, flags_copy: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new.yaml"
    text = (flags_copy / "support.yaml").read_text()
    new.write_text(
        text.replace("state: on\n    default: control", "state: off\n    default: fallback")
    )
    context = tmp_path / "context.json"
    context.write_text('{"plan": "pro", "channel": "chat"}')
    result = cli(
        "diff", flags_copy / "support.yaml", new, "--context", f"@{context}",
        "--samples", "1000", *NOW,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "**Switches the flag off: every conversation now gets `fallback`.**" in result.stdout
    assert "Decided by (old → new): off 0% → 100.0%, split 100.0% → 0%." in result.stdout
    assert "Note:" not in result.stdout  # the units are eligible: no call for --context


def test_a_time_without_a_zone_is_a_usage_error(cli: Cli, flags_copy: Path) -> None:
    path = flags_copy / "support.yaml"
    result = cli("diff", path, path, "--now", "2026-11-15T00:00:00")
    assert result.returncode == 2
    assert "needs a time zone" in result.stderr


def test_one_path_without_git_is_a_usage_error(cli: Cli, flags_copy: Path) -> None:
    result = cli("diff", flags_copy)
    assert result.returncode == 2
    assert "OLD and NEW" in result.stderr
