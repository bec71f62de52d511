"""Every invalid flag file in tests/data/invalid/ fails to load with exactly the errors
written in its ``# expect:`` header lines (``line:col: [code] message; hint``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelflags.errors import FlagFileError
from modelflags.loader import load

CASES = sorted((Path(__file__).parent.parent / "data" / "invalid").glob("*.yaml"))


def expected_lines(path: Path) -> list[str]:
    prefix = "# expect: "
    lines = path.read_text().splitlines()
    return [f"{path}:{line[len(prefix) :]}" for line in lines if line.startswith(prefix)]


@pytest.mark.parametrize("path", CASES, ids=[case.stem for case in CASES])
def test_invalid_file_reports_every_error_with_its_location(path: Path) -> None:
    with pytest.raises(FlagFileError) as caught:
        load(path)
    assert [str(issue) for issue in caught.value.issues] == expected_lines(path)
