"""The review workflow as documented: the README's walkthrough, the pre-commit hook and the CI
workflow example, each run for real in a temporary git repository."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from modelflags import load_flags

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = "support_answer_model_route"


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a documented shell command with this environment's ``modelflags`` on PATH."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    }  # fmt: skip
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip


def readme_section(title: str, until: str) -> str:
    return (
        (ROOT / "README.md").read_text().split(f"\n## {title}\n", 1)[1].split(f"\n## {until}\n")[0]
    )


def test_the_readme_walkthrough_runs_from_edit_to_rollback(git_repo: Path) -> None:
    section = readme_section("Review flag edits in git", until="Editor support")
    (edit,) = re.findall(r"```diff\n(.*?)```", section, re.S)
    (commands,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    (shown,) = re.findall(r"```text\n(.*?)```", section, re.S)
    removed, added = (line[1:] for line in edit.splitlines())
    path = git_repo / "flags" / "support.yaml"
    path.write_text(path.read_text().replace(removed, added, 1))

    outputs = []
    for command in commands.splitlines():
        result = shell(command, git_repo)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        outputs.append(result.stdout)
    validate, explain, diff, _, rollback, _ = outputs
    assert validate.strip() == "flags/: 5 flags, 2 segments: ok"
    assert "result: " in explain and "unitId=conv-7" in explain
    assert shown in diff  # the README shows real output
    assert "-    state: on" in rollback and "+    default: fallback" in rollback
    log = shell("git log --format=%s", git_repo).stdout.splitlines()
    assert log[:2] == ["support route: roll back", "support route: ramp the candidate to 50%"]
    rolled_back = load_flags(git_repo / "flags").evaluate(SUPPORT, {"conversationId": "c"})
    assert (rolled_back.variant, rolled_back.reason) == ("fallback", "DISABLED")


def test_the_pre_commit_hook_validates_the_flag_directory(git_repo: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["entry"].split()[0] in (ROOT / "pyproject.toml").read_text()  # a console script
    files = re.compile(hook["files"])
    assert files.search("flags/support.yaml") and not files.search("README.md")
    assert hook["pass_filenames"] is False  # a flag may use a segment from another file

    assert shell(hook["entry"], git_repo).returncode == 0
    path = git_repo / "flags" / "support.yaml"
    path.write_text(path.read_text().replace("serve: candidate", "serve: candidat"))
    failed = shell(hook["entry"], git_repo)
    assert failed.returncode == 1
    assert f"flags/support.yaml:{_line_of(path, 'serve: candidat')}:" in failed.stdout
    assert "did you mean 'candidate'?" in failed.stdout


def test_the_ci_workflow_example_validates_and_renders_the_diff(git_repo: Path) -> None:
    """Run the workflow's modelflags steps in a clone, as on a pull request against main."""
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "flag-review.yml").read_text())
    steps = [step for step in workflow["jobs"]["review"]["steps"] if "run" in step]
    runs = [step for step in steps if step["run"].startswith("modelflags ")]
    assert [shlex.split(step["run"])[1] for step in runs] == ["validate", "diff"]

    clone = git_repo.parent / "clone"
    subprocess.run(["git", "clone", "-q", str(git_repo), str(clone)], check=True, timeout=60)
    path = clone / "flags" / "support.yaml"
    path.write_text(
        path.read_text().replace("{control: 90, candidate: 10}", "{control: 80, candidate: 20}")
    )
    for step in runs:
        env = " ".join(
            f"{key}={shlex.quote(str(value))}" for key, value in step.get("env", {}).items()
        )
        command = (
            step["run"]
            if not env
            else f"export {env.replace('${{ github.base_ref }}', 'main')}; {step['run']}"
        )
        result = shell(command, clone)
        assert result.returncode == 0, f"{step['run']}\n{result.stderr}"
    comment = (clone / "flag-diff.md").read_text()
    assert comment.startswith("# Flag changes: origin/main:flags/ → flags/")
    assert (
        "**Moves 10.0% of conversations that reach the split:** control → candidate 10.0%."
        in comment
    )


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
