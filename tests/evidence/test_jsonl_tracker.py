"""``JsonlTracker``: append-only JSON lines, size rotation, fsync policies, readers that skip
a torn last line, and a path that cannot be written (the events wait; nothing is failed)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from modelflags import Evidence, JsonlTracker, read_events
from modelflags.evidence import rotated_files
from modelflags.evidence.tracker import TrackerUnavailable

PADDING = "x" * 100


def events(start: int, stop: int) -> list[dict[str, Any]]:
    return [
        {"event": "o", "eventId": f"id-{i}", "seq": i, "pad": PADDING} for i in range(start, stop)
    ]


def seqs_in(paths: list[Path]) -> list[int]:
    return [event["seq"] for event in read_events(paths)]


def all_files(path: Path) -> list[Path]:
    return [*rotated_files(path), path]


# -- appending -----------------------------------------------------------------------------


def test_each_event_is_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    tracker = JsonlTracker(path)
    tracker.emit(events(0, 3))
    tracker.close()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line)["seq"] for line in lines[:-1]] == [0, 1, 2]


def test_a_new_tracker_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    first = JsonlTracker(path)
    first.emit(events(0, 2))
    first.close()
    second = JsonlTracker(path)
    second.emit(events(2, 5))
    second.close()
    assert seqs_in([path]) == [0, 1, 2, 3, 4]


def test_parent_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "e.jsonl"
    tracker = JsonlTracker(path)
    tracker.emit(events(0, 1))
    tracker.close()
    assert seqs_in([path]) == [0]


@pytest.mark.parametrize("fsync", ["never", "flush", "always"])
def test_every_fsync_policy_writes_readable_events(tmp_path: Path, fsync: Any) -> None:
    path = tmp_path / "e.jsonl"
    tracker = JsonlTracker(path, fsync=fsync)
    tracker.emit(events(0, 2))
    tracker.flush()
    tracker.emit(events(2, 4))
    tracker.close()
    assert seqs_in([path]) == [0, 1, 2, 3]


def test_flush_makes_events_readable_before_close(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    tracker = JsonlTracker(path, fsync="never")
    tracker.emit(events(0, 2))
    tracker.flush()
    assert seqs_in([path]) == [0, 1]
    tracker.close()


# -- rotation ------------------------------------------------------------------------------


def rotate_through(path: Path, count: int, rotate_bytes: int = 1000) -> None:
    tracker = JsonlTracker(path, rotate_bytes=rotate_bytes)
    for i in range(count):
        tracker.emit(events(i, i + 1))
    tracker.close()


def test_rotated_files_are_numbered_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rotate_through(path, 100)  # ~150 bytes an event: 6 a file, 16 rotated files
    names = [file.name for file in rotated_files(path)]
    assert len(names) >= 11  # past e.9: numeric order, not text order
    assert names == [f"e.{n}.jsonl" for n in range(1, len(names) + 1)]


def test_rotation_loses_and_repeats_no_event(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rotate_through(path, 100)
    assert seqs_in(all_files(path)) == list(range(100))


def test_rotated_files_stay_within_rotate_bytes(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rotate_through(path, 100)
    assert all(file.stat().st_size <= 1000 for file in all_files(path))


def test_a_batch_larger_than_rotate_bytes_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    tracker = JsonlTracker(path, rotate_bytes=1000)
    tracker.emit(events(0, 20))
    tracker.emit(events(20, 21))
    tracker.close()
    assert [file.name for file in rotated_files(path)] == ["e.1.jsonl"]
    assert seqs_in([path.with_name("e.1.jsonl")]) == list(range(20))
    assert seqs_in(all_files(path)) == list(range(21))


def test_rotation_numbering_continues_across_trackers(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rotate_through(path, 30)
    before = len(rotated_files(path))
    tracker = JsonlTracker(path, rotate_bytes=1000)
    for i in range(30, 60):
        tracker.emit(events(i, i + 1))
    tracker.close()
    assert len(rotated_files(path)) > before
    assert seqs_in(all_files(path)) == list(range(60))


def test_rotation_after_old_files_were_deleted_overwrites_none(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rotate_through(path, 30)  # e.1 ... e.4 and the live file
    oldest = rotated_files(path)[0]
    deleted = set(seqs_in([oldest]))
    oldest.unlink()  # a retention job removes the oldest rotated file
    tracker = JsonlTracker(path, rotate_bytes=1000)
    for i in range(30, 60):
        tracker.emit(events(i, i + 1))
    tracker.close()
    assert sorted(seqs_in(all_files(path))) == [i for i in range(60) if i not in deleted]


def test_rotated_files_ignore_other_files_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rotate_through(path, 10)
    (tmp_path / "e.old.jsonl").write_text("")
    (tmp_path / "other.1.jsonl").write_text("")
    assert {file.name for file in rotated_files(path)} == {"e.1.jsonl"}


# -- reading what a crash left -------------------------------------------------------------


def write_then_tear(path: Path) -> None:
    tracker = JsonlTracker(path)
    tracker.emit(events(0, 3))
    tracker.close()
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size - 20)  # the crash: the last line half-written


def test_readers_skip_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_then_tear(path)
    assert seqs_in([path]) == [0, 1]


def test_readers_skip_garbage_lines(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    good = [json.dumps(event) for event in events(0, 2)]
    path.write_text("\n".join([good[0], "not json", "[1, 2]", "", '"text"', good[1]]) + "\n")
    assert seqs_in([path]) == [0, 1]


def test_appending_after_a_torn_last_line_keeps_the_new_events(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_then_tear(path)
    tracker = JsonlTracker(path)  # the restarted process
    tracker.emit(events(3, 5))
    tracker.close()
    assert seqs_in([path]) == [0, 1, 3, 4]


# -- a path that cannot be written ---------------------------------------------------------


@pytest.fixture
def under_a_file(tmp_path: Path) -> Path:
    """A path whose parent is a regular file (even root cannot write there)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    return blocker / "e.jsonl"


