"""The DuckDB aggregation of event files (``aggregate_events``), row kind by row kind.

Small event files are written by hand into ``tmp_path`` and their aggregate table is checked
against values computed by hand, and against a pure-Python aggregation written from the
contract (``docs/aggregates.md``) alone, including on random event streams (hypothesis).
"""

from __future__ import annotations

import gzip
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelflags.analysis import event_aggregation
from modelflags.analysis.aggregates import Aggregates
from modelflags.analysis.event_aggregation import aggregate_events
from modelflags.errors import ModelFlagsError

FLAG = "support_answer_model_route"
ARMS = ("control", "candidate")
T0 = 1_795_000_000.0  # as in conftest: the events' epoch
GAMMA = (1 + 0.01) / (1 - 0.01)
MISSING = "(missing)"

Key = tuple[str, "str | None", "str | None", "str | None", str]

# ---- the reference: a pure-Python aggregation of parsed events, from the contract alone ----


def _millis(text: str) -> int:
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _segment(attributes: Any, by: str) -> str:
    value = attributes.get(by) if isinstance(attributes, Mapping) else None
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def usable_events(
    events: Iterable[Mapping[str, Any]],
    flag: str,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    config_version: str | None = None,
) -> tuple[list[Mapping[str, Any]], int]:
    """The flag's events in the window with a unit, de-duplicated by eventId; and how many
    copies were dropped."""
    kept: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    dropped = 0
    for event in events:
        if event.get("flagKey") != flag:
            continue
        millis = _millis(event["timestamp"])
        exposure = event["event"] == "exposure"
        version = event.get("configVersion")
        if (since_ms is not None and millis < since_ms) or (
            until_ms is not None and millis >= until_ms
        ):
            continue
        if config_version is not None and (
            version != config_version if exposure else version not in (None, config_version)
        ):
            continue
        if event.get("unitId") is None:
            continue
        if event["eventId"] in seen:
            dropped += 1
            continue
        seen.add(event["eventId"])
        kept.append(event)
    return kept, dropped


