"""build_report end to end on aggregate tables built from simulated units."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from modelflags.analysis import intervals, sketch
from modelflags.analysis.report import build_report
from modelflags.analysis.table_view import Row, TableView
from modelflags.errors import ModelFlagsError
from modelflags.schema.models import Flag

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_795_982_400.0  # 2026-11-29T20:00:00Z
KEY = "support_answer_model_route"


@dataclass
class Unit:
    """One randomised unit: its requests and what happened afterwards."""

    latencies: list[float]
    resolved: bool | None = None
    errors: int = 0
    fallbacks: int = 0
    cost: float = 0.004
    segment: str | None = None
    seen: float = NOW - 300
    extra: dict[str, float] = field(default_factory=dict)


def unit_rows(variation: str, units: Sequence[Unit]) -> Iterator[Row]:
    """The aggregate table's arm, metric and sketch rows of these units (one set per unit:
    the table's merge rule adds them up)."""
    for unit in units:
        seg, k = unit.segment, len(unit.latencies)
        measures = {
            "latency_ms": unit.latencies,
            "cost": [unit.cost] * k,
            "error": [1.0] * unit.errors + [0.0] * (k - unit.errors),
            "fallback": [1.0] * unit.fallbacks + [0.0] * (k - unit.fallbacks),
        }
        for name, values in measures.items():
            s, c = math.fsum(values), float(len(values))
            for stat, value in (
                ("sum", s),
                ("sum_sq", s * s),
                ("count", c),
                ("count_sq", c * c),
                ("cross", s * c),
            ):
                yield ("arm", seg, variation, name, stat, value)
        for key, count in sketch.sketch_of(unit.latencies).items():
            yield ("sketch", seg, variation, "latency_ms", key, count)
        for stat, value in (
            ("units", 1.0),
            ("exposures", k),
            ("exposures_sq", k * k),
            ("last_exposure", unit.seen),
        ):
            yield ("arm", seg, variation, None, stat, float(value))
        outcomes: dict[str, float | bool] = dict(unit.extra)
        if unit.resolved is not None:
            outcomes["resolvedWithoutEscalation"] = unit.resolved
        if outcomes:
            yield ("arm", seg, variation, None, "units_with_outcome", 1.0)
            yield ("arm", seg, variation, None, "last_outcome", unit.seen + 60)
        for name, value in outcomes.items():
            x = float(value)
            yield ("metric", seg, variation, name, "sum", x)
            yield ("metric", seg, variation, name, "sum_sq", x * x)
            yield ("metric", seg, variation, name, "units", 1.0)
            yield (
                "metric",
                seg,
                variation,
                name,
                "nonbinary",
                0.0 if isinstance(value, bool) else 1.0,
            )


def simulate(
    n: int, *, resolved: float, latency: float = 800.0, seed: int = 0, segments: Sequence[str] = ()
) -> list[Unit]:
    rng = random.Random(seed)
    return [
        Unit(
            latencies=[rng.lognormvariate(0, 0.3) * latency for _ in range(rng.choice((1, 2)))],
            resolved=rng.random() < resolved,
            errors=int(rng.random() < 0.01),
            segment=rng.choice(segments) if segments else None,
        )
        for _ in range(n)
    ]


def table(arms: Mapping[str, Sequence[Unit]], *extra: Row) -> TableView:
    rows = [row for variation, units in arms.items() for row in unit_rows(variation, units)]
    return TableView.from_rows([*rows, *extra])


def route_flag(split: Mapping[str, int] | None = None, **experiment: Any) -> Flag:
    split = dict(split or {"control": 90, "candidate": 10})
    settings = {
        "key": "support-route-2026-11",
        "control": "control",
        "primary_metric": "resolvedWithoutEscalation",
        "minimum_detectable_effect": 0.02,
    }
    settings.update(experiment)
    return Flag.model_validate(
        {
            "default": "control",
            "variations": {arm: {"modelRoute": arm} for arm in split},
            "assignment": {"unit": "conversation", "key": "conversationId"},
            "split": split,
            "experiment": settings,
        }
    )


def report(view: TableView, flag: Flag | None = None, **options: Any) -> dict[str, Any]:
    options.setdefault("now", NOW)
    return build_report(view, KEY, flag or route_flag(), **options)