FAST = {"flush_interval": 0.01, "backoff": 0.01, "max_backoff": 0.05}


def record(evidence: Evidence, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        evidence.outcome("o", "f", None, seq=i)


def test_a_write_that_fails_raises_tracker_unavailable(under_a_file: Path) -> None:
    with pytest.raises(TrackerUnavailable, match="File exists"):
        JsonlTracker(under_a_file).emit(events(0, 1))


def test_a_path_under_a_file_holds_events_without_stopping_the_application(
    under_a_file: Path,
) -> None:
    evidence = Evidence(JsonlTracker(under_a_file), batch_size=5, **FAST)
    record(evidence, 30)
    assert evidence.flush(timeout=0.3) is False
    counters = evidence.counters
    assert (counters["failed"], counters["delivered"], counters["queued"]) == (0, 0, 30)
    evidence.close(timeout=0.5)
    assert evidence.counters["dropped"] == 30  # no spill dir: counted, not silent


def test_a_path_under_a_file_is_logged_once(
    under_a_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    evidence = Evidence(JsonlTracker(under_a_file), batch_size=5, **FAST)
    record(evidence, 30)
    evidence.flush(timeout=0.3)
    errors = [entry for entry in caplog.records if entry.levelno == logging.ERROR]
    assert [entry.getMessage().partition(" (")[0] for entry in errors] == [
        "evidence destination unavailable; holding events in memory"
    ]
    assert errors[0].name == "modelflags.evidence"
    assert "blocker" in errors[0].error  # type: ignore[attr-defined]  # the unwritable path
    evidence.close(timeout=0.5)


def test_a_folder_at_the_file_path_holds_events(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.mkdir()
    evidence = Evidence(JsonlTracker(path), **FAST)
    record(evidence, 10)
    assert evidence.flush(timeout=0.3) is False
    assert (evidence.counters["failed"], evidence.counters["queued"]) == (0, 10)
    evidence.close(timeout=0.5)


def test_every_event_arrives_once_the_path_can_be_written(under_a_file: Path) -> None:
    evidence = Evidence(JsonlTracker(under_a_file), **FAST)
    record(evidence, 10)
    evidence.flush(timeout=0.2)
    under_a_file.parent.unlink()  # the operator removes the file in the way
    record(evidence, 5, start=10)
    assert evidence.flush(timeout=10)
    evidence.close()
    delivered = [event["metrics"]["seq"] for event in read_events([under_a_file])]
    assert delivered == list(range(15))
    assert (evidence.counters["failed"], evidence.counters["delivered"]) == (0, 15)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_spills_with_a_spill_dir_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # /dev/full accepts the open and answers every write with ENOSPC: a disk that is full.
    evidence = Evidence(JsonlTracker("/dev/full", fsync="never"), batch_size=5,
                        spill_dir=tmp_path / "spill", **FAST)  # fmt: skip
    record(evidence, 30)
    assert evidence.flush(timeout=0.3) is False
    evidence.close(timeout=1.0)
    counters = evidence.counters
    assert (counters["delivered"], counters["failed"], counters["dropped"]) == (0, 0, 0)
    assert counters["spooled"] == 30
    errors = [entry for entry in caplog.records if entry.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "No space left on device" in errors[0].error  # type: ignore[attr-defined]