def reference_rows(
    events: Iterable[Mapping[str, Any]],
    flag: str,
    arms: Sequence[str],
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    config_version: str | None = None,
    by: str | None = None,
) -> dict[Key, float]:
    """Every row of the aggregate table but the ``input`` section, keyed like the table."""
    kept, _ = usable_events(
        events, flag, since_ms=since_ms, until_ms=until_ms, config_version=config_version
    )
    exposures: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    outcomes: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in kept:
        (exposures if event["event"] == "exposure" else outcomes)[event["unitId"]].append(event)

    rows: dict[Key, float] = defaultdict(float)
    population = dict.fromkeys(
        ("multiple_assignments", "unknown_variation", "orphan_outcomes", "variation_mismatch"),
        0.0,
    )
    versions: dict[str, dict[str, Any]] = defaultdict(lambda: {"units": set(), "n": 0, "t": 0})
    lasts: dict[Key, float] = {}
    for unit, seen in exposures.items():
        for event in seen:
            version = versions[event.get("configVersion") or MISSING]
            version["units"].add(unit)
            version["n"] += 1
            version["t"] = max(version["t"], _millis(event["timestamp"]))
        inside = [
            e
            for e in seen
            if (
                e["inExperiment"]
                if e.get("inExperiment") is not None
                else e.get("reason") == "SPLIT"
            )
        ]
        if not inside:
            first = min((_millis(e["timestamp"]), e.get("reason") or MISSING) for e in seen)
            rows[("population", None, None, None, f"reason:{first[1]}")] += 1
            continue
        assigned = {e.get("assignedVariation") or "" for e in inside}
        if len(assigned) > 1:
            population["multiple_assignments"] += 1
            continue
        (arm,) = assigned
        if arm not in arms:
            population["unknown_variation"] += 1
            continue
        segment = None
        if by is not None:
            segment = min(
                (_millis(e["timestamp"]), _segment(e.get("attributes"), by)) for e in inside
            )[1]

        def add(section: str, metric: str | None, stat: str, value: float) -> None:
            rows[(section, segment, arm, metric, stat)] += value  # noqa: B023

        def last(stat: str, millis: int) -> None:
            key: Key = ("arm", segment, arm, None, stat)  # noqa: B023
            lasts[key] = max(lasts.get(key, 0.0), millis / 1000)

        n = len(inside)
        add("arm", None, "units", 1)
        add("arm", None, "exposures", n)
        add("arm", None, "exposures_sq", n * n)
        last("last_exposure", max(_millis(e["timestamp"]) for e in inside))
        measures = {
            "error": [1.0 if e.get("error") else 0.0 for e in inside],
            "fallback": [1.0 if e.get("fallbackUsed") else 0.0 for e in inside],
            "latency_ms": [x for e in inside if (x := _finite(e.get("latencyMs"))) is not None],
            "cost": [x for e in inside if (x := _finite(e.get("estimatedCost"))) is not None],
        }
        for metric, values in measures.items():
            s, c = sum(values), len(values)
            for stat, value in (
                ("sum", s), ("sum_sq", s * s), ("count", c), ("count_sq", c * c), ("cross", s * c)
            ):  # fmt: skip
                add("arm", metric, stat, value)
        for x in measures["latency_ms"]:
            bucket = "zero" if x <= 0 else f"b{math.ceil(math.log(x) / math.log(GAMMA))}"
            add("sketch", "latency_ms", bucket, 1)
        own = outcomes.get(unit, [])
        if own:
            add("arm", None, "units_with_outcome", 1)
            last("last_outcome", max(_millis(e["timestamp"]) for e in own))
        else:
            add("arm", None, "units_with_outcome", 0)
        population["variation_mismatch"] += sum(
            1 for e in own if e.get("variation") is not None and e["variation"] != arm
        )
        observed: dict[str, list[tuple[bool, float]]] = defaultdict(list)
        for event in own:
            metrics = event.get("metrics")
            for name, value in metrics.items() if isinstance(metrics, Mapping) else ():
                if isinstance(value, bool):
                    observed[name].append((True, float(value)))
                elif (number := _finite(value)) is not None:
                    observed[name].append((False, number))
        for name, values in observed.items():
            numbers = [x for _, x in values]
            x = max(numbers) if all(b for b, _ in values) else sum(numbers)
            add("metric", name, "sum", x)
            add("metric", name, "sum_sq", x * x)
            add("metric", name, "units", 1)
            add("metric", name, "nonbinary", sum(1 for b, _ in values if not b))
    for unit, own in outcomes.items():
        if unit not in exposures:
            population["orphan_outcomes"] += len(own)
    for stat, value in population.items():
        rows[("population", None, None, None, stat)] = value
    for name, version in versions.items():
        rows[("version", None, None, name, "units")] = len(version["units"])
        rows[("version", None, None, name, "exposures")] = version["n"]
        rows[("version", None, None, name, "last_seen")] = version["t"] / 1000
    rows.update(lasts)
    return dict(rows)


# ---- helpers ----


def table(aggregates: Aggregates) -> dict[Key, float]:
    """The table's rows but the input section, keyed like the reference's."""
    return {row.key: row.value for row in aggregates.compact().rows if row.section != "input"}


def assert_same(found: Mapping[Key, float], expected: Mapping[Key, float]) -> None:
    """Equal keys, and values equal up to floating-point summation order."""
    assert sorted(found, key=str) == sorted(expected, key=str)
    for key, value in expected.items():
        assert math.isclose(found[key], value, rel_tol=1e-9, abs_tol=1e-9), key


def bucket(latency: float) -> str:
    return f"b{math.ceil(math.log(latency) / math.log(GAMMA))}"


def aggregate(path: Path | str, **options: Any) -> Aggregates:
    return aggregate_events([path], FLAG, ARMS, **options)


