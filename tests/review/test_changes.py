"""What an edit changed: fields per flag, rules by name or position, segments and their users,
flags added and removed, and the report that gathers them."""

from __future__ import annotations

from datetime import datetime, timezone

from modelflags.loader import InlineSource, load
from modelflags.review.changes import (
    Change,
    flag_changes,
    flag_segments,
    same_targeting,
    segment_changes,
)
from modelflags.review.diff_report import diff_configs, report_json, report_text
from modelflags.schema.models import Flag, FlagFile

NOW = datetime(2026, 11, 15, tzinfo=timezone.utc).timestamp()

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
    assert flag_segments(new.flags["f"], new.segments) == {"inner", "outer"}
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


def test_report_lists_added_removed_changed_and_unchanged_flags() -> None:
    body = "    default: a\n    variations: {a: 1, b: 2}\n"
    old = config(f"flags:\n  gone:\n{body}  kept:\n{body}  edited:\n{body}")
    new = config(f"flags:\n  kept:\n{body}  edited:\n{body}    state: off\n  fresh:\n{body}")
    report = diff_configs(old, new, now=NOW)
    assert [(f.key, f.status) for f in report.flags] == [
        ("edited", "changed"),
        ("fresh", "added"),
        ("gone", "removed"),
    ]
    assert report.unchanged == ("kept",)
    assert report.has_changes


def test_a_flag_whose_segment_changed_is_changed_and_sampled() -> None:
    flags = "flags:\n  f:\n    default: a\n    variations: {a: 1, b: 2}\n"
    flags += "    exclusions: {segments: [blocked], serve: b}\n"
    old = config("segments:\n  blocked: {country: FR}\n" + flags)
    new = config("segments:\n  blocked: {country: {$in: [FR, DE]}}\n" + flags)
    contexts = ({"country": "FR"}, {"country": "DE"}, {"country": "US"}, {"country": "UK"})
    report = diff_configs(old, new, now=NOW, contexts=contexts, samples=4_000)
    (flag,) = report.flags
    assert [c.field for c in flag.changes] == ["segments.blocked"]
    assert flag.blast_radius is not None and flag.blast_radius.method == "sampled"
    assert flag.blast_radius.matrix[("a", "b")] == 0.25  # the DE quarter is now excluded


def test_report_json_has_the_documented_shape() -> None:
    body = "    default: a\n    variations: {a: 1, b: 2}\n    assignment: {unit: user}\n"
    old = config(f"flags:\n  f:\n{body}    split: {{a: 90, b: 10}}\n")
    new = config(f"flags:\n  f:\n{body}    split: {{a: 50, b: 50}}\n")
    data = report_json(diff_configs(old, new, now=NOW, old_name="o", new_name="n"))
    assert list(data) == sorted(data)
    assert (data["old"], data["new"], data["now"]) == ("o", "n", "2026-11-15T00:00:00Z")
    assert list(data["summary"].items()) == [
        ("added", 0), ("changed", 1), ("removed", 0), ("unchanged", 0)
    ]  # fmt: skip
    (flag,) = data["flags"]
    assert (flag["key"], flag["status"], flag["unit"]) == ("f", "changed", "user")
    assert flag["changes"][0] == {"field": "split.a", "kind": "changed", "new": 50, "old": 90}
    radius = flag["blastRadius"]
    assert list(radius) == sorted(radius)
    assert (radius["method"], radius["population"], radius["moved"]) == ("exact", "all", 0.4)
    assert {"from": "a", "share": 0.4, "to": "b"} in radius["matrix"]
    assert radius["oldShares"] == {"a": 0.9, "b": 0.1}


def test_report_text_reads_like_a_review_comment() -> None:
    body = "    default: a\n    variations: {a: 1, b: 2}\n    assignment: {unit: conversation}\n"
    old = config(f"flags:\n  f:\n{body}    split: {{a: 92, b: 8}}\n")
    new = config(f"flags:\n  f:\n{body}    split: {{a: 84, b: 16}}\n")
    text = report_text(diff_configs(old, new, now=NOW))
    assert "## `f`: changed" in text
    assert "- `split.b`: `8` → `16`" in text
    assert "**Moves 8.0% of conversations:** a → b 8.0%." in text
    assert "Method: exact" in text
