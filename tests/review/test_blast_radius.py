"""The blast-radius matrix: the closed-form rendezvous integral against analytic cases and
brute force through the real Split and engine, coverage, salt, state, schedule, sampling."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.engine import Split, compile_flags, decide
from modelflags.engine.compiled import CompiledFlag
from modelflags.loader import InlineSource, load
from modelflags.review.blast_radius import BlastRadius, blast_radius, rendezvous_joint

NOW = datetime(2026, 11, 15, tzinfo=timezone.utc).timestamp()


def compiled(yaml_text: str, key: str = "f") -> CompiledFlag:
    return compile_flags(load(InlineSource(yaml_text)).config, "v")[key]


def flag(body: str, segments: str = "") -> str:
    indented = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return f"version: 1\n{segments}flags:\n  f:\n{indented}\n"


def radius(old: str, new: str, *, same_targeting: bool = True, **kwargs: object) -> BlastRadius:
    return blast_radius(
        compiled(flag(old)), compiled(flag(new)), now=NOW, same_targeting=same_targeting,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def brute_force(old: CompiledFlag, new: CompiledFlag, n: int) -> dict[tuple[str, str], float]:
    """Shares of (old, new) variations over units u0..u(n-1), evaluated by the engine."""
    counts = Counter(
        (decide(old, {}, f"u{i}", NOW)[0], decide(new, {}, f"u{i}", NOW)[0]) for i in range(n)
    )
    return {cell: count / n for cell, count in counts.items()}


def assert_within_sampling_error(
    exact: dict[tuple[str, str], float], observed: dict[tuple[str, str], float], n: int
) -> None:
    for cell in exact.keys() | observed.keys():
        p, seen = exact.get(cell, 0.0), observed.get(cell, 0.0)
        sigma = math.sqrt(max(p * (1 - p), 1e-9) / n)
        assert abs(seen - p) <= 4.5 * sigma, (cell, p, seen)


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
    observed = {cell: count / n for cell, count in counts.items()}
    assert_within_sampling_error(rendezvous_joint(old, new), observed, n)


def test_weights_and_coverage_together_match_the_engine() -> None:
    old = "default: a\nvariations: {a: 1, b: 2, c: 3}\ncoverage: 60\nsplit: {a: 2, b: 1, c: 1}"
    new = "default: b\nvariations: {a: 1, b: 2, c: 3}\ncoverage: 35\nsplit: {a: 1, b: 1, c: 2}"
    result = radius(old, new)
    assert (result.method, result.population) == ("exact", "all")
    n = 100_000
    observed = brute_force(compiled(flag(old)), compiled(flag(new)), n)
    assert_within_sampling_error(dict(result.matrix), observed, n)


def test_raising_coverage_moves_held_out_units_into_the_split_only() -> None:
    base = "default: k8\nvariations: {k8: 8, k12: 12}\nsplit: {k8: 1, k12: 1}\n"
    result = radius(base + "coverage: 20", base + "coverage: 50")
    assert result.matrix == pytest.approx({("k8", "k8"): 0.75, ("k8", "k12"): 0.15,
                                           ("k12", "k12"): 0.10})  # fmt: skip
    assert result.moved == pytest.approx(0.15)


def test_lowering_coverage_sends_units_back_to_the_default() -> None:
    base = "default: k8\nvariations: {k8: 8, k12: 12}\nsplit: {k8: 1, k12: 1}\n"
    result = radius(base + "coverage: 50", base + "coverage: 20")
    assert result.matrix[("k12", "k8")] == pytest.approx(0.15)
    assert result.moved == pytest.approx(0.15)


def test_a_new_salt_re_randomises_into_the_product_of_shares() -> None:
    base = "default: a\nvariations: {a: 1, b: 2}\nsplit: {a: 90, b: 10}\n"
    old, new = base + "assignment: {salt: one}", base + "assignment: {salt: two}"
    result = radius(old, new)
    assert result.method == "independent"
    assert result.matrix[("a", "b")] == pytest.approx(0.09)
    assert result.matrix[("b", "a")] == pytest.approx(0.09)
    assert result.moved == pytest.approx(0.18)
    observed = brute_force(compiled(flag(old)), compiled(flag(new)), 50_000)
    assert_within_sampling_error(dict(result.matrix), observed, 50_000)


def test_switching_a_flag_off_moves_every_arm_to_the_default() -> None:
    body = "default: {d}\nvariations: {{a: 1, b: 2, c: 3}}\nsplit: {{a: 90, b: 10}}\n"
    result = radius(body.format(d="a"), body.format(d="c") + "state: off")
    assert result.method == "exact"
    assert result.matrix == pytest.approx({("a", "c"): 0.9, ("b", "c"): 0.1})


def test_a_new_default_of_a_static_flag_moves_everyone() -> None:
    result = radius("default: a\nvariations: {a: 1, b: 2}", "default: b\nvariations: {a: 1, b: 2}")
    assert result.matrix == {("a", "b"): 1.0}
    assert result.value_changed == 1.0


def test_editing_a_variation_value_changes_what_its_units_get_without_moving_them() -> None:
    body = "default: a\nvariations: {{a: 1, b: {b}}}\nsplit: {{a: 90, b: 10}}"
    result = radius(body.format(b=2), body.format(b=3))
    assert result.moved == 0
    assert result.value_changed == pytest.approx(0.1)


def test_a_schedule_that_has_ended_sends_the_split_to_the_default() -> None:
    base = "default: a\nvariations: {a: 1, b: 2}\nsplit: {a: 50, b: 50}\n"
    ended = base + "schedule: {start: 2026-01-01T00:00:00Z, end: 2026-11-01T00:00:00Z}"
    result = radius(base, ended)
    assert result.matrix == pytest.approx({("a", "a"): 0.5, ("b", "a"): 0.5})


def test_unchanged_targeting_gives_an_exact_matrix_for_the_units_reaching_the_split() -> None:
    body = "default: a\nvariations: {a: 1, b: 2}\n"
    body += "rules:\n  - {name: internal, when: {email: {$regex: x}}, serve: b}\n"
    result = radius(body + "split: {a: 90, b: 10}", body + "split: {a: 50, b: 50}")
    assert (result.method, result.population) == ("exact", "reaching-split")
    assert result.moved == pytest.approx(0.4)


def test_a_rule_change_is_sampled_through_the_engine_with_a_margin() -> None:
    split = "default: control\nvariations: {control: 1, candidate: 2}\n"
    split += "split: {control: 90, candidate: 10}\n"
    old = split + "rules:\n  - {name: pro, when: {plan: pro}, serve: candidate}"
    contexts = ({"plan": "pro"}, {"plan": "free"})
    result = radius(old, split, same_targeting=False, contexts=contexts, samples=20_000)
    assert (result.method, result.population, result.samples) == ("sampled", "synthetic", 20_000)
    assert result.margin == pytest.approx(1.96 * math.sqrt(0.25 / 20_000))
    # pro units (half) leave the rule for the split, which gives 90% of them control
    assert abs(result.matrix[("candidate", "control")] - 0.45) <= result.margin
    assert result.decided_by["old"]["pro"] == pytest.approx(0.5)
    assert result.decided_by["new"] == {"split": 1.0}


def test_sampling_warns_when_the_synthetic_units_are_not_eligible() -> None:
    body = (
        "default: a\nvariations: {{a: 1, b: 2}}\neligible: {{plan: pro}}\nsplit: {{a: {w}, b: 1}}"
    )
    result = radius(body.format(w=1), body.format(w=2), same_targeting=False, samples=1_000)
    assert result.moved == 0
    assert result.notes and "--context" in result.notes[0]
