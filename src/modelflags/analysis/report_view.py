"""The report's content, built once for every rendering: the verdict, the facts, the tables.

:func:`report_view` turns the report dict into a :class:`ReportView`: the verdict, the facts
of the test, and one :class:`Table` per part, every number already formatted for people by
:mod:`~modelflags.analysis.number_format`. The terminal, Markdown and HTML renderings lay out
this same view, so they can never disagree about a figure.

Every value is read defensively: a missing key, a null, a NaN or a value of the wrong type
renders as ``—`` instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

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
    parse_time,
    percent,
    ratio,
    ratio_interval,
    share,
    stamp,
    text,
)

__all__ = [
    "Cell",
    "ReportView",
    "Table",
    "Tone",
    "Verdict",
    "arm_name",
    "field",
    "mappings",
    "metric_kind",
    "primary_metric",
    "report_view",
]

Tone = Literal["", "good", "bad", "warn", "info", "muted"]
"""What a cell's colour means: holds/promote, breached/rollback, inconclusive/investigate."""

_ACTION_TONES: dict[str, Tone] = {
    "promote": "good",
    "rollback": "bad",
    "investigate": "warn",
    "continue": "info",
    "no_difference": "",
}
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
_ALPHA = "\u03b1"
_MAX_LINES_SHOWN = 10


@dataclass(frozen=True)
class Cell:
    """One formatted value; ``bar`` (0 to 1) asks layouts that can to draw a progress bar."""

    text: str
    tone: Tone = ""
    bar: float | None = None


@dataclass(frozen=True)
class Table:
    """One part of the report: a title, lines that sum it up, rows of cells (right-aligned
    where ``right`` says), and ``details``: lines that follow the rows."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    right: frozenset[int] = frozenset()
    notes: tuple[Cell, ...] = ()
    empty: str = "nothing to show"
    details: tuple[Cell, ...] = ()


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


# -- reading the dict --------------------------------------------------------------------


def field(value: Any, key: Any) -> Any:
    """``value[key]`` when ``value`` is a mapping and ``key`` a string, else None."""
    return value.get(key) if isinstance(value, Mapping) and isinstance(key, str) else None


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The mappings in ``value`` when it is a list, else nothing."""
    return [item for item in _list(value) if isinstance(item, Mapping)]


def primary_metric(report: Any) -> Any:
    """The name of the metric the test decides on, as the report gives it."""
    return field(field(report, "test"), "primaryMetric")


def arm_name(report: Any, arm: Mapping[str, Any]) -> str:
    """An arm's name as people read it: the control marked, unless its name says so."""
    control = field(report, "control")
    marked = arm.get("variation") == control and control != "control"
    return text(arm.get("variation")) + (" (control)" if marked else "")


def metric_kind(report: Mapping[str, Any], metric: Any) -> str:
    """``rate``, ``ms``, ``cost`` or ``number``: how a metric's values read."""
    if not isinstance(metric, str):
        return "number"
    if metric in ("error", "fallback"):
        return "rate"
    if metric == "latency_ms":
        return "ms"
    if metric == "cost":
        return "cost"
    for arm in mappings(report.get("arms")):
        if _map(field(arm.get("metrics"), metric)).get("type") == "binary":
            return "rate"
    return "number"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


# -- the view --------------------------------------------------------------------------------


def report_view(report: Mapping[str, Any]) -> ReportView:
    """The content of every rendering of ``report`` (see the module docstring)."""
    report = _map(report)
    now = parse_time(report.get("generatedAt"))
    tables = [
        _arm_table(report, mappings(report.get("arms")), "arms", "Arms"),
        _comparison_table(report, mappings(report.get("comparisons")), "comparisons"),
        _guardrail_table(report),
        _srm_table(report),
        _sample_table(report),
        _population_table(report),
        _health_table(report, now),
        _version_table(report, now),
        _input_table(report),
    ]
    segments = []
    for segment in mappings(report.get("segments")):
        title = f"Segment: {text(segment.get('attribute'))} = {text(segment.get('value'))}"
        segments.append((title, (
            _arm_table(report, mappings(segment.get("arms")), "segment-arms", "Arms"),
            _comparison_table(report, mappings(segment.get("comparisons")), "segment-comparisons"),
        )))  # fmt: skip
    title = " · ".join(text(report.get(k)) for k in ("flagKey", "experimentKey"))
    return ReportView(title, _verdict(report), _facts(report), tuple(tables), tuple(segments))


