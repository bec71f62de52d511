"""The blast radius of one flag edit: which method is chosen, coverage, salt, state and
schedule combined with the split (against the engine), sampling, and the notes that explain
a result. The rendezvous maths itself is in test_rendezvous.py."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timezone

import pytest

from modelflags.engine import compile_flags, decide
from modelflags.engine.compiled import CompiledFlag
from modelflags.loader import InlineSource, load
from modelflags.review.diff.blast_radius import BlastRadius, blast_radius
from modelflags.review.diff.changes import same_targeting
from modelflags.schema.models import FlagFile

NOW = datetime(2026, 11, 15, tzinfo=timezone.utc).timestamp()


def config(yaml_text: str) -> FlagFile:
    return load(InlineSource(yaml_text)).config


def compiled(yaml_text: str, key: str = "f") -> CompiledFlag:
    return compile_flags(config(yaml_text), "v")[key]


def flag(body: str, segments: str = "") -> str:
    indented = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return f"version: 1\n{segments}flags:\n  f:\n{indented}\n"


def radius(old: str, new: str, **kwargs: object) -> BlastRadius:
    """The blast radius of editing flag ``f`` from ``old`` to ``new`` (flag bodies in YAML),
    with ``same_targeting`` worked out from the two versions as ``diff`` does."""
    before, after = config(flag(old)), config(flag(new))
    same = same_targeting("f", before.flags["f"], after.flags["f"], {}, {})
    return blast_radius(
        compile_flags(before, "old")["f"], compile_flags(after, "new")["f"], now=NOW,
        same_targeting=same, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def brute_force(old: CompiledFlag, new: CompiledFlag, n: int) -> dict[tuple[str, str], float]:
    """Shares of (old, new) variations over units u0..u(n-1), evaluated by the engine."""
    counts = Counter(
        (decide(old, {}, f"u{i}", NOW)[0].variant, decide(new, {}, f"u{i}", NOW)[0].variant)
        for i in range(n)
    )
    return {cell: count / n for cell, count in counts.items()}


def assert_within_sampling_error(
    exact: dict[tuple[str, str], float], observed: dict[tuple[str, str], float], n: int
) -> None:
    for cell in exact.keys() | observed.keys():
        p, seen = exact.get(cell, 0.0), observed.get(cell, 0.0)
        sigma = math.sqrt(max(p * (1 - p), 1e-9) / n)
        assert abs(seen - p) <= 4.5 * sigma, (cell, p, seen)


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
    assert result.serves_everyone == {"new": "c"}


def test_switching_off_a_flag_with_conditions_serves_its_default_to_every_unit() -> None:
    body = "default: {d}\nvariations: {{a: 1, b: 2, c: 3}}\nsplit: {{a: 90, b: 10}}\n"
    body += "rules:\n  - {{name: pro, when: {{plan: pro}}, serve: b}}\n"
    result = radius(body.format(d="a"), body.format(d="c") + "state: off", samples=1_000)
    assert result.method == "sampled"  # which share was on 'c' before depends on traffic
    assert result.serves_everyone == {"new": "c"}
    assert result.new_shares == {"c": 1.0}


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
    result = radius(old, split, contexts=contexts, samples=20_000)
    assert (result.method, result.population, result.samples) == ("sampled", "synthetic", 20_000)
    assert result.margin == pytest.approx(1.96 * math.sqrt(0.25 / 20_000))
    # pro units (half) leave the rule for the split, which gives 90% of them control
    assert abs(result.matrix[("candidate", "control")] - 0.45) <= result.margin
    assert result.decided_by["old"]["pro"] == pytest.approx(0.5)
    assert result.decided_by["new"] == {"split": 1.0}


def test_renaming_an_arm_re_randomises_its_units_and_says_why() -> None:
    old = "default: control\nvariations: {control: 1, candidate: 2}\n"
    old += "split: {control: 50, candidate: 50}"
    result = radius(old, old.replace("candidate", "treatment"))
    assert result.method == "exact"
    assert result.moved == pytest.approx(2 / 3)  # the draws are per name: a new arm
    assert result.value_changed == pytest.approx(1 / 3)
    (note,) = result.notes
    assert note.startswith("split arms renamed candidate → treatment: the hash draws are per")


def test_arms_added_and_removed_are_noted_by_name() -> None:
    old = "default: a\nvariations: {a: 1, b: 2, c: 3}\nsplit: {a: 1, b: 1}"
    (note,) = radius(old, old.replace("b: 1}", "c: 1}")).notes
    assert note.startswith("split arms added c; removed b: ")


def test_arms_that_keep_their_names_need_no_note() -> None:
    body = "default: a\nvariations: {{a: 1, b: 2}}\nsplit: {{a: {w}, b: 1}}"
    assert radius(body.format(w=1), body.format(w=3)).notes == ()


def ineligible_radius(old: str, new: str, **kwargs: object) -> BlastRadius:
    body = "default: a\nvariations: {{a: 1, b: 2}}\neligible: {cond}\nsplit: {{a: 1, b: 1}}"
    return radius(body.format(cond=old), body.format(cond=new), samples=1_000, **kwargs)


def test_sampling_without_context_warns_when_most_units_are_not_eligible() -> None:
    result = ineligible_radius("{plan: pro}", "{plan: {$in: [pro, team]}}")
    assert result.moved == 0
    (note,) = result.notes
    assert "not eligible (100% in the old version, 100% in the new version)" in note
    assert "--context" in note


def test_no_eligibility_note_when_contexts_were_given() -> None:
    contexts = ({"plan": "free"},)
    result = ineligible_radius("{plan: pro}", "{plan: {$in: [pro, team]}}", contexts=contexts)
    assert result.decided_by["new"]["not-eligible"] == 1.0
    assert result.notes == ()


def test_no_eligibility_note_when_exactly_half_is_not_eligible() -> None:
    even, odd = "{targetingKey: {$regex: '[02468]$'}}", "{targetingKey: {$regex: '[13579]$'}}"
    result = ineligible_radius(even, odd)
    assert result.decided_by["old"]["not-eligible"] == 0.5
    assert result.notes == ()


def test_variation_values_that_read_like_dates_are_compared_as_text() -> None:
    body = "default: a\nvariations: {{a: {{since: '2026-01-01'}}, b: {{since: '{b}'}}}}\n"
    body += "split: {{a: 1, b: 1}}"
    result = radius(body.format(b="2026-01-01"), body.format(b="2026-02-01"))
    assert result.moved == 0
    assert result.value_changed == pytest.approx(0.5)