@pytest.fixture
def basic(kit: Any) -> list[dict[str, Any]]:
    """Three units: u1 (control, two exposures, the second an error with a fallback, two
    outcomes), u2 (candidate, one exposure, one outcome), u3 (control, one exposure without
    latency or cost, no outcome)."""
    e, o = kit.exposure, kit.outcome
    return [
        e("u1", "control", t=0, latency_ms=100.0, cost=0.001),
        e("u1", "control", t=10, ran="fallback", fallback=True, error=True, latency_ms=300.0,
          cost=0.003),
        e("u2", "candidate", t=2, latency_ms=200.0, cost=0.002),
        e("u3", "control", t=5, latency_ms=None, cost=None),
        o("u1", "control", t=20, metrics={"resolved": True, "score": 2}),
        o("u1", "control", t=30, metrics={"resolved": False, "score": 3}),
        o("u2", "candidate", t=21, metrics={"resolved": False}),
    ]  # fmt: skip


# ---- hand-computed rows ----


def test_arm_rows_count_units_exposures_and_their_squares(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic))
    assert [
        found.arm_stat(None, "control", None, s) for s in ("units", "exposures", "exposures_sq")
    ] == [2, 3, 5]
    assert [
        found.arm_stat(None, "candidate", None, s) for s in ("units", "exposures", "exposures_sq")
    ] == [1, 1, 1]


def test_arm_rows_hold_outcome_coverage_and_last_times(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic))
    assert found.arm_stat(None, "control", None, "units_with_outcome") == 1
    assert found.arm_stat(None, "control", None, "last_exposure") == T0 + 10
    assert found.arm_stat(None, "control", None, "last_outcome") == T0 + 30
    assert found.arm_stat(None, "candidate", None, "last_outcome") == T0 + 21


def test_request_measures_are_per_unit_sums_and_counts(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic))
    stats = ("sum", "sum_sq", "count", "count_sq", "cross")
    expected = {
        "error": [1, 1, 3, 5, 2],
        "fallback": [1, 1, 3, 5, 2],
        "latency_ms": [400, 160_000, 2, 4, 800],
        "cost": [0.004, 0.004**2, 2, 4, 0.008],
    }
    for metric, values in expected.items():
        got = [found.arm_stat(None, "control", metric, stat) for stat in stats]
        assert got == pytest.approx(values, rel=1e-12), metric


def test_boolean_metric_is_the_units_maximum_numeric_metric_its_sum(
    basic: Any, write_events: Any
) -> None:
    found = aggregate(write_events(basic))
    stats = ("sum", "sum_sq", "units", "nonbinary")
    assert [found.metric_stat(None, "control", "resolved", s) for s in stats] == [1, 1, 1, 0]
    assert [found.metric_stat(None, "control", "score", s) for s in stats] == [5, 25, 1, 2]
    assert [found.metric_stat(None, "candidate", "resolved", s) for s in stats] == [0, 0, 1, 0]
    assert found.metrics() == ("resolved", "score")


def test_latency_sketch_counts_requests_in_log_buckets(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic))
    assert found.sketch(None, "control") == {bucket(100.0): 1, bucket(300.0): 1}
    assert found.sketch(None, "candidate") == {bucket(200.0): 1}


def test_latencies_at_or_below_zero_share_the_zero_bucket(kit: Any, write_events: Any) -> None:
    events = [kit.exposure("u1", t=0, latency_ms=0.0), kit.exposure("u1", t=1, latency_ms=-3)]
    assert aggregate(write_events(events)).sketch(None, "control") == {"zero": 2}


def test_version_rows_count_units_exposures_and_last_seen(kit: Any, write_events: Any) -> None:
    events = [
        kit.exposure("u1", t=0, config_version="v1"),
        kit.exposure("u1", t=5, config_version="v2"),
        kit.exposure("u2", t=3, config_version="v1", in_experiment=False, reason="DEFAULT"),
        kit.exposure("u3", t=4, config_version=None),
    ]
    assert aggregate(write_events(events)).versions() == {
        "v1": {"units": 2, "exposures": 2, "last_seen": T0 + 3},
        "v2": {"units": 1, "exposures": 1, "last_seen": T0 + 5},
        MISSING: {"units": 1, "exposures": 1, "last_seen": T0 + 4},
    }