def _verdict(report: Mapping[str, Any]) -> Verdict:
    decision = _map(report.get("decision"))
    action = decision.get("action")
    tone = _ACTION_TONES.get(action, "") if isinstance(action, str) else ""
    label = text(action).replace("_", " ").upper() if action is not None else "NO DECISION"
    reasons = tuple(text(r) for r in _list(decision.get("reasons")))
    command = decision.get("command")
    return Verdict(label, tone, reasons, text(command) if command else None)


def _facts(report: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    test = _map(report.get("test"))
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


def _arm_table(
    report: Mapping[str, Any], arms: list[Mapping[str, Any]], key: str, title: str
) -> Table:
    primary = primary_metric(report)
    kind = metric_kind(report, primary)
    weights = [number(arm.get("weight")) for arm in arms]
    total = sum(w for w in weights if w is not None)
    costs = [number(_map(arm.get("cost")).get("mean")) for arm in arms]
    cost_decimals = column_decimals(costs)
    body = []
    for arm, weight, cost in zip(arms, weights, costs, strict=True):
        stats = _map(field(arm.get("metrics"), primary))
        latency = _map(arm.get("latencyMs"))
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


def _comparison_table(
    report: Mapping[str, Any], comparisons: list[Mapping[str, Any]], key: str
) -> Table:
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


def _guardrail_table(report: Mapping[str, Any]) -> Table:
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


def _srm_table(report: Mapping[str, Any]) -> Table:
    srm = _map(report.get("srm"))
    observed, expected = _map(srm.get("observed")), _map(srm.get("expected"))
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


def _sample_table(report: Mapping[str, Any]) -> Table:
    sample = _map(report.get("sampleSize"))
    required = number(sample.get("requiredPerArm"))
    body = []
    for arm, units in _map(sample.get("observedPerArm")).items():
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


def _population_table(report: Mapping[str, Any]) -> Table:
    population = _map(report.get("population"))
    body = [(Cell("randomised"), Cell(count(population.get("randomized"))))]
    for reason, n in _map(population.get("byReason")).items():
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


def _health_table(report: Mapping[str, Any], now: datetime | None) -> Table:
    arms = _map(_map(report.get("health")).get("arms"))
    body = [
        (
            Cell(text(arm)),
            Cell(stamp(_map(h).get("lastExposure"), now)),
            Cell(stamp(_map(h).get("lastOutcome"), now)),
            Cell(percent(_map(h).get("outcomeCoverage"))),
        )
        for arm, h in arms.items()
    ]
    columns = ("variation", "last exposure", "last outcome", "units with an outcome")
    return Table("health", "Health", columns, tuple(body), frozenset({3}), empty="no arms")


def _version_table(report: Mapping[str, Any], now: datetime | None) -> Table:
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


def _input_table(report: Mapping[str, Any]) -> Table:
    data = _map(report.get("input"))
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
    lines = [text(line) for line in _list(data.get("malformedLines"))]
    notes = tuple(Cell(f"malformed: {line}", "warn") for line in lines[:_MAX_LINES_SHOWN])
    if len(lines) > _MAX_LINES_SHOWN:
        notes += (Cell(f"… and {len(lines) - _MAX_LINES_SHOWN} more malformed lines", "warn"),)
    return Table("input", "Input", ("events", "count"), tuple(body), frozenset({1}),
                 details=notes)  # fmt: skip
