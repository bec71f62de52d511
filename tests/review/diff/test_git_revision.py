"""Flag files at a git revision, in a real repository: selected and read as the working tree
is (symbolic links followed, the same suffix rule), so an untouched tree diffs to nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from modelflags.errors import SourceError
from modelflags.review.diff.git_revision import revision_snapshot
from modelflags.review.diff.loading import load_revision_and_work_tree, working_tree_snapshot
from modelflags.review.diff.report import diff_configs

FLAG = "version: 1\nflags:\n  {key}:\n    default: a\n    variations: {{a: 1, b: 2}}\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def commit(repo: Path, files: dict[str, str], links: dict[str, str]) -> None:
    """Write ``files`` (path → text) and symbolic ``links`` (path → target), commit them all."""
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    for name, target in links.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).symlink_to(target)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "flags")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose flags/assistant.yaml links to ../common/assistant.yaml; the current
    directory is its root."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    files = {"common/assistant.yaml": FLAG.format(key="assistant"),
             "flags/support.yaml": FLAG.format(key="support")}  # fmt: skip
    commit(root, files, {"flags/assistant.yaml": "../common/assistant.yaml"})
    monkeypatch.chdir(root)
    return root


def without_revision(files: tuple[tuple[str, bytes], ...]) -> list[tuple[str, bytes]]:
    return [(name.removeprefix("HEAD:"), data) for name, data in files]


def test_a_committed_symlink_is_read_as_the_file_it_points_to(repo: Path) -> None:
    at_head, absent = revision_snapshot("HEAD", ["flags"])
    on_disk, _ = working_tree_snapshot(["flags"])
    assert absent == ()
    assert without_revision(at_head.files) == list(on_disk.files)
    assert dict(at_head.files)["HEAD:flags/assistant.yaml"].startswith(b"version: 1")


def test_an_untouched_tree_with_a_symlink_has_no_phantom_changes(repo: Path) -> None:
    old, new = load_revision_and_work_tree("HEAD", ["flags/"])
    report = diff_configs(old, new, now=0)
    assert not report.has_changes
    assert report.unchanged == ("assistant", "support")


def test_a_symlink_given_as_the_path_reads_its_target_not_the_link_text(repo: Path) -> None:
    at_head, _ = revision_snapshot("HEAD", ["flags/assistant.yaml"])
    assert at_head.files == (("HEAD:flags/assistant.yaml", FLAG.format(key="assistant").encode()),)


def test_a_symlinked_directory_given_as_the_path_is_read_through(repo: Path) -> None:
    commit(repo, {}, {"linked": "flags"})
    at_head, _ = revision_snapshot("HEAD", ["linked"])
    on_disk, _ = working_tree_snapshot(["linked"])
    assert [name for name, _ in at_head.files] == [
        "HEAD:linked/assistant.yaml",
        "HEAD:linked/support.yaml",
    ]
    assert without_revision(at_head.files) == list(on_disk.files)


def test_files_are_selected_by_the_directory_sources_rule(repo: Path) -> None:
    text = FLAG.format(key="other")
    files = {"flags/.yaml": text, "flags/upper.YAML": text, "flags/notes.txt": text,
             "flags/sub/deep.yml": text, "flags/with space.yaml": text}  # fmt: skip
    links = {"flags/dir.yaml": "../common", "flags/gone.yaml": "missing.yaml",
             "flags/link one.yaml": "../common/assistant.yaml"}  # fmt: skip
    commit(repo, files, links)
    at_head, _ = revision_snapshot("HEAD", ["flags"])
    on_disk, _ = working_tree_snapshot(["flags"])
    assert without_revision(at_head.files) == list(on_disk.files)
    assert [name for name, _ in on_disk.files] == [
        os.path.join("flags", name)
        for name in ("assistant.yaml", "link one.yaml", "sub/deep.yml", "support.yaml",
                     "with space.yaml")
    ]  # fmt: skip


def test_a_symlink_out_of_the_repository_is_refused_with_its_target(
    repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(FLAG.format(key="outside"))
    commit(repo, {}, {"flags/outside.yaml": str(outside)})
    with pytest.raises(SourceError, match=r"HEAD:flags/outside\.yaml: a symbolic link out of"):
        revision_snapshot("HEAD", ["flags"])


def test_a_path_absent_at_the_revision_is_returned_as_absent(repo: Path) -> None:
    at_head, absent = revision_snapshot("HEAD", ["flags/support.yaml", "more"])
    assert absent == ("more",)
    assert [name for name, _ in at_head.files] == ["HEAD:flags/support.yaml"]


def test_paths_are_relative_to_the_directory_git_runs_in(repo: Path) -> None:
    at_head, _ = revision_snapshot("HEAD", ["assistant.yaml"], cwd=repo / "flags")
    assert at_head.files == (("HEAD:assistant.yaml", FLAG.format(key="assistant").encode()),)


def test_a_revision_that_is_not_a_commit_is_refused(repo: Path) -> None:
    with pytest.raises(SourceError, match="unknown revision 'nope'"):
        revision_snapshot("nope", ["flags"])