def test_input_counts_every_line_read(basic: Any, write_events: Any) -> None:
    counts = aggregate(write_events(basic)).input_counts()
    assert counts == {
        "events": 7, "duplicates": 0, "torn_lines": 0, "malformed": 0, "other_flags": 0,
        "outside_window": 0, "no_unit": 0, "assignments": 0,
    }  # fmt: skip


# ---- what the reader drops ----


def test_duplicates_are_dropped_and_counted(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events([*basic, basic[1], basic[4], basic[1]]))
    assert found.input_counts()["duplicates"] == 3
    assert table(found) == table(aggregate(write_events(basic, "once.jsonl")))


def test_torn_last_line_is_skipped_and_counted(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic, tail='{"event":"exposure","eventId":"x9","timest'))
    assert found.input_counts()["torn_lines"] == 1
    assert found.input_counts()["malformed"] == 0
    assert found.input_counts()["events"] == 8
    assert found.malformed_lines == ()


def test_last_line_without_newline_that_parses_is_an_event(kit: Any, write_events: Any) -> None:
    last = kit.jsonl([kit.exposure("u9", "candidate", t=1)]).rstrip("\n")
    found = aggregate(write_events([kit.exposure("u1", t=0)], tail=last))
    assert found.input_counts()["torn_lines"] == 0
    assert found.arm_stat(None, "candidate", None, "units") == 1


def test_malformed_lines_are_counted_with_their_line_numbers(kit: Any, write_events: Any) -> None:
    good = kit.exposure("u1", t=0)
    no_id = {key: value for key, value in kit.exposure("u2").items() if key != "eventId"}
    bad_time = {**kit.exposure("u3"), "timestamp": "yesterday"}
    path = write_events([good, "not json", "", no_id, "[1, 2]", bad_time, good | {"eventId": "z"}])
    found = aggregate(path)
    assert found.input_counts()["malformed"] == 4
    assert found.malformed_lines == tuple(f"{path}:{line}" for line in (2, 4, 5, 6))
    assert found.arm_stat(None, "control", None, "units") == 1


def test_only_the_first_ten_malformed_lines_are_located(kit: Any, write_events: Any) -> None:
    path = write_events(["{"] * 12 + [kit.exposure("u1")])
    found = aggregate(path)
    assert found.input_counts()["malformed"] == 12
    assert found.malformed_lines == tuple(f"{path}:{line}" for line in range(1, 11))


def test_other_flags_are_counted_and_left_out(basic: Any, kit: Any, write_events: Any) -> None:
    others = [kit.exposure("u7", flag="other_flag"), kit.outcome("u1", flag=None)]
    found = aggregate(write_events([*basic, *others]))
    assert found.input_counts()["other_flags"] == 2
    assert table(found) == table(aggregate(write_events(basic, "own.jsonl")))


def test_events_without_a_unit_count_as_no_unit(kit: Any, write_events: Any) -> None:
    found = aggregate(write_events([kit.exposure(None), kit.outcome(None), kit.exposure("u1")]))
    assert found.input_counts()["no_unit"] == 2
    assert found.population()["orphan_outcomes"] == 0


def test_a_path_that_does_not_exist_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFlagsError) as raised:
        aggregate(tmp_path / "nowhere.jsonl")
    assert str(raised.value) == f"{tmp_path / 'nowhere.jsonl'}: no such file or directory"


def test_an_unreadable_gzip_file_is_a_one_line_error(tmp_path: Path, kit: Any) -> None:
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(kit.jsonl([kit.exposure("u1")] * 50).encode())[:60])
    with pytest.raises(ModelFlagsError) as raised:
        aggregate(path)
    assert "\n" not in str(raised.value) and "cut.jsonl.gz" in str(raised.value)


# ---- who is in the arms ----


