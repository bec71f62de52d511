"""The closed-form weighted-rendezvous joint: analytic cases, row and column sums over random
weights, and 200,000 unit ids assigned by the real Split."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.engine import Split
from modelflags.review.diff.rendezvous import rendezvous_joint


def test_two_arms_50_50_to_90_10_move_exactly_0_4() -> None:
    joint = rendezvous_joint({"control": 50, "candidate": 50}, {"control": 90, "candidate": 10})
    assert joint[("candidate", "control")] == pytest.approx(0.4, abs=1e-12)
    assert ("control", "candidate") not in joint  # two arms: units only move one way
    assert joint[("control", "control")] == pytest.approx(0.5, abs=1e-12)
    assert joint[("candidate", "candidate")] == pytest.approx(0.1, abs=1e-12)


def test_replacing_an_arm_moves_a_sixth_between_unchanged_shares() -> None:
    # docs/assignment.md: {A: 50, B: 50, C: 0} -> {A: 50, B: 0, C: 50}
    joint = rendezvous_joint({"A": 50, "B": 50, "C": 0}, {"A": 50, "B": 0, "C": 50})
    assert joint[("A", "C")] == pytest.approx(1 / 6, abs=1e-12)
    assert joint[("B", "A")] == pytest.approx(1 / 6, abs=1e-12)
    assert joint[("B", "C")] == pytest.approx(1 / 3, abs=1e-12)
    assert joint[("A", "A")] == pytest.approx(1 / 3, abs=1e-12)


def test_renaming_an_arm_is_replacing_it_because_draws_are_per_name() -> None:
    joint = rendezvous_joint({"control": 1, "candidate": 1}, {"control": 1, "treatment": 1})
    assert joint == pytest.approx({
        ("control", "control"): 1 / 3, ("control", "treatment"): 1 / 6,
        ("candidate", "control"): 1 / 6, ("candidate", "treatment"): 1 / 3,
    })  # fmt: skip


def test_raising_one_weight_only_moves_units_into_it() -> None:
    joint = rendezvous_joint({"a": 5, "b": 3, "c": 2}, {"a": 5, "b": 3, "c": 7})
    assert {cell for cell in joint if cell[0] != cell[1]} == {("a", "c"), ("b", "c")}


weights = st.dictionaries(
    st.sampled_from("abcde"), st.integers(0, 20), min_size=1, max_size=5
).filter(lambda w: sum(w.values()) > 0)


@given(weights, weights)
def test_rows_and_columns_sum_to_the_old_and_new_shares(
    old: dict[str, int], new: dict[str, int]
) -> None:
    # The diagonal comes from its own closed form, so these sums check every moved cell.
    joint = rendezvous_joint(old, new)
    assert all(share > 0 for share in joint.values())
    for name, weight in old.items():
        row = math.fsum(p for (a, _), p in joint.items() if a == name)
        assert row == pytest.approx(weight / sum(old.values()), abs=1e-9)
    for name, weight in new.items():
        column = math.fsum(p for (_, b), p in joint.items() if b == name)
        assert column == pytest.approx(weight / sum(new.values()), abs=1e-9)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"a": 5, "b": 3, "c": 2}, {"a": 2, "b": 3, "c": 0, "d": 5}),
        ({"a": 1, "b": 1, "c": 1, "d": 1}, {"d": 4, "c": 3, "b": 2, "a": 1}),
    ],
)
def test_exact_matrix_matches_200k_units_through_the_real_split(
    old: dict[str, int], new: dict[str, int]
) -> None:
    n = 200_000
    before, after = Split("salt", old), Split("salt", new)
    counts = Counter((before.choose(f"u{i}"), after.choose(f"u{i}")) for i in range(n))
    exact = rendezvous_joint(old, new)
    for cell in exact.keys() | counts.keys():
        p, seen = exact.get(cell, 0.0), counts.get(cell, 0) / n
        sigma = math.sqrt(max(p * (1 - p), 1e-9) / n)
        assert abs(seen - p) <= 4.5 * sigma, (cell, p, seen)
