"""The warehouse SQL shipped in the package gives the table the DuckDB aggregation gives.

``sql/clickhouse.sql`` runs for real, in the embedded ClickHouse (chdb), over the same event
file the DuckDB aggregation reads. ``sql/bigquery.sql`` cannot run without BigQuery (no
offline BigQuery or GoogleSQL parser exists): it is checked to follow the ClickHouse file step
by step, and to document the same table shape and parameters.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from modelflags.analysis.aggregates import read_aggregates
from modelflags.analysis.event_aggregation import aggregate_events, sql_text

chdb_session = pytest.importorskip("chdb.session")

FLAG = "support_answer_model_route"
ARMS = ("control", "candidate")
EVENTS_TABLE = """CREATE TABLE events (
    event String, eventId String, timestamp DateTime64(3, 'UTC'), flagKey Nullable(String),
    unitId Nullable(String), assignedVariation Nullable(String), variation Nullable(String),
    reason Nullable(String), inExperiment Nullable(Bool), configVersion Nullable(String),
    fallbackUsed Nullable(Bool), latencyMs Nullable(Float64), estimatedCost Nullable(Float64),
    error Nullable(Bool), attributes String, metrics String) ENGINE = Memory"""
LOAD = """INSERT INTO events SELECT * FROM file({path}, JSONEachRow)
    SETTINGS input_format_json_read_objects_as_strings = 1,
    input_format_skip_unknown_fields = 1, date_time_input_format = 'best_effort'"""


def stream(kit: Any, seed: int = 7, units: int = 160) -> list[dict[str, Any]]:
    """Events of every kind the table distinguishes: arms 90/10, fallbacks, errors, missing
    latencies, units out of the experiment, legacy events, several assignments, unknown
    variations, orphan outcomes, mismatched outcomes, two config versions, other flags,
    duplicates, boolean and numeric metrics, a segment attribute sometimes missing."""
    rng = random.Random(seed)
    e, o, absent = kit.exposure, kit.outcome, kit.ABSENT
    events: list[dict[str, Any]] = []
    for i in range(units):
        unit, arm = f"conv-{i:04d}", "candidate" if rng.random() < 0.1 else "control"
        plan = rng.choice(["free", "pro", "enterprise", None])
        randomised = rng.random() > 0.1
        for j in range(rng.randint(1, 3)):
            assigned = arm if not (i % 37 == 5 and j) else "candidate"
            events.append(e(
                unit, "fallback" if i % 41 == 3 else assigned, t=i + j / 4,
                ran="fallback" if rng.random() < 0.05 else None,
                fallback=rng.random() < 0.05, error=rng.random() < 0.03,
                in_experiment=randomised if i % 11 else absent,
                reason="SPLIT" if randomised else rng.choice(["DEFAULT", "TARGETING_MATCH"]),
                config_version="v1" if i < units * 0.6 else "v2",
                latency_ms=None if rng.random() < 0.05 else round(rng.lognormvariate(6.5, 0.5), 1),
                cost=None if rng.random() < 0.05 else round(rng.uniform(0, 0.01), 5),
                attributes={} if plan is None else {"plan": plan},
            ))  # fmt: skip
        for _ in range(rng.choice([0, 1, 1, 2])):
            events.append(o(
                unit, arm if rng.random() > 0.02 else "candidate", t=i + 0.8,
                config_version=rng.choice(["v1", "v2", None]),
                metrics={"resolved": rng.random() < 0.7, "csat": rng.randint(1, 5)},
            ))  # fmt: skip
    events += [o("conv-orphan", "control", t=3), e("conv-9999", flag="other_flag")]
    events += rng.sample(events, 6)
    return events


def clickhouse_query(path: Path, fmt: str, **parameters: str) -> str:
    """clickhouse.sql over the events in ``path``, loaded into chdb, in output format ``fmt``."""
    session = chdb_session.Session()
    try:
        session.query(EVENTS_TABLE)
        session.query(LOAD.format(path="'" + str(path).replace("'", "\\'") + "'"))
        params = {
            "flag_key": FLAG,
            "arms": "[" + ",".join(f"'{arm}'" for arm in ARMS) + "]",
            "since": "\\N",
            "until": "\\N",
            "config_version": "\\N",
            "by": "\\N",
            **parameters,
        }
        return str(session.query(sql_text("clickhouse.sql"), fmt, params=params))
    finally:
        session.close()


def clickhouse_rows(path: Path, **parameters: str) -> list[dict[str, Any]]:
    """The rows of clickhouse.sql, as dicts."""
    found = clickhouse_query(path, "JSONEachRow", **parameters)
    return [json.loads(line) for line in found.splitlines()]


def keyed(rows: Any) -> dict[tuple[Any, ...], float]:
    return {(r["section"], r["segment"], r["variation"], r["metric"], r["stat"]): r["value"]
            for r in rows}  # fmt: skip


def duckdb_table(path: Path, **options: Any) -> dict[tuple[Any, ...], float]:
    found = aggregate_events([path], FLAG, ARMS, **options)
    return {row.key: row.value for row in found.compact().rows if row.section != "input"}


def assert_close(found: dict[Any, float], expected: dict[Any, float]) -> None:
    assert sorted(found, key=str) == sorted(expected, key=str)
    for key, value in expected.items():
        assert found[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def moment(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def test_clickhouse_sql_gives_the_duckdb_table(kit: Any, write_events: Any) -> None:
    path = write_events(stream(kit))
    assert_close(keyed(clickhouse_rows(path)), duckdb_table(path))


def test_clickhouse_sql_applies_window_version_and_segments_as_duckdb_does(
    kit: Any, write_events: Any
) -> None:
    path = write_events(stream(kit, seed=11))
    since, until = kit.T0 + 20, kit.T0 + 140.5
    found = clickhouse_rows(
        path, since=moment(since), until=moment(until), config_version="v1", by="plan"
    )
    expected = duckdb_table(path, since=since, until=until, config_version="v1", by="plan")
    assert {key[1] for key in expected if key[0] == "arm"} >= {"free", "pro", "(missing)"}
    assert_close(keyed(found), expected)


def test_clickhouse_csv_output_reads_as_an_aggregate_table(
    kit: Any, write_events: Any, tmp_path: Path
) -> None:
    path = write_events(stream(kit, seed=3, units=40))
    saved = tmp_path / "aggregates.csv"
    saved.write_text(clickhouse_query(path, "CSVWithNames", by="plan"))
    assert "\\N" in saved.read_text()  # ClickHouse's NULL in CSV
    table = read_aggregates(saved)
    assert_close({row.key: row.value for row in table.rows}, duckdb_table(path, by="plan"))


def test_the_sql_files_ship_in_the_package() -> None:
    folder = resources.files("modelflags.analysis") / "sql"
    names = {entry.name for entry in folder.iterdir()}
    assert {"clickhouse.sql", "bigquery.sql", "duckdb_events.sql", "duckdb_aggregate.sql"} <= names


def _steps(text: str) -> list[str]:
    """The names of a query's CTEs, in order."""
    return re.findall(r"^(\w+) AS \($", text, flags=re.MULTILINE)