def test_units_never_randomised_count_under_their_earliest_reason(
    kit: Any, write_events: Any
) -> None:
    e = kit.exposure
    events = [
        e("u1", "fallback", t=5, in_experiment=False, reason="TARGETING_MATCH"),
        e("u1", "fallback", t=1, in_experiment=False, reason="DISABLED"),
        e("u2", "control", t=0, in_experiment=False, reason="DEFAULT"),
        e("u3", "control", t=0, in_experiment=False, reason=None),
    ]
    assert aggregate(write_events(events)).population() == {
        "reason:DISABLED": 1, "reason:DEFAULT": 1, f"reason:{MISSING}": 1,
        "multiple_assignments": 0, "unknown_variation": 0, "orphan_outcomes": 0,
        "variation_mismatch": 0,
    }  # fmt: skip


def test_only_in_experiment_exposures_enter_a_units_statistics(kit: Any, write_events: Any) -> None:
    e = kit.exposure
    events = [e("u1", t=0, latency_ms=10.0), e("u1", "fallback", t=1, in_experiment=False)]
    found = aggregate(write_events(events))
    assert found.arm_stat(None, "control", None, "exposures") == 1
    assert found.arm_stat(None, "control", "latency_ms", "sum") == 10.0


def test_legacy_exposures_without_in_experiment_are_in_it_when_split(
    kit: Any, write_events: Any
) -> None:
    e, absent = kit.exposure, kit.ABSENT
    events = [
        e("u1", "candidate", in_experiment=absent, reason="SPLIT", rule=absent),
        e("u2", "control", in_experiment=absent, reason="TARGETING_MATCH", rule=absent),
        e("u3", "control", in_experiment=None, reason="SPLIT"),
    ]
    found = aggregate(write_events(events))
    assert found.arm_stat(None, "candidate", None, "units") == 1
    assert found.arm_stat(None, "control", None, "units") == 1
    assert found.population()["reason:TARGETING_MATCH"] == 1


def test_units_assigned_several_variations_are_left_out(kit: Any, write_events: Any) -> None:
    e = kit.exposure
    events = [e("u1", "control", t=0), e("u1", "candidate", t=1), e("u2", "candidate")]
    found = aggregate(write_events(events))
    assert found.population()["multiple_assignments"] == 1
    assert found.arm_stat(None, "control", None, "units") == 0
    assert found.arm_stat(None, "candidate", None, "units") == 1


def test_units_of_a_variation_outside_the_split_are_left_out(kit: Any, write_events: Any) -> None:
    events = [kit.exposure("u1", "fallback"), kit.exposure("u2", None), kit.exposure("u3")]
    found = aggregate(write_events(events))
    assert found.population()["unknown_variation"] == 2
    assert found.variations() == ("control",)


def test_outcomes_of_units_without_exposures_are_orphans(
    basic: Any, kit: Any, write_events: Any
) -> None:
    events = [*basic, kit.outcome("u8", t=3), kit.outcome("u8", t=4), kit.outcome("u9")]
    found = aggregate(write_events(events))
    assert found.population()["orphan_outcomes"] == 3
    assert table(found) | {("population", None, None, None, "orphan_outcomes"): 0} == table(
        aggregate(write_events(basic, "none.jsonl"))
    )


def test_outcomes_naming_another_variation_count_but_stay_in_the_arm(
    kit: Any, write_events: Any
) -> None:
    events = [
        kit.exposure("u1", "control"),
        kit.outcome("u1", "candidate", metrics={"resolved": True}),
        kit.outcome("u1", None, metrics={"resolved": True}),
    ]
    found = aggregate(write_events(events))
    assert found.population()["variation_mismatch"] == 1
    assert found.metric_stat(None, "control", "resolved", "sum") == 1


def test_non_numbers_and_infinities_are_no_observation(kit: Any, write_events: Any) -> None:
    events = [
        kit.exposure("u1", latency_ms="slow", cost=kit.ABSENT),
        kit.outcome("u1", metrics={"resolved": "yes", "score": None, "n": 3}),
    ]
    infinite = (
        f'{{"event":"exposure","eventId":"q","timestamp":"{kit.rfc3339(T0)}",'
        f'"flagKey":"{FLAG}","unitId":"u1","assignedVariation":"control",'
        '"inExperiment":true,"latencyMs":1e999}\n'
    )
    path = write_events(events, tail=infinite)
    found = aggregate(path)
    assert found.arm_stat(None, "control", "latency_ms", "count") == 0
    assert found.arm_stat(None, "control", None, "exposures") == 2
    assert found.metrics() == ("n",)


