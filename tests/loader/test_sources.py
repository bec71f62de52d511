"""Sources have a lifecycle: ``read`` always returns the contents, ``fetch`` only changes,
``close`` releases what a source holds, and ``read_source`` reads a path once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelflags.errors import FlagFileError, SourceError
from modelflags.loader import (
    DirectorySource,
    FileSource,
    InlineSource,
    Snapshot,
    Source,
    load,
    open_source,
    read_source,
)

FLAGS = "version: 1\nflags:\n  model:\n    default: a\n    variations: {a: 1, b: 2}\n"
EDITED = FLAGS.replace("default: a", "default: b")


class CountingSource(Source):
    """A source of fixed contents that counts how often it was closed."""

    def __init__(self) -> None:
        self.name = "counting"
        self.closed = 0

    def read(self) -> Snapshot:
        return Snapshot(((self.name, FLAGS.encode()),), ("",))

    def fetch(self) -> Snapshot | None:
        return None

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    return path


def test_a_source_without_read_and_fetch_cannot_be_made() -> None:
    class Incomplete(Source):
        name = "incomplete"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_a_source_used_in_a_with_block_is_closed_at_its_end() -> None:
    with CountingSource() as source:
        assert source.closed == 0
    assert source.closed == 1


def test_a_source_is_closed_when_its_with_block_raises() -> None:
    source = CountingSource()
    with pytest.raises(RuntimeError), source:
        raise RuntimeError("boom")
    assert source.closed == 1


def test_closing_a_file_source_is_a_no_op_and_it_reads_on(flag_file: Path) -> None:
    source = FileSource(flag_file)
    source.close()
    assert source.read().files == ((str(flag_file), FLAGS.encode()),)


def test_a_file_read_twice_returns_the_contents_both_times(flag_file: Path) -> None:
    source = FileSource(flag_file)
    assert source.read() == source.read() == Snapshot(((str(flag_file), FLAGS.encode()),), ("",))


def test_a_file_fetch_after_a_read_is_none_until_the_file_changes(flag_file: Path) -> None:
    source = FileSource(flag_file)
    source.read()
    assert source.fetch() is None
    flag_file.write_text(EDITED)
    changed = source.fetch()
    assert changed is not None
    assert changed.files[0][1] == EDITED.encode()
    assert source.fetch() is None


def test_a_file_rewritten_with_the_same_contents_is_no_change(flag_file: Path) -> None:
    source = FileSource(flag_file)
    source.read()
    flag_file.write_text(FLAGS)
    os.utime(flag_file, ns=(1, 1))  # a new mtime for certain, the same bytes
    assert source.fetch() is None


def test_the_first_fetch_of_a_source_never_read_returns_the_contents(flag_file: Path) -> None:
    assert FileSource(flag_file).fetch() is not None


def test_a_directory_fetch_after_a_read_is_none_until_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(FLAGS)
    source = DirectorySource(tmp_path)
    first = source.read()
    assert [name for name, _ in first.files] == [os.path.join(str(tmp_path), "a.yaml")]
    assert source.fetch() is None
    (tmp_path / "a.yaml").write_text(EDITED)
    assert source.fetch() is not None


def test_a_directory_read_returns_the_contents_even_when_unchanged(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(FLAGS)
    source = DirectorySource(tmp_path)
    assert source.fetch() is not None
    assert source.read().files[0][1] == FLAGS.encode()


def test_inline_text_is_read_every_time_and_fetched_once() -> None:
    source = InlineSource(FLAGS)
    assert source.read() == source.read()
    assert source.fetch() is None
    fresh = InlineSource(FLAGS)
    assert fresh.fetch() is not None
    assert fresh.fetch() is None


def test_open_source_picks_the_kind_from_the_path(flag_file: Path) -> None:
    assert isinstance(open_source(flag_file), FileSource)
    assert isinstance(open_source(flag_file.parent), DirectorySource)


def test_open_source_returns_a_source_as_it_is() -> None:
    source = CountingSource()
    assert open_source(source) is source


def test_read_source_of_a_missing_path_is_a_source_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(SourceError, match=f"^{missing}: no such file or directory$"):
        read_source(missing)


def test_read_source_reads_a_path_once(flag_file: Path) -> None:
    assert read_source(flag_file) == FileSource(flag_file).read()


def test_read_source_leaves_a_source_it_was_given_open() -> None:
    source = CountingSource()
    assert read_source(source).files[0][0] == "counting"
    assert source.closed == 0


def test_load_leaves_a_source_it_was_given_open() -> None:
    source = CountingSource()
    assert set(load(source).config.flags) == {"model"}
    assert source.closed == 0


def test_load_places_an_empty_directory_given_as_a_source_at_its_name(tmp_path: Path) -> None:
    with pytest.raises(FlagFileError) as caught:
        load(DirectorySource(tmp_path))
    assert [(issue.code, issue.file) for issue in caught.value.issues] == [
        ("no-flag-files", str(tmp_path))
    ]


def test_load_places_an_empty_directory_given_by_path_at_the_same_name(tmp_path: Path) -> None:
    with pytest.raises(FlagFileError) as caught:
        load(str(tmp_path))
    assert [issue.file for issue in caught.value.issues] == [str(tmp_path)]
