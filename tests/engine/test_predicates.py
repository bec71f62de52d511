"""The closures conditions are built from: all_of, any_of, always, never; and read_path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelflags.engine.conditions import read_path
from modelflags.engine.predicates import all_of, always, any_of, never

MISSING = object()


def _recording(seen: list[str], name: str, result: bool) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        seen.append(name)
        return result

    return test


def test_all_of_nothing_always_holds_and_any_of_nothing_never_does() -> None:
    assert (all_of(()) is always, any_of(()) is never) == (True, True)


def test_one_test_is_returned_as_it_is() -> None:
    def positive(n: int) -> bool:
        return n > 0

    assert all_of([positive]) is positive
    assert any_of([positive]) is positive


def test_all_of_stops_at_the_first_test_that_fails() -> None:
    seen: list[str] = []
    every = all_of([_recording(seen, "a", True), _recording(seen, "b", False),
                    _recording(seen, "c", True)])  # fmt: skip
    assert every(None) is False
    assert seen == ["a", "b"]


def test_any_of_stops_at_the_first_test_that_holds() -> None:
    seen: list[str] = []
    some = any_of([_recording(seen, "a", False), _recording(seen, "b", True),
                   _recording(seen, "c", False)])  # fmt: skip
    assert some(None) is True
    assert seen == ["a", "b"]


def test_a_guarded_all_of_fails_instead_of_raising() -> None:
    def boom(value: Any) -> bool:
        raise RuntimeError("hostile value")

    assert all_of([always, boom], guarded=True)(None) is False


def test_read_path_reads_through_nested_mappings() -> None:
    assert read_path({"user": {"plan": {"tier": 2}}}, ("user", "plan", "tier")) == 2


def test_read_path_gives_missing_for_an_absent_part() -> None:
    assert read_path({"user": {}}, ("user", "plan"), MISSING) is MISSING
    assert read_path({}, ("user",)) is None


def test_read_path_gives_missing_past_a_value_that_is_not_a_mapping() -> None:
    assert read_path({"user": ["pro"]}, ("user", "0"), MISSING) is MISSING
    assert read_path({"user": None}, ("user", "plan"), MISSING) is MISSING


def test_read_path_gives_a_present_null_as_it_is() -> None:
    assert read_path({"user": {"plan": None}}, ("user", "plan"), MISSING) is None
