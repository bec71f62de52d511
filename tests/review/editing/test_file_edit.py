"""``carry_out``: one edit of a real flag file, in order: edit, compare, then write (unless a
dry run or no change), so that a failure before the write leaves the file as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelflags.errors import FlagFileError
from modelflags.review.editing.comparison import Comparison
from modelflags.review.editing.file_edit import carry_out
from modelflags.review.editing.flag_files import FlagLocation
from modelflags.review.rollback.edit import RollbackEdit, rollback_text

NOW = 1_790_000_000.0
FLAGS = """\
version: 1
flags:
  route:
    owner: team
    default: small
    variations: {small: 1, large: 2}
    split: {small: 50, large: 50}
"""


def roll_back(location: FlagLocation, to: str = "small") -> Callable[[str], RollbackEdit]:
    """What ``make`` is for ``modelflags rollback``."""

    def make(text: str) -> RollbackEdit:
        return rollback_text(text, location.file, "route", to)

    return make


def flag_file(tmp_path: Path, text: str) -> FlagLocation:
    path = tmp_path / "flags.yaml"
    path.write_text(text, encoding="utf-8")
    return FlagLocation(str(path))


def test_a_written_edit_holds_the_new_text_and_its_comparison(tmp_path: Path) -> None:
    location = flag_file(tmp_path, FLAGS)
    outcome = carry_out(location, roll_back(location), dry_run=False, compare=Comparison(NOW))
    assert outcome.written
    assert Path(location.file).read_text(encoding="utf-8") == outcome.edit.text != FLAGS
    assert outcome.report is not None
    assert [(flag.key, flag.status) for flag in outcome.report.flags] == [("route", "changed")]


def test_a_dry_run_compares_but_leaves_the_file(tmp_path: Path) -> None:
    location = flag_file(tmp_path, FLAGS)
    outcome = carry_out(location, roll_back(location), dry_run=True, compare=Comparison(NOW))
    assert (outcome.written, outcome.report is not None) == (False, True)
    assert Path(location.file).read_text(encoding="utf-8") == FLAGS


def test_an_edit_that_changes_nothing_is_neither_compared_nor_written(tmp_path: Path) -> None:
    text = FLAGS.replace("    owner: team\n", "    owner: team\n    state: off\n")
    location = flag_file(tmp_path, text)
    outcome = carry_out(location, roll_back(location), dry_run=False, compare=Comparison(NOW))
    assert (outcome.edit.changed, outcome.report, outcome.written) == (False, None, False)


def test_a_comparison_that_fails_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    broken = FLAGS.replace("default: small", "default: smal")  # the rollback repairs it...
    location = flag_file(tmp_path, broken)
    with pytest.raises(FlagFileError) as raised:  # ...but the old version cannot be compared
        carry_out(location, roll_back(location), dry_run=False, compare=Comparison(NOW))
    assert raised.value.issues[0].code == "unknown-variation"
    assert Path(location.file).read_text(encoding="utf-8") == broken
