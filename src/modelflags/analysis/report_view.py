"""The report's content, built once for every rendering: the verdict, the facts, the tables.

:func:`report_view` turns the report dict into a :class:`ReportView`: the verdict, the facts
of the test, and one :class:`~modelflags.analysis.report_cells.Table` per part, every number
already formatted for people by :mod:`~modelflags.analysis.number_format`. The terminal,
Markdown and HTML renderings lay out this same view, so they can never disagree about a figure.

Every value is read defensively: a missing key, a null, a NaN or a value of the wrong type
renders as ``—`` instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelflags.analysis.number_format import metric_value, number, parse_time, text
from modelflags.analysis.report_cells import Table, Tone
from modelflags.analysis.report_fields import (
    as_list,
    as_mapping,
    field,
    mappings,
    metric_kind,
    primary_metric,
)
from modelflags.analysis.report_tables import (
    arm_table,
    comparison_table,
    guardrail_table,
    health_table,
    input_table,
    population_table,
    sample_table,
    srm_table,
    version_table,
)

__all__ = ["ReportView", "Verdict", "report_view"]

_ACTION_TONES: dict[str, Tone] = {
    "promote": "good",
    "rollback": "bad",
    "investigate": "warn",
    "continue": "info",
    "no_difference": "",
}
_ALPHA = "\u03b1"


@dataclass(frozen=True)
class Verdict:
    """The decision: the action in capitals, why, and the command that carries it out."""

    action: str
    tone: Tone
    reasons: tuple[str, ...]
    command: str | None


@dataclass(frozen=True)
class ReportView:
    """Everything a rendering shows, in the order it shows it."""

    title: str
    verdict: Verdict
    facts: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    segments: tuple[tuple[str, tuple[Table, ...]], ...]


def report_view(report: Mapping[str, Any]) -> ReportView:
    """The content of every rendering of ``report`` (see the module docstring)."""
    report = as_mapping(report)
    now = parse_time(report.get("generatedAt"))
    tables = [
        arm_table(report, mappings(report.get("arms")), "arms", "Arms"),
        comparison_table(report, mappings(report.get("comparisons")), "comparisons"),
        guardrail_table(report),
        srm_table(report),
        sample_table(report),
        population_table(report),
        health_table(report, now),
        version_table(report, now),
        input_table(report),
    ]
    segments = []
    for segment in mappings(report.get("segments")):
        title = f"Segment: {text(segment.get('attribute'))} = {text(segment.get('value'))}"
        segments.append((title, (
            arm_table(report, mappings(segment.get("arms")), "segment-arms", "Arms"),
            comparison_table(report, mappings(segment.get("comparisons")), "segment-comparisons"),
        )))  # fmt: skip
    title = " · ".join(text(report.get(k)) for k in ("flagKey", "experimentKey"))
    return ReportView(title, _verdict(report), _facts(report), tuple(tables), tuple(segments))


def _verdict(report: Mapping[str, Any]) -> Verdict:
    decision = as_mapping(report.get("decision"))
    action = decision.get("action")
    tone = _ACTION_TONES.get(action, "") if isinstance(action, str) else ""
    label = text(action).replace("_", " ").upper() if action is not None else "NO DECISION"
    reasons = tuple(text(r) for r in as_list(decision.get("reasons")))
    command = decision.get("command")
    return Verdict(label, tone, reasons, text(command) if command else None)


def _facts(report: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    test = as_mapping(report.get("test"))
    metric = primary_metric(report)
    kind = metric_kind(report, metric)
    kinds = {"non_inferiority": "Non-inferiority", "superiority": "Superiority"}
    test_type = test.get("type")
    parts = [f"{field(kinds, test_type) or text(test_type)} on {text(metric)}"]
    if test_type == "non_inferiority" or number(test.get("margin")) is not None:
        parts[0] += f", margin {metric_value(kind, test.get('margin'), points=True)}"
    parts.append(f"{_ALPHA} {text(number(test.get('alpha')))}")
    parts.append(f"MDE {metric_value(kind, test.get('minimumDetectableEffect'), points=True)}")
    decide = f"decide by {text(test.get('decideBy'))}"
    parts.append(decide + (" (passed)" if test.get("pastDecideBy") is True else ""))
    return (
        ("Hypothesis", text(report.get("hypothesis"))),
        ("Test", " · ".join(parts)),
        ("Unit", text(report.get("assignmentUnit"))),
        ("Control", text(report.get("control"))),
        ("Method", text(report.get("method"))),
        ("Generated", text(report.get("generatedAt"))),
    )
