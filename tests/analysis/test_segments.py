"""Segment readouts (``--by``): ranking, the exact ``(other)`` merge, Holm-adjusted p-values."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from modelflags.analysis.report import build_report
from modelflags.analysis.segments import OTHER
from modelflags.analysis.table_view import Row, TableView
from modelflags.schema.models import Flag

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "report" / "holm_reference.json"
METRIC = "resolvedWithoutEscalation"
NOW = 1_795_982_400.0


def reference() -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = json.loads(REFERENCE.read_text(encoding="utf-8"))["segments"]
    return segments


def arm_rows(segment: str, arm: str, units: float, converted: float) -> Iterator[Row]:
    """An arm of one segment: units, and a binary metric that ``converted`` of them hit."""
    yield ("arm", segment, arm, None, "units", units)
    yield ("arm", segment, arm, None, "exposures", units)
    yield ("metric", segment, arm, METRIC, "sum", converted)
    yield ("metric", segment, arm, METRIC, "sum_sq", converted)
    yield ("metric", segment, arm, METRIC, "units", units)
    yield ("metric", segment, arm, METRIC, "nonbinary", 0.0)


def segmented(counts: Mapping[str, tuple[list[int], list[int]]]) -> TableView:
    """A ``--by`` table from {value: ([control units, conv.], [candidate units, conv.])}."""
    rows = [
        row
        for value, (control, candidate) in counts.items()
        for arm, (n, x) in (("control", control), ("candidate", candidate))
        for row in arm_rows(value, arm, float(n), float(x))
    ]
    return TableView.from_rows(rows)


def reference_counts() -> dict[str, tuple[list[int], list[int]]]:
    return {row["value"]: (row["control"], row["candidate"]) for row in reference()}


def flag(primary: str | None = METRIC) -> Flag:
    return Flag.model_validate(
        {
            "default": "control",
            "variations": {"control": 1, "candidate": 2},
            "split": {"control": 75, "candidate": 25},
            "experiment": {"key": "e", "control": "control", "primary_metric": primary},
        }
    )


def readouts(view: TableView, *, top: int = 5, primary: str | None = METRIC) -> list[Any]:
    report = build_report(
        view, "f", flag(primary), method="fixed-horizon", now=NOW, by="plan", top_segments=top
    )
    segments: list[Any] = report["segments"]
    return segments


def test_p_values_and_holm_adjustment_match_statsmodels() -> None:
    expected = reference()
    found = readouts(segmented(reference_counts()), top=len(expected))
    assert [s["value"] for s in found] == [row["value"] for row in expected]
    for segment, row in zip(found, expected, strict=True):
        (comparison,) = segment["comparisons"]
        assert comparison["pValue"] == pytest.approx(row["pValue"], rel=1e-9)
        assert comparison["pValueHolm"] == pytest.approx(row["pValueHolm"], rel=1e-9)


def test_segments_are_ranked_by_units_with_the_rest_merged_into_other() -> None:
    found = readouts(segmented(reference_counts()), top=3)
    assert [s["value"] for s in found] == ["enterprise", "pro", "team", OTHER]
    assert all(s["attribute"] == "plan" for s in found)


def test_equal_segments_are_ranked_by_name() -> None:
    counts = {name: ([100, 50], [100, 60]) for name in ("b", "c", "a")}
    assert [s["value"] for s in readouts(segmented(counts))] == ["a", "b", "c"]


def test_the_other_segment_is_the_exact_merge_of_the_rest() -> None:
    counts = reference_counts()
    merged = readouts(segmented(counts), top=3)[-1]
    rest = [value for value in counts if value not in ("enterprise", "pro", "team")]
    control = [sum(counts[value][0][j] for value in rest) for j in (0, 1)]
    candidate = [sum(counts[value][1][j] for value in rest) for j in (0, 1)]
    relabelled = {k: v for k, v in counts.items() if k not in rest}
    relabelled["rest"] = (control, candidate)
    by_hand = next(s for s in readouts(segmented(relabelled), top=10) if s["value"] == "rest")
    assert merged["arms"] == by_hand["arms"]
    assert merged["comparisons"] == by_hand["comparisons"]


def test_holm_adjusts_across_the_shown_segments_only() -> None:
    found = readouts(segmented(reference_counts()), top=2)
    raw = [s["comparisons"][0]["pValue"] for s in found]
    adjusted = [s["comparisons"][0]["pValueHolm"] for s in found]
    smallest = min(range(3), key=lambda i: raw[i])
    assert adjusted[smallest] == pytest.approx(min(1.0, 3 * raw[smallest]), rel=1e-12)
    assert all(a >= p for a, p in zip(adjusted, raw, strict=True))


def test_segment_arm_units_add_up_to_the_whole_experiments() -> None:
    view = segmented(reference_counts())
    report = build_report(view, "f", flag(), now=NOW, by="plan", top_segments=3)
    for i, arm in enumerate(report["arms"]):
        assert sum(s["arms"][i]["units"] for s in report["segments"]) == arm["units"]


def test_a_segment_shows_only_the_primary_comparison_per_arm() -> None:
    (segment, *_) = readouts(segmented(reference_counts()))
    assert [(c["variation"], c["metric"], c["primary"]) for c in segment["comparisons"]] == [
        ("candidate", METRIC, True)
    ]


def test_without_a_primary_metric_segments_have_arms_but_no_comparisons() -> None:
    found = readouts(segmented(reference_counts()), primary=None)
    assert found and all(s["comparisons"] == [] and len(s["arms"]) == 2 for s in found)


def test_without_by_there_are_no_segments() -> None:
    report = build_report(segmented(reference_counts()), "f", flag(), now=NOW)
    assert report["segments"] == []


def test_a_missing_attribute_is_a_segment_of_its_own() -> None:
    found = readouts(segmented(reference_counts()), top=10)
    assert "(missing)" in [s["value"] for s in found]