# ---- segments, windows, versions ----


def test_by_segments_a_unit_by_its_earliest_in_experiment_exposure(
    kit: Any, write_events: Any
) -> None:
    e = kit.exposure
    events = [
        e("u1", t=5, attributes={"plan": "free"}),
        e("u1", t=1, attributes={"plan": "pro"}),
        e("u1", t=0, in_experiment=False, reason="DEFAULT", attributes={"plan": "enterprise"}),
        e("u2", "candidate", attributes={"plan": "free"}),
        e("u3", attributes={}),
        e("u4", attributes={"plan": 3}),
    ]
    found = aggregate(write_events(events), by="plan")
    assert found.segments() == ("(missing)", "3", "free", "pro")
    assert found.arm_stat("pro", "control", None, "units") == 1
    assert found.arm_stat("pro", "control", None, "exposures") == 2
    assert found.arm_stat("free", "candidate", None, "units") == 1
    assert found.arm_stat(MISSING, "control", None, "units") == 1
    assert found.arm_stat(None, "control", None, "units") == 3


def test_without_by_rows_have_no_segment(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic))
    assert {row.segment for row in found.rows} == {None}


def test_window_keeps_since_inclusive_and_until_exclusive(kit: Any, write_events: Any) -> None:
    events = [kit.exposure(f"u{t}", t=t) for t in range(5)] + [kit.outcome("u2", t=4)]
    found = aggregate(write_events(events), since=T0 + 1, until=T0 + 3)
    assert found.arm_stat(None, "control", None, "units") == 2
    assert found.input_counts()["outside_window"] == 4
    assert found.arm_stat(None, "control", None, "units_with_outcome") == 0


def test_config_version_keeps_its_exposures_and_outcomes_without_one(
    kit: Any, write_events: Any
) -> None:
    events = [
        kit.exposure("u1", config_version="v1"),
        kit.exposure("u2", config_version="v2"),
        kit.outcome("u1", config_version=None, metrics={"m": 1}),
        kit.outcome("u1", config_version="v2", metrics={"m": 1}),
        kit.outcome("u1", config_version="v1", metrics={"m": 1}),
    ]
    found = aggregate(write_events(events), config_version="v1")
    assert found.input_counts()["outside_window"] == 2
    assert found.metric_stat(None, "control", "m", "sum") == 2
    assert found.versions().keys() == {"v1"}


# ---- inputs ----


def test_gzip_files_are_read_like_plain_ones(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic, "events.jsonl.gz"))
    assert table(found) == table(aggregate(write_events(basic)))


def test_torn_last_line_of_a_gzip_file_is_skipped(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic, "events.jsonl.gz", tail='{"event":"expo'))
    assert found.input_counts()["torn_lines"] == 1


def test_parquet_files_are_read_like_json_lines(basic: Any, write_events: Any) -> None:
    found = aggregate(write_events(basic, "events.parquet"), by="plan")
    assert_same(table(found), table(aggregate(write_events(basic), by="plan")))


def test_parquet_attributes_and_metrics_read_like_json_lines(kit: Any, write_events: Any) -> None:
    e, o = kit.exposure, kit.outcome
    events = [
        e("u1", attributes={"plan": "pro"}), e("u2", "candidate", attributes={"plan": "free"}),
        e("u3", attributes={}), o("u1", metrics={"resolved": True, "score": 2.5}),
        o("u2", "candidate", metrics={"resolved": False, "score": 1.0}),
    ]  # fmt: skip
    found = aggregate(write_events(events, "events.parquet"), by="plan")
    assert found.segments() == ("(missing)", "free", "pro")
    assert_same(table(found), table(aggregate(write_events(events), by="plan")))