def strict_json(data: Any) -> Any:
    """The report through JSON with NaN/Infinity refused: it must survive unchanged."""
    return json.loads(json.dumps(data, allow_nan=False))


# -- the JSON contract -------------------------------------------------------------------

DYNAMIC = {  # maps keyed by data, written <name> in the documentation
    "arms[].metrics": "<metric>",
    "srm.observed": "<arm>",
    "srm.expected": "<arm>",
    "sampleSize.observedPerArm": "<arm>",
    "population.byReason": "<reason>",
    "health.arms": "<arm>",
}


def documented_keys() -> list[str]:
    """The key paths listed in docs/report.md's "The JSON report" table, in order."""
    text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    section = text.split("## The JSON report", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def walk(node: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a report, as the documentation writes them."""
    if isinstance(node, dict):
        for key, value in node.items():
            name = DYNAMIC.get(prefix.removeprefix("segments[]."), key)
            path = f"{prefix}.{name}" if prefix else name
            yield path
            yield from walk(value, path)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                yield from walk(item, f"{prefix}[]")


def full_report() -> dict[str, Any]:
    view = table(
        {
            "control": simulate(900, resolved=0.7, seed=1, segments=("pro", "free")),
            "candidate": simulate(100, resolved=0.7, seed=2, segments=("pro", "free")),
        },
        ("population", None, None, None, "reason:TARGETING_MATCH", 40.0),
        ("version", None, None, "3f2a9c1d", "units", 1000.0),
        ("input", None, None, None, "events", 2000.0),
    )
    flag = route_flag(
        hypothesis="b resolves as many for less",
        guardrails=[
            {"metric": "latency_ms", "stat": "p95", "max_ratio": 1.3},
            {"metric": "telemetry", "max_silence_minutes": 30},
        ],
    )
    return report(view, flag, by="plan")


def test_json_keys_are_exactly_the_documented_ones_in_order() -> None:
    data = full_report()
    documented = documented_keys()
    top_level = [key for key in documented if "." not in key and "[" not in key]
    assert list(data) == top_level
    walked = list(dict.fromkeys(walk(data)))
    outside_segments = [k for k in walked if not k.startswith("segments[].")]
    documented_outside = [k for k in documented if not k.startswith("segments[].")]
    assert outside_segments == documented_outside
    segment_keys = {k for k in walked if k.startswith("segments[].")}
    assert {k for k in segment_keys if k.count(".") == 1} == {
        k for k in documented if k.startswith("segments[].") and k.count(".") == 1
    }
    arms = {
        k.removeprefix("segments[].") for k in segment_keys if k.startswith("segments[].arms[]")
    }
    assert arms == {k for k in walked if k.startswith("arms[]")}
    compared = {
        k.removeprefix("segments[].")
        for k in segment_keys
        if k.startswith("segments[].comparisons[]")
    }
    assert compared == {k for k in walked if k.startswith("comparisons[]")} | {
        "comparisons[].pValueHolm"
    }


def test_the_report_is_strict_json() -> None:
    data = full_report()
    assert strict_json(data) == data


# -- arms, comparisons, population -------------------------------------------------------


def test_arm_figures_come_from_the_units() -> None:
    control = simulate(500, resolved=0.6, seed=1)
    data = report(table({"control": control, "candidate": simulate(80, resolved=0.7, seed=2)}))
    arm = data["arms"][0]
    requests = [x for unit in control for x in unit.latencies]
    assert (arm["variation"], arm["weight"], arm["units"]) == ("control", 90, 500)
    assert arm["exposures"] == len(requests)
    assert arm["latencyMs"]["mean"] == pytest.approx(sum(requests) / len(requests))
    assert arm["latencyMs"]["p95"] == pytest.approx(
        sorted(requests)[int(0.95 * (len(requests) - 1))], rel=0.01
    )
    assert arm["errorRate"] == pytest.approx(sum(u.errors for u in control) / len(requests))
    assert arm["cost"]["total"] == pytest.approx(0.004 * len(requests))
    resolved = sum(u.resolved or False for u in control)
    metric = arm["metrics"]["resolvedWithoutEscalation"]
    assert metric["type"] == "binary" and metric["n"] == 500
    assert metric["mean"] == pytest.approx(resolved / 500)
    assert metric["ci95"] == pytest.approx(intervals.wilson_interval(resolved, 500))


def test_units_without_the_metric_count_as_zero() -> None:
    control = simulate(200, resolved=0.5, seed=1)
    for unit in control[:100]:
        unit.resolved = None  # no outcome at all
    data = report(table({"control": control, "candidate": simulate(50, resolved=0.5, seed=2)}))
    metric = data["arms"][0]["metrics"]["resolvedWithoutEscalation"]
    assert metric["n"] == 200
    assert metric["mean"] == pytest.approx(sum(u.resolved or False for u in control) / 200)
    assert data["health"]["arms"]["control"]["outcomeCoverage"] == pytest.approx(0.5)


def test_a_numeric_metric_is_a_mean_compared_by_welch() -> None:
    control = simulate(300, resolved=0.5, seed=1)
    candidate = simulate(300, resolved=0.5, seed=2)
    for i, unit in enumerate([*control, *candidate]):
        unit.extra = {"csat": float(i % 5 + 1)}
    data = report(table({"control": control, "candidate": candidate}), method="fixed-horizon")
    assert data["arms"][0]["metrics"]["csat"]["type"] == "numeric"
    row = next(c for c in data["comparisons"] if c["metric"] == "csat")
    assert row["test"] == "Welch t" and row["primary"] is False


def test_comparisons_cover_primary_other_metrics_and_built_ins_per_arm() -> None:
    flag = route_flag({"control": 70, "b": 20, "c": 10})
    units = {
        "control": simulate(700, resolved=0.7, seed=1),
        "b": simulate(200, resolved=0.7, seed=2),
        "c": simulate(100, resolved=0.7, seed=3),
    }
    units["b"][0].extra = {"csat": 4.0}
    data = report(table(units), flag)
    assert [(c["variation"], c["metric"], c["primary"]) for c in data["comparisons"]] == [
        (arm, metric, metric == "resolvedWithoutEscalation")
        for arm in ("b", "c")
        for metric in (
            "resolvedWithoutEscalation",
            "csat",
            "latency_ms",
            "cost",
            "error",
            "fallback",
        )
    ]


def test_an_unequal_three_arm_split_weighs_the_expected_units() -> None:
    flag = route_flag({"control": 70, "b": 20, "c": 10})
    units = {
        "control": simulate(700, resolved=0.7, seed=1),
        "b": simulate(200, resolved=0.7, seed=2),
        "c": simulate(100, resolved=0.7, seed=3),
    }
    data = report(table(units), flag)
    assert [arm["variation"] for arm in data["arms"]] == ["control", "b", "c"]
    assert [arm["weight"] for arm in data["arms"]] == [70, 20, 10]
    assert data["srm"]["expected"] == pytest.approx({"control": 700.0, "b": 200.0, "c": 100.0})
    assert data["srm"]["mismatch"] is False
    assert data["population"]["randomized"] == 1000


def test_the_control_comes_first_whatever_the_split_order() -> None:
    flag = route_flag({"candidate": 10, "control": 90})
    data = report(
        table({"control": simulate(90, resolved=0.5), "candidate": simulate(10, resolved=0.5)}),
        flag,
    )
    assert [arm["variation"] for arm in data["arms"]] == ["control", "candidate"]


def test_population_health_versions_and_input_come_from_the_table() -> None:
    view = table(
        {"control": simulate(90, resolved=0.5), "candidate": simulate(10, resolved=0.5)},
        ("population", None, None, None, "reason:TARGETING_MATCH", 400.0),
        ("population", None, None, None, "reason:DEFAULT", 9000.0),
        ("population", None, None, None, "orphan_outcomes", 3.0),
        ("version", None, None, "old", "units", 20.0),
        ("version", None, None, "old", "last_seen", NOW - 7200),
        ("version", None, None, "new", "units", 80.0),
        ("version", None, None, "new", "exposures", 120.0),
        ("version", None, None, "new", "last_seen", NOW - 60),
        ("input", None, None, None, "events", 500.0),
        ("input", None, None, None, "duplicates", 2.0),
    )
    data = report(view)
    assert data["population"] == {
        "randomized": 100,
        "byReason": {"DEFAULT": 9000, "TARGETING_MATCH": 400},
        "multipleAssignments": 0,
        "unknownVariation": 0,
        "orphanOutcomes": 3,
        "variationMismatch": 0,
    }
    assert [v["configVersion"] for v in data["configVersions"]] == ["new", "old"]
    assert data["configVersions"][0] == {
        "configVersion": "new",
        "units": 80,
        "exposures": 120,
        "lastSeen": "2026-11-29T19:59:00Z",
    }
    assert data["input"]["events"] == 500 and data["input"]["duplicates"] == 2
    assert data["input"]["tornLines"] == 0 and data["input"]["malformedLines"] == []
    assert data["health"]["arms"]["control"]["lastExposure"] == "2026-11-29T19:55:00Z"


def test_a_table_without_input_rows_reports_null_counts() -> None:
    data = report(
        table({"control": simulate(20, resolved=0.5), "candidate": simulate(5, resolved=0.5)})
    )
    assert {
        key: value for key, value in data["input"].items() if key != "malformedLines"
    } == dict.fromkeys(
        (
            "events", "duplicates", "tornLines", "malformed", "otherFlags", "outsideWindow",
            "noUnit", "assignments",
        )
    )  # fmt: skip


# -- sample size -------------------------------------------------------------------------


def test_required_units_per_arm_follow_the_controls_rate_and_the_mde() -> None:
    control = simulate(2000, resolved=0.7, seed=1)
    data = report(table({"control": control, "candidate": simulate(200, resolved=0.7, seed=2)}))
    p = sum(u.resolved or False for u in control) / 2000
    z = 1.959963984540054 + 0.8416212335729143
    assert data["sampleSize"]["requiredPerArm"] == math.ceil(2 * p * (1 - p) * z**2 / 0.02**2)
    assert data["sampleSize"]["observedPerArm"] == {"control": 2000, "candidate": 200}
    assert data["sampleSize"]["reason"] is None


def test_required_units_are_null_with_a_reason_without_an_mde() -> None:
    view = table({"control": simulate(200, resolved=0.7), "candidate": simulate(20, resolved=0.7)})
    data = report(view, route_flag(minimum_detectable_effect=None))
    assert data["sampleSize"]["requiredPerArm"] is None
    assert "minimum_detectable_effect" in data["sampleSize"]["reason"]


# -- verdicts end to end -----------------------------------------------------------------


def test_a_sample_ratio_mismatch_leads_to_investigate() -> None:
    flag = route_flag({"control": 50, "candidate": 50})
    view = table(
        {
            "control": simulate(5300, resolved=0.7, seed=1),
            "candidate": simulate(4700, resolved=0.7, seed=2),
        }
    )
    data = report(view, flag)
    assert data["srm"]["mismatch"] is True and data["srm"]["pValue"] < 0.001
    assert data["decision"]["action"] == "investigate"
    assert data["decision"]["command"] is None


def test_a_breached_latency_guardrail_leads_to_rollback() -> None:
    flag = route_flag(
        {"control": 50, "candidate": 50},
        guardrails=[{"metric": "latency_ms", "stat": "p95", "max_ratio": 1.3}],
    )
    view = table(
        {
            "control": simulate(2000, resolved=0.7, latency=800, seed=1),
            "candidate": simulate(2000, resolved=0.75, latency=1400, seed=2),
        }
    )
    data = report(view, flag, flags_path="flags/support.yaml")
    assert data["guardrails"][0]["status"] == "breached"
    assert data["decision"]["action"] == "rollback"
    assert data["decision"]["command"] == f"modelflags rollback {KEY} --flags flags/support.yaml"
    assert "above the 1.3\u00d7 guardrail" in data["decision"]["reasons"][0]


def test_a_split_changed_mid_window_skips_the_sample_ratio_check_instead_of_investigating() -> None:
    # served 50/50 under one version, the flag file now says 90/10 (a ramp is an edit)
    flag = route_flag({"control": 90, "candidate": 10})
    arms = {
        "control": simulate(5000, resolved=0.7, seed=1),
        "candidate": simulate(5000, resolved=0.7, seed=2),
    }
    one_version = table(arms, ("version", None, None, "v1", "units", 10000.0))
    two_versions = table(
        arms,
        ("version", None, None, "v1", "units", 6000.0),
        ("version", None, None, "v2", "units", 4000.0),
    )
    assert report(one_version, flag)["decision"]["action"] == "investigate"
    data = report(two_versions, flag)
    assert data["srm"]["mismatch"] is False and data["srm"]["pValue"] is None
    assert "2 config versions" in data["srm"]["skipped"]
    assert data["decision"]["action"] != "investigate"


def test_multiple_assignments_above_one_percent_lead_to_investigate() -> None:
    units = {
        "control": simulate(900, resolved=0.7, seed=1),
        "candidate": simulate(100, resolved=0.7, seed=2),
    }
    over = report(table(units, ("population", None, None, None, "multiple_assignments", 11.0)))
    under = report(table(units, ("population", None, None, None, "multiple_assignments", 10.0)))
    assert over["population"]["multipleAssignments"] == 11
    assert over["decision"]["action"] == "investigate"
    assert under["decision"]["action"] != "investigate"


def non_inferiority_view() -> TableView:
    """A candidate slightly worse than the control, with an interval around 0."""
    return table(
        {
            "control": simulate(3000, resolved=0.70, seed=11),
            "candidate": simulate(3000, resolved=0.69, seed=12),
        }
    )


def lower_bound() -> float:
    data = report(non_inferiority_view(), route_flag({"control": 50, "candidate": 50}))
    lo = data["comparisons"][0]["ci95"][0]
    assert lo < 0 < data["comparisons"][0]["ci95"][1]
    return float(lo)


@pytest.mark.parametrize(
    ("margin_offset", "action"),
    [(0.0, "continue"), (1e-9, "promote"), (-1e-9, "continue")],
    ids=["at-the-margin", "just-inside", "just-outside"],
)
def test_non_inferiority_promotes_only_strictly_inside_the_margin(
    margin_offset: float, action: str
) -> None:
    margin = -lower_bound() + margin_offset
    flag = route_flag({"control": 50, "candidate": 50}, test="non_inferiority", margin=margin)
    data = report(non_inferiority_view(), flag)
    assert data["test"]["type"] == "non_inferiority" and data["test"]["margin"] == margin
    assert data["decision"]["action"] == action


def test_superiority_promotes_a_clearly_better_arm() -> None:
    flag = route_flag({"control": 50, "candidate": 50})
    view = table(
        {
            "control": simulate(3000, resolved=0.60, seed=1),
            "candidate": simulate(3000, resolved=0.70, seed=2),
        }
    )
    data = report(view, flag)
    assert data["decision"]["action"] == "promote"
    assert data["decision"]["command"] == f"modelflags promote {KEY} candidate --flags flags/"


def test_the_decision_date_is_reported_and_read() -> None:
    view = table({"control": simulate(90, resolved=0.7), "candidate": simulate(10, resolved=0.7)})
    data = report(view, route_flag(decide_by="2026-11-01"))
    assert data["test"]["decideBy"] == "2026-11-01" and data["test"]["pastDecideBy"] is True
    assert data["decision"]["reasons"][0].startswith("the decision date 2026-11-01 has passed")


# -- empty and tiny experiments ----------------------------------------------------------


def test_an_empty_experiment_says_why_nothing_can_be_concluded() -> None:
    flag = route_flag(guardrails=[{"metric": "latency_ms", "stat": "p95", "max_ratio": 1.3}])
    data = strict_json(report(TableView.from_rows([]), flag, by="plan"))
    assert data["decision"]["action"] == "continue"
    assert data["decision"]["command"] is None
    assert "no unit has been randomised yet" in data["decision"]["reasons"][0]
    assert [arm["units"] for arm in data["arms"]] == [0, 0]
    assert data["arms"][0]["latencyMs"] == {"mean": None, "p50": None, "p95": None, "p99": None}
    assert data["srm"]["skipped"] and data["srm"]["pValue"] is None
    assert data["sampleSize"]["requiredPerArm"] is None and data["sampleSize"]["reason"]
    assert data["guardrails"][0]["status"] == "inconclusive"
    assert data["segments"] == [] and data["configVersions"] == []
    primary = data["comparisons"][0]
    assert primary["diff"] is None and primary["reason"]


@pytest.mark.parametrize("units", [1, 2, 3])
def test_a_tiny_experiment_gives_a_report_without_nan(units: int) -> None:
    view = table(
        {
            "control": simulate(units, resolved=0.5, seed=1),
            "candidate": simulate(units, resolved=0.5, seed=2),
        }
    )
    flag = route_flag(
        guardrails=[
            {"metric": "latency_ms", "stat": "p99", "max_ratio": 1.3},
            {"metric": "error", "stat": "rate", "max": 0.1},
        ]
    )
    data = strict_json(report(view, flag))
    assert data["decision"]["action"] == "continue"
    assert data["decision"]["reasons"]
    assert {g["status"] for g in data["guardrails"]} == {"inconclusive"}


def test_the_flag_must_be_an_experiment() -> None:
    no_split = Flag.model_validate({"default": "a", "variations": {"a": 1, "b": 2}})
    with pytest.raises(ModelFlagsError, match="no split"):
        build_report(TableView.from_rows([]), "f", no_split, now=NOW)
    no_experiment = Flag.model_validate(
        {"default": "a", "variations": {"a": 1, "b": 2}, "split": {"a": 1, "b": 1}}
    )
    with pytest.raises(ModelFlagsError, match="no experiment"):
        build_report(TableView.from_rows([]), "f", no_experiment, now=NOW)


# -- from real event files ---------------------------------------------------------------


def experiment_events(kit: Any) -> list[Any]:
    """20 control and 10 candidate units (one of them twice, one fell back, one failed), a
    unit served by a rule, a unit in both arms, an orphan outcome, a duplicate, a bad line."""
    events: list[Any] = []
    for i in range(30):
        arm = "control" if i < 20 else "candidate"
        events.append(
            kit.exposure(
                f"u{i}",
                arm,
                t=i,
                latency_ms=100.0 + i,
                error=i == 3,
                fallback=i == 21,
                attributes={"plan": "pro" if i % 2 else "free"},
            )
        )
        events.append(
            kit.outcome(f"u{i}", arm, t=i + 0.5, metrics={"resolvedWithoutEscalation": i % 3 != 0})
        )
    events.append(kit.exposure("u25", "candidate", t=40, latency_ms=300.0))
    events.append(
        kit.exposure(
            "r1", "candidate", reason="TARGETING_MATCH", rule="internal", in_experiment=False
        )
    )
    events.append(kit.exposure("x1", "control", t=1))
    events.append(kit.exposure("x1", "candidate", t=2))
    events.append(kit.outcome("ghost", "control"))
    events.append(dict(events[0]))  # the same eventId again
    events.append("{not json")
    return events


def test_a_report_from_real_event_files(kit: Any, write_events: Any) -> None:
    from modelflags.analysis.event_aggregation import aggregate_events

    path = write_events(experiment_events(kit))
    aggregates = aggregate_events([path], KEY, ["control", "candidate"], by="plan")
    data = strict_json(build_report(aggregates, KEY, route_flag(), now=NOW, by="plan"))
    control, candidate = data["arms"]
    assert (control["units"], candidate["units"]) == (20, 10)
    assert (control["exposures"], candidate["exposures"]) == (20, 11)
    assert control["errorRate"] == pytest.approx(1 / 20)
    assert candidate["fallbackRate"] == pytest.approx(1 / 11)
    resolved = control["metrics"]["resolvedWithoutEscalation"]
    assert resolved["mean"] == pytest.approx(sum(i % 3 != 0 for i in range(20)) / 20)
    assert data["population"]["byReason"] == {"TARGETING_MATCH": 1}
    assert data["population"]["multipleAssignments"] == 1
    assert data["population"]["orphanOutcomes"] == 1
    assert data["input"]["duplicates"] == 1 and data["input"]["malformed"] == 1
    assert data["input"]["malformedLines"] == [f"{path}:{len(experiment_events(kit))}"]
    assert sorted(s["value"] for s in data["segments"]) == ["free", "pro"]
    assert data["configVersions"][0]["configVersion"] == "3f2a9c1d"


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_an_aggregate_file_gives_the_same_report_as_the_events(
    kit: Any, write_events: Any, tmp_path: Path, suffix: str
) -> None:
    from modelflags.analysis.aggregates import read_aggregates, write_aggregates
    from modelflags.analysis.event_aggregation import aggregate_events

    path = write_events(experiment_events(kit))
    aggregates = aggregate_events([path], KEY, ["control", "candidate"], by="plan")
    write_aggregates(aggregates, tmp_path / f"table{suffix}")
    again = read_aggregates(tmp_path / f"table{suffix}")
    direct = build_report(aggregates, KEY, route_flag(), now=NOW, by="plan")
    assert build_report(again, KEY, route_flag(), now=NOW, by="plan") == direct
