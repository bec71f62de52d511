"""What an edit changed: fields per flag, rules by name or position, segments and their users,
whether targeting stayed the same, and values compared as canonical JSON."""

from __future__ import annotations

from datetime import date

from modelflags.loader import InlineSource, load
from modelflags.review.diff.changes import (
    Change,
    canonical_json,
    flag_changes,
    same_targeting,
    segment_changes,
)
from modelflags.schema.models import Flag, FlagFile

BASE = {
    "default": "control",
    "variations": {"control": {"model": "a"}, "candidate": {"model": "b"}},
    "split": {"control": 90, "candidate": 10},
}


def edit(**fields: object) -> Flag:
    return Flag.model_validate({**BASE, **fields})


def fields(old: Flag, new: Flag) -> list[tuple[str, object, object]]:
    return [(c.field, c.old, c.new) for c in flag_changes(old, new)]


def config(text: str) -> FlagFile:
    return load(InlineSource("version: 1\n" + text)).config


def test_an_identical_flag_has_no_changes() -> None:
    assert flag_changes(edit(), edit()) == []


def test_split_weights_are_compared_one_variation_at_a_time() -> None:
    new = edit(split={"control": 50, "candidate": 50})
    assert fields(edit(), new) == [("split.control", 90, 50), ("split.candidate", 10, 50)]


def test_state_and_default_changes_are_named() -> None:
    assert fields(edit(), edit(state="off", default="candidate")) == [
        ("state", "on", "off"),
        ("default", "control", "candidate"),
    ]


def test_variation_values_are_compared_key_by_key_and_new_ones_whole() -> None:
    variations = {"control": {"model": "a"}, "candidate": {"model": "c"}, "fallback": {"m": 1}}
    changes = flag_changes(edit(), edit(variations=variations))
    assert [(c.field, c.kind, c.old, c.new) for c in changes] == [
        ("variations.candidate.model", "changed", "b", "c"),
        ("variations.fallback", "added", None, {"m": 1}),
    ]


def test_assignment_salt_and_coverage_changes_are_named() -> None:
    assert fields(edit(), edit(assignment={"salt": "v2"}, coverage=50)) == [
        ("assignment.salt", None, "v2"),
        ("coverage", 100.0, 50.0),
    ]


def test_conditions_are_compared_whole() -> None:
    old = edit(eligible={"plan": {"$in": ["pro"]}, "channel": "chat"})
    new = edit(eligible={"plan": {"$in": ["pro", "enterprise"]}, "channel": "chat"})
    assert fields(old, new) == [
        ("eligible", old.eligible, new.eligible),
    ]


def test_rules_are_matched_by_name_and_changes_named_per_part() -> None:
    rule = {"name": "internal", "when": {"email": {"$regex": "x"}}, "serve": "candidate"}
    old = edit(rules=[rule])
    new = edit(rules=[{**rule, "serve": "control", "when": {"email": "y"}}])
    assert fields(old, new) == [
        ("rules[internal].when", {"email": {"$regex": "x"}}, {"email": "y"}),
        ("rules[internal].serve", "candidate", "control"),
    ]


def test_rules_added_removed_and_reordered_are_listed() -> None:
    a = {"name": "a", "when": {"x": 1}, "serve": "control"}
    b = {"name": "b", "when": {"x": 2}, "serve": "candidate"}
    c = {"name": "c", "when": {"x": 3}, "serve": "candidate"}
    changes = flag_changes(edit(rules=[a, b]), edit(rules=[c, b, a]))
    assert [(change.field, change.kind) for change in changes] == [
        ("rules[c]", "added"),
        ("rules.order", "changed"),
    ]
    assert changes[1] == Change("rules.order", "changed", ["a", "b"], ["b", "a"])


def test_unnamed_rules_are_matched_by_position() -> None:
    old = edit(rules=[{"when": {"x": 1}, "serve": "control"}])
    new = edit(rules=[{"when": {"x": 1}, "split": {"control": 1, "candidate": 1}}])
    assert fields(old, new) == [
        ("rules[0].serve", "control", None),
        ("rules[0].split", None, {"control": 1, "candidate": 1}),
    ]


def test_segment_changes_name_the_flags_that_use_them_through_other_segments() -> None:
    flags = "flags:\n  f:\n    default: a\n    variations: {a: 1}\n    eligible: outer\n"
    old = config("segments:\n  inner: {plan: pro}\n  outer: {$segment: inner}\n" + flags)
    new = config(
        "segments:\n  inner: {plan: free}\n  outer: {$segment: inner}\n  more: {}\n" + flags
    )
    changes = segment_changes(old, new)
    assert [(c.name, c.kind, c.used_by) for c in changes] == [
        ("inner", "changed", ("f",)),
        ("more", "added", ()),
    ]


def test_same_targeting_depends_on_the_segments_used() -> None:
    flag = edit(eligible="paid")
    assert same_targeting("f", flag, flag, {"paid": {"plan": "pro"}}, {"paid": {"plan": "pro"}})
    assert not same_targeting("f", flag, flag, {"paid": {"plan": "pro"}}, {"paid": {"plan": "x"}})


def test_same_targeting_counts_what_not_eligible_units_get() -> None:
    old = edit(eligible={"plan": "pro"})
    assert not same_targeting("f", old, edit(eligible={"plan": "pro"}, default="candidate"), {}, {})
    assert same_targeting("f", edit(), edit(default="candidate"), {}, {})


def test_same_targeting_sees_a_segment_used_only_through_another_segment() -> None:
    flag = edit(eligible="outer")
    old = {"outer": {"$segment": "inner"}, "inner": {"plan": "pro"}}
    assert not same_targeting("f", flag, flag, old, {**old, "inner": {"plan": "team"}})


def test_same_targeting_counts_a_rule_split_salt() -> None:
    rules = [{"name": "pro", "when": {"plan": "pro"}, "split": {"control": 1, "candidate": 1}}]
    old = edit(rules=rules)
    assert not same_targeting("f", old, edit(rules=rules, assignment={"salt": "v2"}), {}, {})


def test_canonical_json_orders_keys_and_writes_yaml_dates_as_text() -> None:
    assert canonical_json({"b": 1, "a": True}) == '{"a":true,"b":1}'
    assert canonical_json({"since": date(2026, 1, 1)}) == '{"since":"2026-01-01"}'
    assert canonical_json(1) != canonical_json(True)