def test_parquet_metrics_as_json_text_read_like_json_lines(
    kit: Any, write_events: Any, tmp_path: Path
) -> None:
    import duckdb

    events = [
        kit.exposure("u1"), kit.exposure("u2", "candidate"),
        kit.outcome("u1", metrics={"resolved": True, "score": 2.5}),
        kit.outcome("u2", "candidate", metrics={"resolved": False, "score": 1}),
    ]  # fmt: skip
    source = write_events(events)
    path = tmp_path / "text-metrics.parquet"
    with duckdb.connect() as con:
        # a writer that stores metrics as JSON text, spaced as json.dumps spaces it
        con.execute(
            f"COPY (SELECT * REPLACE (' ' || replace(CAST(to_json(metrics) AS VARCHAR), ',', ', ') "
            f"AS metrics) FROM read_json('{source}', format = 'newline_delimited')) "
            f"TO '{path}' (FORMAT parquet)"
        )
        kind = con.execute(f"SELECT typeof(metrics) FROM '{path}' LIMIT 1").fetchone()
    assert kind == ("VARCHAR",)
    found = aggregate(path)
    assert found.metrics() == ("resolved", "score")
    assert_same(table(found), table(aggregate(source)))


def test_metrics_that_are_not_an_object_are_no_observation(kit: Any, write_events: Any) -> None:
    events = [
        kit.exposure("u1"),
        kit.outcome("u1", metrics=[{"resolved": True}]),
        kit.outcome("u1", metrics="resolved"),
        kit.outcome("u1", metrics=3),
        kit.outcome("u1", metrics={"score": 2}),
    ]
    found = aggregate(write_events(events))
    assert found.metrics() == ("score",)
    assert found.metric_stat(None, "control", "score", "sum") == 2


def test_json_arrays_are_read(basic: Any, kit: Any, tmp_path: Path) -> None:
    import json

    path = tmp_path / "batch.json"
    path.write_text(json.dumps(basic, indent=2))
    assert table(aggregate(path)) == table(aggregate(kit.write_jsonl(tmp_path / "b.jsonl", basic)))


def test_directories_are_read_recursively_without_hidden_entries(
    basic: Any, kit: Any, write_events: Any, tmp_path: Path
) -> None:
    root = tmp_path / "events"
    kit.write_jsonl(root / "a.jsonl", basic[:3])
    kit.write_jsonl(root / "2026" / "11" / "b.jsonl.gz", basic[3:])
    kit.write_jsonl(root / ".spool" / "c.jsonl", [kit.exposure("hidden", "candidate")])
    kit.write_jsonl(root / ".d.jsonl", [kit.exposure("hidden2", "candidate")])
    (root / "notes.txt").write_text("not events")
    found = aggregate_events([root], FLAG, ARMS)
    assert table(found) == table(aggregate(write_events(basic)))


