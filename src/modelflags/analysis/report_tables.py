"""The report's tables: one :class:`~modelflags.analysis.report_cells.Table` per part.

Each part of the report (the arms, the comparisons, the guardrails, the sample ratio, the sample
size, the population, the health of the telemetry, the config versions and the input) becomes
one table here, every number already formatted for people by
:mod:`~modelflags.analysis.number_format`. The tables say what to show, not how: the terminal,
Markdown and HTML renderings lay out the same cells, so they can never disagree about a figure.

Every value is read defensively (:mod:`~modelflags.analysis.report_fields`): a missing key, a
null, a NaN or a value of the wrong type renders as ``—`` instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from modelflags.analysis.number_format import (
    NULL,
    column_decimals,
    count,
    estimate,
    metric_value,
    minutes,
    number,
    p_clause,
    p_value,
    percent,
    ratio,
    ratio_interval,
    share,
    stamp,
    text,
)
from modelflags.analysis.report_cells import Cell, Table, Tone
from modelflags.analysis.report_fields import (
    arm_name,
    as_list,
    as_mapping,
    field,
    mappings,
    metric_kind,
    primary_metric,
)

__all__ = [
    "arm_table",
    "comparison_table",
    "guardrail_table",
    "health_table",
    "input_table",
    "population_table",
    "sample_table",
    "srm_table",
    "version_table",
]

_STATUS: dict[str, tuple[str, Tone]] = {
    "holds": ("✓ holds", "good"),
    "breached": ("✗ breached", "bad"),
    "inconclusive": ("? inconclusive", "warn"),
}
_BUILT_IN = {
    "latency_ms": "latency (mean)",
    "cost": "cost per request",
    "error": "error rate",
    "fallback": "fallback rate",
}
_MAX_LINES_SHOWN = 10


def arm_table(
    report: Mapping[str, Any], arms: list[Mapping[str, Any]], key: str, title: str
) -> Table:
    """The arms side by side: split, units, the primary metric and the built-in measures."""
    primary = primary_metric(report)
    kind = metric_kind(report, primary)
    weights = [number(arm.get("weight")) for arm in arms]
    total = sum(w for w in weights if w is not None)
    costs = [number(as_mapping(arm.get("cost")).get("mean")) for arm in arms]
    cost_decimals = column_decimals(costs)
    body = []
    for arm, weight, cost in zip(arms, weights, costs, strict=True):
        stats = as_mapping(field(arm.get("metrics"), primary))
        latency = as_mapping(arm.get("latencyMs"))
        mean, ci = estimate(kind, stats.get("mean"), stats.get("ci95"))
        body.append((
            Cell(arm_name(report, arm)),
            Cell(share(weight / total if weight is not None and total > 0 else None)),
            Cell(count(arm.get("units"))),
            Cell(count(arm.get("exposures"))),
            Cell(mean if ci == NULL else f"{mean} {ci}"),
            Cell(percent(arm.get("errorRate"))),
            Cell(percent(arm.get("fallbackRate"))),
            Cell(metric_value("ms", latency.get("p50"))),
            Cell(metric_value("ms", latency.get("p95"))),
            Cell(metric_value("cost", cost, decimals=cost_decimals)),
        ))  # fmt: skip
    columns = ("variation", "split", "units", "exposures", text(primary),
               "error", "fallback", "p50", "p95", "cost/request")  # fmt: skip
    right = frozenset(range(1, len(columns)))
    return Table(key, title, columns, tuple(body), right, empty="no arms")


def comparison_table(
    report: Mapping[str, Any], comparisons: list[Mapping[str, Any]], key: str
) -> Table:
    """Each comparison against the control, the primary metric first (Holm's p-values when
    the report has them)."""
    holm = any("pValueHolm" in c for c in comparisons)
    ordered = sorted(comparisons, key=lambda c: c.get("primary") is not True)
    body = []
    for c in ordered:
        metric = c.get("metric")
        kind = metric_kind(report, metric)
        name = _BUILT_IN.get(metric, text(metric)) if isinstance(metric, str) else NULL
        name += " (primary)" if c.get("primary") is True else ""
        lift = percent(c.get("relativeLift"), signed=True)
        row = [
            Cell(name),
            Cell(text(c.get("variation"))),
            *(Cell(t) for t in estimate(kind, c.get("diff"), c.get("ci95"), signed=True)),
            Cell(lift),
            Cell(p_value(c.get("pValue"))),
        ]
        if holm:
            row.append(Cell(p_value(c.get("pValueHolm"))))
        body.append((*row, Cell(text(c.get("test")))))
    columns = ["metric", "variation", "diff", "95% CI", "lift", "p"]
    columns += ["p (Holm)"] if holm else []
    right = frozenset(range(2, len(columns)))
    title = f"Against {text(report.get('control'))}"
    return Table(key, title, (*columns, "test"), tuple(body), right, empty="no comparisons")


def guardrail_table(report: Mapping[str, Any]) -> Table:
    """Each guardrail of each arm: the bound, the observed value, its interval and status."""
    body = []
    for g in mappings(report.get("guardrails")):
        metric, bound = g.get("metric"), g.get("bound")
        kind = metric_kind(report, metric)
        if bound == "max_ratio":
            limit = f"≤ {ratio(g.get('threshold'))} control"
            observed, ci = ratio(g.get("observed")), ratio_interval(g.get("ci95"))
        elif bound == "max_silence_minutes":
            limit = f"≤ {minutes(g.get('threshold'))} silent"
            observed, ci = minutes(g.get("observed")), NULL
        else:
            limit = f"≤ {metric_value(kind, g.get('threshold'))}"
            observed, ci = estimate(kind, g.get("observed"), g.get("ci95"))
        unknown: tuple[str, Tone] = (text(g.get("status")), "warn")
        status, tone = _STATUS.get(str(g.get("status")), unknown)
        what = _guardrail_name(metric, g.get("stat"))
        body.append((
            Cell(text(g.get("variation"))), Cell(what), Cell(limit), Cell(observed), Cell(ci),
            Cell(status, tone),
        ))  # fmt: skip
    columns = ("variation", "guardrail", "bound", "observed", "95% CI", "status")
    return Table("guardrails", "Guardrails", columns, tuple(body), frozenset({3, 4}),
                 empty="no guardrails declared")  # fmt: skip


def _guardrail_name(metric: Any, stat: Any) -> str:
    if metric == "latency_ms":
        return f"{text(stat)} latency"
    if metric == "telemetry":
        return "telemetry silence"
    if isinstance(metric, str) and metric in _BUILT_IN and stat in ("mean", "rate", None):
        return _BUILT_IN[metric].replace(" (mean)", "")
    return " ".join(text(v) for v in (metric, stat) if v is not None)


def srm_table(report: Mapping[str, Any]) -> Table:
    """Units per arm against the split, with the sample-ratio check's verdict."""
    srm = as_mapping(report.get("srm"))
    observed, expected = as_mapping(srm.get("observed")), as_mapping(srm.get("expected"))
    if srm.get("skipped"):
        note = Cell(f"not checked: {text(srm.get('skipped'))}", "muted")
    elif srm.get("mismatch") is True:
        note = Cell(f"{p_clause(srm.get('pValue'))}: SAMPLE RATIO MISMATCH, the arms did not "
                    "get the traffic the split sends them; do not trust the comparisons",
                    "bad")  # fmt: skip
    elif srm.get("mismatch") is False:
        note = Cell(f"{p_clause(srm.get('pValue'))}: the arms got the traffic the split "
                    "sends them", "good")  # fmt: skip
    else:
        note = Cell("not computable", "muted")
    totals = [sum(n for v in side.values() if (n := number(v)) is not None)
              for side in (observed, expected)]  # fmt: skip
    body = []
    for arm in dict.fromkeys([*observed, *expected]):
        o, e = number(observed.get(arm)), number(expected.get(arm))
        body.append((
            Cell(text(arm)), Cell(count(o)), Cell(count(e)),
            Cell(percent(o / totals[0] if o is not None and totals[0] else None)),
            Cell(percent(e / totals[1] if e is not None and totals[1] else None)),
        ))  # fmt: skip
    columns = ("variation", "units", "expected", "share", "expected share")
    return Table("srm", "Sample ratio", columns, tuple(body), frozenset(range(1, 5)), (note,),
                 empty="no units")  # fmt: skip