def _stats(text: str) -> set[str]:
    """The quoted names (sections, metrics, stats) the query writes: those of its population
    step and of its final SELECT."""
    population = text.split("\npopulation AS (", 1)[1].split("\n),", 1)[0]
    final = text.rsplit("\n)\nSELECT", 1)[1]
    return set(re.findall(r"'([a-z_:]+)'", population + final))


def test_bigquery_sql_follows_the_clickhouse_steps_in_order() -> None:
    clickhouse, bigquery = sql_text("clickhouse.sql"), sql_text("bigquery.sql")
    assert _steps(bigquery) == _steps(clickhouse)
    assert len(_steps(clickhouse)) == 10


def test_bigquery_sql_writes_the_same_sections_and_stats() -> None:
    clickhouse, bigquery = sql_text("clickhouse.sql"), sql_text("bigquery.sql")
    assert _stats(bigquery) == _stats(clickhouse)
    assert {"reason:", "variation_mismatch", "last_outcome", "cross", "nonbinary"} <= _stats(
        clickhouse
    )


def test_bigquery_sql_documents_the_same_columns_and_parameters() -> None:
    def documented(text: str, pattern: str) -> list[str]:
        return re.findall(pattern, text, flags=re.MULTILINE)

    column = r"^--     (\w+)\s{2,}"
    clickhouse, bigquery = sql_text("clickhouse.sql"), sql_text("bigquery.sql")
    assert documented(bigquery, column) == documented(clickhouse, column)
    params_ch = documented(clickhouse, r"^--     \{(\w+):")
    params_bq = documented(bigquery, r"^--     @(\w+)")
    assert params_bq == params_ch == ["flag_key", "arms", "since", "until", "config_version", "by"]
