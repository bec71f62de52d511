"""The disk spool: oldest first, a batch at a time, deleted only once settled; shared safely by
processes (each writes its own segments; the segments of a process that is gone are adopted
by one other process); a failed write leaves no torn line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import modelflags
from modelflags.evidence.codec import Batch
from modelflags.evidence.spool import Spool

SRC = Path(modelflags.__file__).resolve().parent.parent


def batch(start: int, stop: int) -> Batch:
    events = [{"event": "o", "eventId": f"id-{i}", "seq": i} for i in range(start, stop)]
    return Batch.encode(events)[0]


def drain(spool: Spool, limit: int = 7) -> list[int]:
    """Read the spool to its end as a dispatcher would, committing each batch."""
    seen = []
    while (head := spool.head(limit)) is not None:
        seen += [event["seq"] for event in head]
        spool.commit(len(head))
    return seen


def test_events_come_back_oldest_first_across_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=200)
    for start in range(0, 50, 5):
        assert spool.append(batch(start, start + 5))
    assert len(list(tmp_path.glob("spool-*.jsonl"))) > 3
    assert spool.events == 50
    assert drain(spool) == list(range(50))
    assert (spool.events, spool.size) == (0, 0)
    assert list(tmp_path.glob("spool-*.jsonl")) == []


def test_a_batch_not_committed_is_offered_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(batch(0, 10))
    first = spool.head(4)
    assert first is not None and [e["seq"] for e in first] == [0, 1, 2, 3]
    again = spool.head(4)
    assert again is not None and again.data == first.data
    spool.commit(2)  # a split batch: only its first half was settled
    rest = spool.head(4)
    assert rest is not None and [e["seq"] for e in rest] == [2, 3, 4, 5]


def test_appends_while_reading_go_behind(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(batch(0, 3))
    head = spool.head(10)
    assert head is not None
    spool.append(batch(3, 6))  # the segment being read is sealed: a new one takes these
    spool.commit(len(head))
    assert drain(spool) == [3, 4, 5]


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(batch(0, 3))
    (segment,) = tmp_path.glob("spool-*.jsonl")
    with segment.open("ab") as f:
        f.write(b'{"event":"o","eventId":"torn","se')  # a crash mid-write
    assert drain(spool) == [0, 1, 2]


def test_a_partly_delivered_segment_is_adopted_without_its_delivered_part(
    tmp_path: Path,
) -> None:
    first = Spool(tmp_path)
    first.append(batch(0, 10))
    head = first.head(4)
    assert head is not None
    first.commit(4)  # delivered; then the process closes
    first.close()
    second = Spool(tmp_path)
    assert second.adopt() == 6
    assert drain(second) == [4, 5, 6, 7, 8, 9]


def test_a_full_spool_refuses_without_writing(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=300)
    assert spool.append(batch(0, 3))
    size = spool.size
    assert not spool.append(batch(3, 20))
    assert spool.size == size
    assert drain(spool) == [0, 1, 2]


def test_a_live_owner_keeps_its_segments(tmp_path: Path) -> None:
    writer = Spool(tmp_path)
    writer.append(batch(0, 5))
    other = Spool(tmp_path)  # another process's spool, in effect: its own lock file
    assert other.adopt() == 0
    assert other.head(10) is None
    assert drain(writer) == [0, 1, 2, 3, 4]


def test_a_closed_spool_is_adopted_by_the_next_one(tmp_path: Path) -> None:
    first = Spool(tmp_path)
    first.append(batch(0, 5))
    first.close()
    second = Spool(tmp_path)
    assert second.adopt() == 5
    assert (second.adopted, second.events) == (5, 5)
    assert drain(second) == [0, 1, 2, 3, 4]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"owner-{second.owner}.lock"
    ]  # the adopted owner's lock file is gone with its segments


def test_a_killed_process_spool_is_adopted_once(tmp_path: Path) -> None:
    script = """
import os, signal, sys
from modelflags.evidence.codec import Batch
from modelflags.evidence.spool import Spool
spool = Spool(sys.argv[1], segment_bytes=300)
for start in range(0, 40, 4):
    spool.append(Batch.encode([{"event": "o", "seq": i} for i in range(start, start + 4)])[0])
os.kill(os.getpid(), signal.SIGKILL)
"""
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], timeout=60, check=False,
                   env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})  # fmt: skip
    first, second = Spool(tmp_path), Spool(tmp_path)
    assert (first.adopt(), second.adopt()) == (40, 0)
    assert drain(first) == list(range(40))


def test_stale_lock_files_of_owners_that_left_nothing_are_removed(tmp_path: Path) -> None:
    Spool(tmp_path).close()
    stale = tmp_path / "owner-12345xdeadbeef.lock"
    stale.write_bytes(b"")
    spool = Spool(tmp_path)
    spool.adopt()
    assert not stale.exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_segments_of_its_own(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(batch(0, 2))
    pid = os.fork()
    if pid == 0:  # the child: append, then leave without running the parent's cleanup
        try:
            spool.append(batch(100, 102))
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    owners = {path.name.rsplit("-", 1)[1] for path in tmp_path.glob("spool-*.jsonl")}
    assert len(owners) == 2
    spool.append(batch(2, 4))
    assert drain(spool) == [0, 1, 2, 3]  # the parent's own, not the child's
    assert spool.adopt() == 2  # the child is gone: its segment is adopted
    assert drain(spool) == [100, 101]


def test_a_failed_write_leaves_no_torn_line(tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes the kernel refuse writes past a size (EFBIG): a disk that fills up.
    script = """
import resource, signal, sys
from modelflags.evidence.codec import Batch
from modelflags.evidence.spool import Spool
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
spool = Spool(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (150, 150))
for i in range(10):
    try:
        spool.append(Batch.encode([{"event": "o", "seq": i, "pad": "x" * 20}])[0])
        print(i)
    except OSError:
        pass
"""
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], timeout=60,
                            check=False, capture_output=True, text=True,
                            env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    accepted = [int(word) for word in result.stdout.split()]
    assert 0 < len(accepted) < 10
    lines = b"".join(path.read_bytes() for path in sorted(tmp_path.glob("spool-*.jsonl")))
    assert lines.endswith(b"\n")
    assert [json.loads(line)["seq"] for line in lines.splitlines()] == accepted