def sample_table(report: Mapping[str, Any]) -> Table:
    """Units per arm against the units needed to detect the minimum effect."""
    sample = as_mapping(report.get("sampleSize"))
    required = number(sample.get("requiredPerArm"))
    body = []
    for arm, units in as_mapping(sample.get("observedPerArm")).items():
        n = number(units)
        progress = n / required if n is not None and required else None
        tone: Tone = "good" if progress is not None and progress >= 1 else ""
        body.append((
            Cell(text(arm)), Cell(count(n)), Cell(count(required)),
            Cell(NULL if progress is None else f"{progress * 100:.0f}%", tone,
                 bar=None if progress is None else min(progress, 1.0)),
        ))  # fmt: skip
    note = (
        Cell(f"{count(required)} units per arm to detect the minimum effect")
        if required is not None
        else Cell("the units needed per arm are not computable yet", "muted")
    )
    columns = ("variation", "units", "required", "progress")
    return Table("sample", "Sample size", columns, tuple(body), frozenset({1, 2, 3}), (note,),
                 empty="no units yet")  # fmt: skip


def population_table(report: Mapping[str, Any]) -> Table:
    """Who was randomised, who was not and why, and the events left out."""
    population = as_mapping(report.get("population"))
    body = [(Cell("randomised"), Cell(count(population.get("randomized"))))]
    for reason, n in as_mapping(population.get("byReason")).items():
        body.append((Cell(f"not randomised: {text(reason)}"), Cell(count(n))))
    for key, label in (
        ("multipleAssignments", "more than one arm (left out)"),
        ("unknownVariation", "unknown arm (left out)"),
        ("orphanOutcomes", "outcomes without an exposure"),
        ("variationMismatch", "outcomes naming another arm"),
    ):
        n = number(population.get(key))
        body.append((Cell(label), Cell(count(n), "warn" if n else "")))
    columns = ("", "count")
    return Table("population", "Population", columns, tuple(body), frozenset({1}))


