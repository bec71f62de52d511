"""The bounded YAML reader: YAML 1.2 booleans, positions, duplicates, bounds, tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelflags.errors import FlagFileError
from modelflags.loader import MAX_FILE_BYTES, InlineSource, load, parse_yaml


def test_on_off_yes_no_stay_strings_and_true_false_are_booleans() -> None:
    document, issues = parse_yaml("a: on\nb: off\nc: yes\nd: no\ne: true\nf: False\n", "x.yaml")
    assert issues == []
    assert document.data == {"a": "on", "b": "off", "c": "yes", "d": "no", "e": True, "f": False}


def test_on_and_off_can_name_variations() -> None:
    text = (
        "version: 1\nflags:\n  f:\n"
        "    state: on\n    default: off\n    variations: {on: true, off: false}\n"
    )
    flag = load(InlineSource(text)).config.flags["f"]
    assert flag.state == "on"
    assert flag.variations == {"on": True, "off": False}


def test_state_accepts_yaml_booleans_too() -> None:
    text = "version: 1\nflags:\n  f: {state: false, default: a, variations: {a: 1}}\n"
    assert load(InlineSource(text)).config.flags["f"].state == "off"


def test_every_value_and_key_has_its_line_and_column() -> None:
    document, _ = parse_yaml("flags:\n  f:\n    split: {a: 1,  b: 2}\n", "x.yaml")
    assert document.keys[("flags", "f", "split")] == (3, 5)
    assert document.values[("flags", "f", "split", "b")] == (3, 23)


def test_merge_keys_work_and_explicit_keys_win() -> None:
    text = "base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  b: 3\n"
    document, issues = parse_yaml(text, "x.yaml")
    assert issues == []
    assert document.data["derived"] == {"a": 1, "b": 3}


def test_duplicate_keys_are_all_reported() -> None:
    _, issues = parse_yaml("a: 1\nb: 2\na: 3\nb: 4\n", "x.yaml")
    assert [(i.code, i.line, i.col) for i in issues] == [
        ("duplicate-key", 3, 1),
        ("duplicate-key", 4, 1),
    ]


def test_a_file_over_the_size_bound_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\n" + "#" * MAX_FILE_BYTES + "\n")
    with pytest.raises(FlagFileError) as caught:
        load(big)
    assert str(caught.value).startswith(f"{big}:1:1: [file-too-large]")


def test_an_empty_file_is_an_error() -> None:
    with pytest.raises(FlagFileError, match=r"<inline>:1:1: \[empty-file\]"):
        load(InlineSource("# nothing here\n"))


def test_a_top_level_list_is_an_error() -> None:
    with pytest.raises(FlagFileError, match=r"\[not-a-mapping\]"):
        load(InlineSource("- a\n- b\n"))


def test_complex_mapping_keys_are_refused() -> None:
    _, issues = parse_yaml("? [a, b]\n: 1\n", "x.yaml")
    assert [i.code for i in issues] == ["bad-key"]


def test_deeply_nested_documents_are_refused_not_crashed() -> None:
    _, issues = parse_yaml("a: " + "[" * 3000 + "]" * 3000 + "\n", "x.yaml")
    assert [i.code for i in issues] == ["too-large"]


def test_bytes_that_are_not_utf8_are_a_located_error() -> None:
    _, issues = parse_yaml(b"a: \xff\xfe\n", "x.yaml")
    assert len(issues) == 1
    assert issues[0].file == "x.yaml"
