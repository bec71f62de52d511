"""The aggregate table as a value: its accessors, the merge rule, and its files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelflags.analysis.aggregates import (
    Aggregates,
    Row,
    merge,
    read_aggregates,
    write_aggregates,
)
from modelflags.analysis.event_aggregation import aggregate_events
from modelflags.errors import ModelFlagsError

FLAG = "support_answer_model_route"
ARMS = ("control", "candidate")


def cells(table: Aggregates) -> dict[tuple[Any, ...], float]:
    return {row.key: row.value for row in table.compact().rows}


@pytest.fixture
def sample() -> Aggregates:
    """A small table with every section, two segments and a malformed line."""
    return Aggregates(
        (
            Row("input", None, None, None, "events", 10.0),
            Row("population", None, None, None, "reason:DEFAULT", 2.0),
            Row("version", None, None, "3f2a9c1d", "last_seen", 1_795_000_010.5),
            Row("arm", "pro", "control", None, "units", 3.0),
            Row("arm", "", "control", None, "units", 1.0),
            Row("arm", "pro", "control", None, "last_exposure", 1_795_000_009.0),
            Row("arm", "free", "control", None, "last_exposure", 1_795_000_003.0),
            Row("arm", "pro", "candidate", "latency_ms", "sum", 812.4),
            Row("metric", "pro", "control", 'odd,"name"', "sum", 2.0),
            Row("sketch", "pro", "control", "latency_ms", "b-3", 4.0),
            Row("sketch", "free", "control", "latency_ms", "zero", 1.0),
            Row("sketch", "pro", "control", "latency_ms", "zero", 2.0),
        ),
        ("events/a.jsonl:7",),
    )


def test_a_segment_of_none_reads_every_segment_together(sample: Aggregates) -> None:
    assert sample.arm_stat(None, "control", None, "units") == 4
    assert sample.arm_stat("pro", "control", None, "units") == 3
    assert sample.arm_stat(None, "control", None, "last_exposure") == 1_795_000_009.0
    assert sample.sketch(None, "control") == {"b-3": 4, "zero": 3}
    assert sample.sketch("free", "control") == {"zero": 1}


def test_a_statistic_without_a_row_reads_as_zero(sample: Aggregates) -> None:
    assert sample.arm_stat("pro", "candidate", None, "units") == 0
    assert sample.metric_stat(None, "candidate", "resolved", "sum") == 0
    assert sample.sketch(None, "candidate") == {}


def test_accessors_list_names_sections_and_versions(sample: Aggregates) -> None:
    assert sample.segments() == ("", "free", "pro")
    assert sample.variations() == ("candidate", "control")
    assert sample.metrics() == ('odd,"name"',)
    assert sample.input_counts() == {"events": 10}
    assert sample.population() == {"reason:DEFAULT": 2}
    assert sample.versions() == {"3f2a9c1d": {"last_seen": 1_795_000_010.5}}


def test_repeated_keys_are_read_merged(sample: Aggregates) -> None:
    doubled = Aggregates(sample.rows + sample.rows)
    assert doubled.arm_stat("pro", "control", None, "units") == 6
    assert doubled.arm_stat("pro", "control", None, "last_exposure") == 1_795_000_009.0


def test_merge_adds_values_and_keeps_the_latest_last_time() -> None:
    first = Aggregates((Row("arm", None, "control", None, "units", 2.0),
                        Row("arm", None, "control", None, "last_outcome", 50.0)))  # fmt: skip
    second = Aggregates((Row("arm", None, "control", None, "units", 5.0),
                         Row("arm", None, "control", None, "last_outcome", 20.0)))  # fmt: skip
    assert cells(merge(first, second)) == {
        ("arm", None, "control", None, "units"): 7,
        ("arm", None, "control", None, "last_outcome"): 50,
    }


def test_merge_keeps_the_first_ten_malformed_lines_once() -> None:
    first = Aggregates((), tuple(f"a.jsonl:{n}" for n in range(1, 8)))
    second = Aggregates((), ("a.jsonl:1", *(f"b.jsonl:{n}" for n in range(1, 8))))
    assert merge(first, second).malformed_lines == (
        *(f"a.jsonl:{n}" for n in range(1, 8)),
        "b.jsonl:1",
        "b.jsonl:2",
        "b.jsonl:3",
    )


def test_merging_two_halves_of_the_units_gives_the_whole(kit: Any, tmp_path: Path) -> None:
    events = []
    for i in range(30):
        unit, arm = f"u{i}", ARMS[i % 3 == 0]
        events += [
            kit.exposure(unit, arm, t=i, latency_ms=10.0 + i, attributes={"plan": "ab"[i % 2]}),
            kit.exposure(unit, arm, t=i + 0.5, config_version="v2" if i > 20 else "v1"),
            kit.outcome(unit, arm, t=i + 1, metrics={"resolved": i % 4 == 0, "score": i}),
        ]
    halves = [[e for e in events if int(e["unitId"][1:]) % 2 == side] for side in (0, 1)]
    files = [kit.write_jsonl(tmp_path / f"{n}.jsonl", half) for n, half in enumerate(halves)]
    whole = aggregate_events(files, FLAG, ARMS, by="plan")
    parts = merge(*(aggregate_events([file], FLAG, ARMS, by="plan") for file in files))
    assert cells(parts).keys() == cells(whole).keys()
    for key, value in cells(whole).items():
        assert cells(parts)[key] == pytest.approx(value, rel=1e-12), key


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_write_then_read_gives_the_same_table(
    sample: Aggregates, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"table{suffix}"
    write_aggregates(sample, path)
    back = read_aggregates(path)
    assert cells(back) == cells(sample)
    assert back.malformed_lines == sample.malformed_lines


def test_an_unknown_suffix_is_an_error(sample: Aggregates, tmp_path: Path) -> None:
    with pytest.raises(ModelFlagsError, match=r"table\.xlsx: unknown aggregate table format"):
        write_aggregates(sample, tmp_path / "table.xlsx")


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFlagsError, match=r"nope\.csv: no such file"):
        read_aggregates(tmp_path / "nope.csv")


def test_a_table_without_a_column_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("section,segment,variation,metric,stat\ninput,,,,events\n")
    with pytest.raises(ModelFlagsError) as raised:
        read_aggregates(path)
    assert str(raised.value) == f"{path}: not an aggregate table: no column 'value'"


def test_a_bad_value_in_csv_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text(
        "section,segment,variation,metric,stat,value\ninput,,,,events,3\narm,,control,,units,lots\n"
    )
    with pytest.raises(ModelFlagsError) as raised:
        read_aggregates(path)
    assert str(raised.value) == f"{path}:3: value is not a finite number: 'lots'"


def test_an_unknown_section_in_jsonl_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "table.jsonl"
    good = '{"section":"arm","segment":null,"variation":"control","metric":null,'
    path.write_text(
        good + '"stat":"units","value":1}\n'
        '{"section":"arms","segment":null,"variation":"c","metric":null,"stat":"u","value":1}\n'
    )
    with pytest.raises(ModelFlagsError) as raised:
        read_aggregates(path)
    assert str(raised.value) == f"{path}:2: unknown section 'arms'"


def test_a_text_value_in_jsonl_is_not_a_number(tmp_path: Path) -> None:
    path = tmp_path / "table.jsonl"
    path.write_text(
        '{"section":"arm","segment":null,"variation":"control","metric":null,'
        '"stat":"units","value":"1"}\n'
    )
    with pytest.raises(ModelFlagsError, match=r"table\.jsonl:1: value is not a finite number"):
        read_aggregates(path)


def test_a_non_finite_value_in_parquet_names_its_row(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "table.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM (VALUES ('arm', NULL, 'control', NULL, 'units', 1.0), "
            "('arm', NULL, 'control', NULL, 'exposures', 'inf'::DOUBLE)) "
            "AS t(section, segment, variation, metric, stat, value)) "
            f"TO '{path}' (FORMAT parquet)"
        )
    with pytest.raises(ModelFlagsError) as raised:
        read_aggregates(path)
    assert str(raised.value) == f"{path} row 2: value is not a finite number: inf"


def test_a_file_that_is_not_json_lines_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "table.jsonl"
    path.write_text("section,segment\nthis is not json\n")
    with pytest.raises(ModelFlagsError) as raised:
        read_aggregates(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: not an aggregate table: ") and "\n" not in message