def health_table(report: Mapping[str, Any], now: datetime | None) -> Table:
    """Per arm: its last exposure, its last outcome and the share of units with an outcome."""
    arms = as_mapping(as_mapping(report.get("health")).get("arms"))
    body = [
        (
            Cell(text(arm)),
            Cell(stamp(as_mapping(h).get("lastExposure"), now)),
            Cell(stamp(as_mapping(h).get("lastOutcome"), now)),
            Cell(percent(as_mapping(h).get("outcomeCoverage"))),
        )
        for arm, h in arms.items()
    ]
    columns = ("variation", "last exposure", "last outcome", "units with an outcome")
    return Table("health", "Health", columns, tuple(body), frozenset({3}), empty="no arms")


def version_table(report: Mapping[str, Any], now: datetime | None) -> Table:
    """The config versions that served the exposures: units, exposures, when last seen."""
    body = [
        (
            Cell(text(v.get("configVersion"))),
            Cell(count(v.get("units"))),
            Cell(count(v.get("exposures"))),
            Cell(stamp(v.get("lastSeen"), now)),
        )
        for v in mappings(report.get("configVersions"))
    ]
    columns = ("config version", "units", "exposures", "last seen")
    return Table("versions", "Config versions", columns, tuple(body), frozenset({1, 2}),
                 empty="no exposures")  # fmt: skip


def input_table(report: Mapping[str, Any]) -> Table:
    """What was read: events, duplicates and every kind of line left out."""
    data = as_mapping(report.get("input"))
    body = []
    for key, label, problem in (
        ("events", "events read", False),
        ("duplicates", "duplicates removed", False),
        ("tornLines", "torn last lines", True),
        ("malformed", "malformed lines", True),
        ("otherFlags", "events of other flags", False),
        ("outsideWindow", "outside the window", False),
        ("noUnit", "exposures without a unit", True),
        ("assignments", "assignment events (not analysed)", False),
    ):
        n = number(data.get(key))
        body.append((Cell(label), Cell(count(n), "warn" if problem and n else "")))
    lines = [text(line) for line in as_list(data.get("malformedLines"))]
    notes = tuple(Cell(f"malformed: {line}", "warn") for line in lines[:_MAX_LINES_SHOWN])
    if len(lines) > _MAX_LINES_SHOWN:
        notes += (Cell(f"… and {len(lines) - _MAX_LINES_SHOWN} more malformed lines", "warn"),)
    return Table("input", "Input", ("events", "count"), tuple(body), frozenset({1}),
                 details=notes)  # fmt: skip