def test_a_directory_without_event_files_gives_an_empty_table(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no events yet")
    found = aggregate_events([tmp_path], FLAG, ARMS)
    assert found.input_counts()["events"] == 0
    assert found.variations() == ()
    assert found.population()["orphan_outcomes"] == 0


def test_events_split_across_files_aggregate_as_one(basic: Any, kit: Any, tmp_path: Path) -> None:
    first = kit.write_jsonl(tmp_path / "1.jsonl", basic[::2])
    second = kit.write_jsonl(tmp_path / "2.jsonl", basic[1::2])
    whole = kit.write_jsonl(tmp_path / "all.jsonl", basic)
    assert table(aggregate_events([first, second], FLAG, ARMS)) == table(aggregate(whole))


def test_progress_is_reported_for_large_inputs(
    basic: Any, write_events: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    aggregate(write_events(basic), progress=said.append)
    assert said == []
    monkeypatch.setattr(event_aggregation, "PROGRESS_BYTES", 1)
    aggregate(write_events(basic), progress=said.append)
    assert said[0].startswith("reading 1 event file") and said[-1].startswith("aggregated in")


# ---- against the reference, on random event streams ----

UNITS = ("u0", "u1", "u2", "u3", "u4")
VARIATIONS = ("control", "candidate", "fallback", None)

exposures = st.fixed_dictionaries({
    "kind": st.just("exposure"),
    "unit": st.sampled_from(UNITS),
    "assigned": st.sampled_from(VARIATIONS),
    "t": st.integers(0, 40),
    "in_experiment": st.sampled_from([True, True, True, False, None, "absent"]),
    "reason": st.sampled_from(["SPLIT", "SPLIT", "TARGETING_MATCH", None]),
    "version": st.sampled_from(["v1", "v2", None]),
    "latency": st.one_of(st.none(), st.floats(0.5, 5000), st.just(0.0)),
    "cost": st.one_of(st.none(), st.floats(0, 0.1)),
    "error": st.booleans(),
    "fallback": st.booleans(),
    "plan": st.sampled_from(["free", "pro", None]),
    "flag": st.sampled_from([FLAG, FLAG, FLAG, "other"]),
})  # fmt: skip
outcomes = st.fixed_dictionaries({
    "kind": st.just("outcome"),
    "unit": st.sampled_from((*UNITS, "orphan")),
    "variation": st.sampled_from(VARIATIONS),
    "t": st.integers(0, 40),
    "version": st.sampled_from(["v1", "v2", None]),
    "metrics": st.dictionaries(
        st.sampled_from(["resolved", "score"]),
        st.one_of(st.booleans(), st.integers(-3, 9), st.floats(-2, 2)),
        max_size=2,
    ),
})  # fmt: skip


def _events(kit: Any, specs: list[dict[str, Any]], repeats: list[int]) -> list[dict[str, Any]]:
    events = []
    for spec in specs:
        if spec["kind"] == "exposure":
            inside = spec["in_experiment"]
            events.append(kit.exposure(
                spec["unit"], spec["assigned"], t=spec["t"] + 0.001 * len(events),
                flag=spec["flag"], reason=spec["reason"], config_version=spec["version"],
                in_experiment=inside if inside != "absent" else kit.ABSENT,
                latency_ms=spec["latency"], cost=spec["cost"], error=spec["error"],
                fallback=spec["fallback"],
                attributes={} if spec["plan"] is None else {"plan": spec["plan"]},
            ))  # fmt: skip
        else:
            events.append(kit.outcome(
                spec["unit"], spec["variation"], t=spec["t"], config_version=spec["version"],
                metrics=spec["metrics"],
            ))  # fmt: skip
    return events + [events[i % len(events)] for i in repeats] if events else events


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=st.lists(st.one_of(exposures, outcomes), max_size=30),
    repeats=st.lists(st.integers(0, 100), max_size=4),
    options=st.tuples(
        st.sampled_from([None, "plan"]),
        st.sampled_from([(None, None), (5, 30)]),
        st.sampled_from([None, "v1"]),
    ),
)
def test_random_event_streams_aggregate_as_the_reference_does(
    kit: Any,
    specs: list[dict[str, Any]],
    repeats: list[int],
    options: tuple[str | None, tuple[int | None, int | None], str | None],
) -> None:
    import tempfile

    by, window, version = options
    events = _events(kit, specs, repeats)
    since, until = (None if w is None else T0 + w for w in window)
    with tempfile.TemporaryDirectory() as folder:
        path = kit.write_jsonl(Path(folder) / "events.jsonl", events)
        found = aggregate_events(
            [path], FLAG, ARMS, since=since, until=until, config_version=version, by=by
        )
    millis = [None if w is None else int((T0 + w) * 1000) for w in window]
    expected = reference_rows(
        events, FLAG, ARMS, since_ms=millis[0], until_ms=millis[1], config_version=version,
        by=by,
    )  # fmt: skip
    assert_same(table(found), expected)
    _, dropped = usable_events(events, FLAG, since_ms=millis[0], until_ms=millis[1],
                               config_version=version)  # fmt: skip
    assert found.input_counts()["duplicates"] == dropped
    assert found.input_counts()["events"] == len(events)
