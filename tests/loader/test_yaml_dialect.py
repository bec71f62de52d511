"""The flag-file YAML dialect: YAML 1.2 core scalars, JSON values only (dates only in the
time fields), bounds checked while composing, and every problem located in its file."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from modelflags.errors import FlagFileError, Issue
from modelflags.loader import InlineSource, load, parse_yaml, yaml_document

FLAG = "version: 1\nflags:\n  f:\n    default: a\n    variations: {{a: {value}, b: x}}\n"


def data(text: str) -> Any:
    document, issues = parse_yaml(text, "x.yaml")
    assert issues == []
    return document.data


def errors(text: str) -> list[str]:
    with pytest.raises(FlagFileError) as caught:
        load(InlineSource(text, name="f.yaml"))
    return [f"{issue.line}:{issue.col} {issue.code}" for issue in caught.value.issues]


def issues_of(text: str) -> list[Issue]:
    return parse_yaml(text, "x.yaml")[1]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10:30", "10:30"),
        ("1:30:00", "1:30:00"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("0777", 777),
        ("0o17", 15),
        ("0x1F", 31),
        ("+12", 12),
        ("1e5", 100000.0),
        (".5", 0.5),
        ("yes", "yes"),
        ("~", None),
        ("Null", None),
        ("=", "="),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    assert data(f"v: {text}\n") == {"v": value}


def test_quoted_scalars_are_always_text() -> None:
    assert data("a: '10'\nb: \"true\"\nc: '2026-01-01'\n") == {
        "a": "10",
        "b": "true",
        "c": "2026-01-01",
    }


def test_schedule_and_decide_by_still_read_yaml_timestamps() -> None:
    text = (
        "version: 1\nflags:\n  f:\n    default: a\n    variations: {a: 1}\n"
        "    schedule: {start: 2026-11-01T00:00:00Z, end: 2026-12-01 00:00:00 +01:00}\n"
        "    experiment: {key: k, control: a, decide_by: 2026-12-15}\n"
    )
    flag = load(InlineSource(text)).config.flags["f"]
    assert flag.schedule is not None
    assert flag.schedule.start == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert flag.experiment is not None
    assert flag.experiment.decide_by == date(2026, 12, 15)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-01-01", "not-json"),
        ("2026-01-01T10:00:00Z", "not-json"),
        (".nan", "not-json"),
        ("-.inf", "not-json"),
        ("1e999", "not-json"),
        ("9" * 500, "not-json"),
        ('"\\ud800"', "not-json"),
        ("!!binary aGVsbG8=", "yaml-tag"),
        ("!!set {x, y}", "yaml-tag"),
        ("!!omap [a: 1]", "yaml-tag"),
        ("!custom x", "yaml-tag"),
        ("!!int abc", "bad-scalar"),
        ("!!bool yes", "bad-scalar"),
        ("2026-02-30", "bad-scalar"),
    ],
)
def test_a_variation_value_that_is_not_json_is_a_located_error(value: str, code: str) -> None:
    assert errors(FLAG.format(value=value)) == [f"5:21 {code}"]


def test_a_date_in_metadata_is_not_json() -> None:
    text = FLAG.format(value=1) + "    metadata: {launched: 2026-01-01}\n"
    assert errors(text) == ["6:26 not-json"]


def test_a_date_in_a_condition_must_be_quoted() -> None:
    text = FLAG.format(value="y") + "    rules: [{when: {day: {$gt: 2026-11-01}}, serve: b}]\n"
    assert errors(text) == ["6:32 not-json"]
    quoted = FLAG.format(value="y") + "    rules: [{when: {day: {$gt: '2026-11-01'}}, serve: b}]\n"
    assert load(InlineSource(quoted)).config.flags["f"].rules[0].when == {
        "day": {"$gt": "2026-11-01"}
    }


def test_the_hint_for_a_date_shows_it_quoted() -> None:
    with pytest.raises(FlagFileError) as caught:
        load(InlineSource(FLAG.format(value="2026-01-01")))
    assert caught.value.issues[0].hint == "quote it to make it text: '2026-01-01'"


@pytest.mark.parametrize("key", ["1", "null", "~", "true", "2.5", "2026-01-01"])
def test_a_mapping_key_that_is_not_text_is_a_bad_key_with_a_quoting_hint(key: str) -> None:
    (issue,) = issues_of(f"a:\n  {key}: x\n")
    assert (issue.code, issue.line, issue.col) == ("bad-key", 2, 3)
    assert issue.hint == f"quote it: '{key}'"


def test_an_empty_key_is_a_bad_key() -> None:
    (issue,) = issues_of("a:\n  ? \n  : x\n")
    assert (issue.code, issue.hint) == ("bad-key", "give the key a name")


def test_every_non_json_value_of_a_file_is_reported_at_once() -> None:
    text = FLAG.format(value=".nan") + "    metadata: {day: 2026-01-01, n: .inf}\n"
    assert errors(text) == ["5:21 not-json", "6:21 not-json", "6:36 not-json"]


def test_a_control_character_is_placed_at_its_line_and_column() -> None:
    (issue,) = issues_of("a: 1\nb: x\x07y\n")
    assert (issue.code, issue.line, issue.col) == ("yaml-syntax", 2, 5)


def test_invalid_utf8_is_placed_at_its_line() -> None:
    document, issues = parse_yaml(b"a: 1\nb: \xff\n", "x.yaml")
    assert [(issue.code, issue.line, issue.col) for issue in issues] == [("yaml-syntax", 2, 4)]
    assert document.data is None


def test_a_recursive_alias_is_refused() -> None:
    (issue,) = issues_of("a: &x [1, *x]\n")
    assert (issue.code, issue.line, issue.col) == ("too-large", 1, 11)


def test_composition_stops_at_the_value_bound_before_reading_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yaml_document, "MAX_NODES", 1000)
    text = "a: [" + "0, " * 5000 + "0]\nb: [unclosed\n"  # the syntax error is never reached
    (issue,) = issues_of(text)
    assert issue.code == "too-large"
    assert issue.line == 1


def test_mapping_keys_do_not_count_as_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_document, "MAX_NODES", 11)
    assert issues_of("{" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}\n") == []
    assert [i.code for i in issues_of("{" + ", ".join(f"k{i}: {i}" for i in range(11)) + "}")] == [
        "too-large"
    ]


def test_an_alias_counts_every_value_it_stands_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_document, "MAX_NODES", 100)
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    (issue,) = issues_of(text)
    assert (issue.code, issue.line) == ("too-large", 2)


def test_nesting_is_refused_while_composing_before_a_later_syntax_error() -> None:
    text = "a: " + "[" * 100 + "\n: : {{{ not yaml\n"
    (issue,) = issues_of(text)
    assert issue.code == "too-large"
    assert "nests deeper" in issue.message


def test_an_alias_that_nests_a_deep_value_deeper_is_refused() -> None:
    deep = "[" * 40 + "1" + "]" * 40
    text = f"a: &d {deep}\nb: {'[' * 30}*d{']' * 30}\n"
    assert [issue.code for issue in issues_of(text)] == ["too-large"]
