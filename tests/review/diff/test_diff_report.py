"""The diff report: flags added, removed, changed and unchanged, each changed flag's blast
radius worked out from the real edit, and its two renderings (JSON and a review comment)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from modelflags.loader import InlineSource, load
from modelflags.review.diff.rendering import report_json, report_text
from modelflags.review.diff.report import diff_configs
from modelflags.schema.models import FlagFile

NOW = datetime(2026, 11, 15, tzinfo=timezone.utc).timestamp()

TARGETED = """\
segments:
  paid: {plan: [pro, enterprise]}
flags:
  f:
    default: control
    variations: {control: 1, candidate: 2, fallback: 0}
    assignment: {unit: conversation}
    rules:
      - {name: internal, when: {email: {$regex: "@example\\\\.com$"}}, serve: candidate}
    eligible: paid
    split: {control: 90, candidate: 10}
"""


def config(text: str) -> FlagFile:
    return load(InlineSource("version: 1\n" + text)).config


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


def test_a_split_edit_behind_unchanged_rules_and_segments_is_exact() -> None:
    new = TARGETED.replace("{control: 90, candidate: 10}", "{control: 50, candidate: 50}")
    (flag,) = diff_configs(config(TARGETED), config(new), now=NOW).flags
    assert flag.blast_radius is not None
    assert (flag.blast_radius.method, flag.blast_radius.population) == ("exact", "reaching-split")
    assert abs(flag.blast_radius.moved - 0.4) < 1e-12


def test_a_rule_that_serves_another_variation_makes_the_edit_sampled() -> None:
    new = TARGETED.replace("serve: candidate", "serve: fallback")
    (flag,) = diff_configs(config(TARGETED), config(new), now=NOW, samples=1_000).flags
    assert [c.field for c in flag.changes] == ["rules[internal].serve"]
    assert flag.blast_radius is not None and flag.blast_radius.method == "sampled"


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
    assert data["contexts"] == []  # none given: synthetic units carry no attributes
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
    assert radius["servesEveryone"] == {}


def test_report_json_is_plain_json_with_quoted_dates_as_text() -> None:
    flags = "flags:\n  f:\n    default: a\n    variations: {{a: {{since: '{day}'}}}}\n"
    flags += "    eligible: recent\n"
    segments = "segments:\n  recent: {{signup: {{$gt: '{day}'}}}}\n"
    old = config((segments + flags).format(day="2026-01-01"))
    new = config((segments + flags).format(day="2026-02-01"))
    data = json.loads(json.dumps(report_json(diff_configs(old, new, now=NOW, samples=100))))
    (segment,) = data["segments"]
    assert (segment["old"], segment["new"]) == (
        {"signup": {"$gt": "2026-01-01"}}, {"signup": {"$gt": "2026-02-01"}}
    )  # fmt: skip
    radius = data["flags"][0]["blastRadius"]
    assert radius["valueChanged"] == 1.0


def test_report_json_time_is_whole_seconds() -> None:
    report = diff_configs(config("flags: {}"), config("flags: {}"), now=NOW + 0.987654)
    assert report_json(report)["now"] == "2026-11-15T00:00:00Z"


def test_report_text_reads_like_a_review_comment() -> None:
    body = "    default: a\n    variations: {a: 1, b: 2}\n    assignment: {unit: conversation}\n"
    old = config(f"flags:\n  f:\n{body}    split: {{a: 92, b: 8}}\n")
    new = config(f"flags:\n  f:\n{body}    split: {{a: 84, b: 16}}\n")
    text = report_text(diff_configs(old, new, now=NOW))
    assert "## `f`: changed" in text
    assert "- `split.b`: `8` → `16`" in text
    assert "**Moves 8.0% of conversations:** a → b 8.0%." in text
    assert "Method: exact" in text
    assert "served a changed value" not in text  # the same share as moved


def test_switching_off_says_first_that_every_unit_now_gets_the_default() -> None:
    new = TARGETED.replace("default: control", "state: off\n    default: fallback")
    report = diff_configs(config(TARGETED), config(new), now=NOW, samples=1_000)
    text = report_text(report)
    summary = "**Switches the flag off: every conversation now gets `fallback`.**"
    assert f"\n\n{summary}\n**Moves ~" in text  # first, before the sampled share that moves
    radius = report_json(report)["flags"][0]["blastRadius"]
    assert radius["servesEveryone"] == {"new": "fallback"}


def test_a_renamed_arm_shows_the_value_changed_share_below_moved_and_why() -> None:
    body = "    default: control\n    variations: {control: 1, candidate: 2}\n"
    old = config(f"flags:\n  f:\n{body}    split: {{control: 50, candidate: 50}}\n")
    new = config(f"flags:\n  f:\n{body}    split: {{control: 50, candidate: 50}}\n".replace(
        "candidate", "treatment"))  # fmt: skip
    text = report_text(diff_configs(old, new, now=NOW))
    assert "**Moves 66.7% of units:**" in text
    assert "33.3% of units are served a changed value (some move between variations" in text
    assert "Note: split arms renamed candidate → treatment: the hash draws are per" in text


def test_the_contexts_given_are_in_the_json() -> None:
    contexts = ({"plan": "pro"}, {"plan": "free"})
    report = diff_configs(config("flags: {}"), config("flags: {}"), now=NOW, contexts=contexts)
    assert report_json(report)["contexts"] == [{"plan": "pro"}, {"plan": "free"}]
