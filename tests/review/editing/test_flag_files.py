"""``locate_flag``: the file an edit rewrites, and the other files of its source that the
edited file is validated with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelflags.errors import FlagFileError
from modelflags.review.editing.flag_files import locate_flag

ROUTE = "version: 1\nflags:\n  route: {default: a, variations: {a: 1, b: 2}}\n"
SEGMENTS = "version: 1\nsegments:\n  staff: {email: {$regex: '@corp$'}}\n"


@pytest.fixture
def source(tmp_path: Path) -> str:
    """A directory source: the flag in one file, a segment in another."""
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "route.yaml").write_text(ROUTE, encoding="utf-8")
    (tmp_path / "flags" / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    return str(tmp_path / "flags")


def test_a_flag_is_found_in_its_source_with_the_other_files_beside_it(source: str) -> None:
    location = locate_flag("route", flags=source)
    assert location.file == os.path.join(source, "route.yaml")
    assert [name for name, _ in location.others] == [os.path.join(source, "segments.yaml")]


def test_a_named_file_inside_the_source_comes_with_the_other_files(source: str) -> None:
    file = os.path.join(source, "route.yaml")
    location = locate_flag("route", file=file, flags=source)
    assert location.file == file
    assert [name for name, _ in location.others] == [os.path.join(source, "segments.yaml")]


def test_a_named_file_outside_the_source_comes_alone(source: str, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(ROUTE, encoding="utf-8")
    assert locate_flag("route", file=str(outside), flags=source).others == ()


def test_an_unknown_flag_is_refused_with_a_suggestion(source: str) -> None:
    with pytest.raises(FlagFileError) as raised:
        locate_flag("rout", flags=source)
    issue = raised.value.issues[0]
    assert (issue.code, "route" in issue.hint) == ("unknown-flag", True)
