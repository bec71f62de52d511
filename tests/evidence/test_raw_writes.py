"""write_all, the one raw write of the JSONL tracker and the spool: all the bytes, whatever
each write takes, and an OSError naming the file when a write takes nothing. Short writes come
from signals and nearly full disks, which a test cannot cause on demand: a file object that
takes a few bytes at a time stands in for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelflags.evidence.raw_writes import write_all


class Trickle:
    """A raw file that takes at most ``most`` bytes per write (0: nothing at all)."""

    def __init__(self, most: int) -> None:
        self.name = "trickle.jsonl"
        self.most = most
        self.received = bytearray()
        self.writes = 0

    def write(self, data: memoryview) -> int:
        self.writes += 1
        taken = bytes(data[: self.most])
        self.received += taken
        return len(taken)


def test_every_byte_arrives_in_order_through_short_writes() -> None:
    file = Trickle(most=3)
    write_all(file, b'{"a":1}\n{"b":2}\n')  # type: ignore[arg-type]
    assert bytes(file.received) == b'{"a":1}\n{"b":2}\n'
    assert file.writes == 6  # 16 bytes, 3 at a time


def test_a_write_that_takes_nothing_is_an_oserror_naming_the_file() -> None:
    with pytest.raises(OSError, match=r"^trickle\.jsonl: nothing could be written$"):
        write_all(Trickle(most=0), b"line\n")  # type: ignore[arg-type]


def test_a_real_unbuffered_file_receives_the_data(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with path.open("ab", buffering=0) as file:
        write_all(file, b"first\n")
        write_all(file, b"second\n")
    assert path.read_bytes() == b"first\nsecond\n"
