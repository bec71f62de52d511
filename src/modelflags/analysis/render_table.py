"""The report as people read it: its content once, laid out as aligned terminal text.

:func:`report_view` turns the report dict into a :class:`ReportView`: the verdict, the facts
of the test, and one :class:`Table` per part, every number already formatted for people
(rates as percentages, differences of rates in percentage points, latencies in ms, costs with
three significant digits, p-values as ``0.031`` or ``<0.001``). :func:`render_table` lays it
out for a terminal; the Markdown and HTML renderings lay out the same view, so the three can
never disagree about a figure.

Every value is read defensively: a missing key, a null, a NaN or a value of the wrong type
renders as ``—`` instead of raising. Control characters in names are shown escaped, so a
variation name cannot move the cursor or recolour a terminal.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "NULL",
    "Cell",
    "ReportView",
    "Table",
    "Tone",
    "Verdict",
    "metric_kind",
    "metric_value",
    "number",
    "render_table",
    "report_view",
    "text",
]

NULL = "—"
"""How a value that is missing or not computable is shown."""

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
_TIMES, _ALPHA = "\u00d7", "\u03b1"
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
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


def number(value: Any) -> float | None:
    """A finite number, or None for null, NaN, infinities, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any) -> str:
    """A value as one line of text for people; null is ``—``, control characters escaped."""
    if value is None:
        return NULL
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _maps(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in _list(value) if isinstance(item, Mapping)]


def _at(mapping: Mapping[str, Any], key: Any) -> Any:
    """``mapping[key]`` when ``key`` is a string it holds, else None."""
    return mapping.get(key) if isinstance(key, str) else None


def _pair(value: Any) -> tuple[float | None, float | None]:
    items = _list(value)
    return (number(items[0]), number(items[1])) if len(items) == 2 else (None, None)


# -- numbers for people --------------------------------------------------------------------


def _sig(value: float, digits: int = 3, signed: bool = False) -> str:
    """``digits`` significant digits without an exponent, thousands separated."""
    if value == 0:
        return "0"
    decimals = min(max(digits - 1 - math.floor(math.log10(abs(value))), 0), 10)
    return _fixed(value, decimals, signed)


def _fixed(value: float, decimals: int, signed: bool) -> str:
    return f"{value:{'+' if signed and value else ''},.{decimals}f}"


def _count(value: Any) -> str:
    n = number(value)
    if n is None:
        return NULL
    return f"{n:,.0f}" if abs(n - round(n)) < 1e-9 else f"{n:,.1f}"


def _percent(value: Any, signed: bool = False) -> str:
    """A rate as a percentage: one decimal from 1%, two below, two significant digits below
    0.1% (``12.3%``, ``0.31%``, ``0.042%``)."""
    x = number(value)
    if x is None:
        return NULL
    scaled = x * 100
    if abs(scaled) >= 1 or scaled == 0:
        return _fixed(scaled, 1, signed) + "%"
    if abs(scaled) >= 0.1:
        return _fixed(scaled, 2, signed) + "%"
    return _sig(scaled, 2, signed) + "%"


def _share(value: Any) -> str:
    """A share of traffic: a whole percentage when it is one (``90%``)."""
    x = number(value)
    if x is None or round(x * 100, 6) != round(x * 100):
        return _percent(x)
    return f"{x * 100:.0f}%"


def _p_value(value: Any) -> str:
    p = number(value)
    if p is None:
        return NULL
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _p_clause(value: Any) -> str:
    shown = _p_value(value)
    return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def _minutes(value: Any) -> str:
    x = number(value)
    return NULL if x is None else f"{_fixed(x, 0 if x == round(x) else 1, False)} min"


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
    for arm in _maps(report.get("arms")):
        if _map(_map(arm.get("metrics")).get(metric)).get("type") == "binary":
            return "rate"
    return "number"


def metric_value(
    kind: str, value: Any, *, signed: bool = False, points: bool = False,
    decimals: int | None = None, unit: bool = True,
) -> str:  # fmt: skip
    """A metric's value in its kind's unit (a rate as a percentage, latency in ms).

    ``signed`` is for a difference, ``points`` for a distance between rates (a margin, a
    minimum effect): both read in percentage points for rates. ``decimals`` fixes the
    precision (of the percentage for rates); by default three significant digits.
    """
    x = number(value)
    if x is None:
        return NULL
    scaled = x * 100 if kind == "rate" else x
    if decimals is not None:
        shown = _fixed(scaled, decimals, signed)
    elif kind == "rate":
        shown = _percent(x, signed)[:-1]
    else:
        shown = _sig(scaled, 3, signed)
    if not unit:
        return shown
    suffix = {"rate": " pp" if signed or points else "%", "ms": " ms"}.get(kind, "")
    return shown + suffix


def _estimate(kind: str, value: Any, bounds: Any, *, signed: bool = False) -> tuple[str, str]:
    """An estimate and its ``[low, high]`` interval, to the precision the interval allows.

    The number of decimals follows the interval's width (two significant digits of it), so
    a tight interval shows more digits than a wide one and both bounds match the estimate.
    """
    low, high = _pair(bounds)
    if low is None or high is None:
        return metric_value(kind, value, signed=signed), NULL
    width = (high - low) * (100 if kind == "rate" else 1)
    decimals = min(max(1 - math.floor(math.log10(width)), 0), 8) if width > 0 else None
    shown = metric_value(kind, value, signed=signed, decimals=decimals)
    low_text, high_text = (
        metric_value(kind, v, signed=signed, decimals=decimals, unit=False) for v in (low, high)
    )
    return shown, f"[{low_text}, {high_text}]"


def _column_decimals(values: list[float | None]) -> int | None:
    """Decimals that give the smallest non-zero value of a column three significant digits,
    so the column's decimal points line up."""
    smallest = min((abs(v) for v in values if v), default=None)
    if smallest is None:
        return None
    return min(max(2 - math.floor(math.log10(smallest)), 0), 10)


def _ratio(value: Any) -> str:
    x = number(value)
    return NULL if x is None else f"{_TIMES}{x:.2f}"


def _ratio_interval(bounds: Any) -> str:
    low, high = _pair(bounds)
    return NULL if low is None or high is None else f"[{low:.2f}, {high:.2f}]"


def _stamp(value: Any, now: datetime | None) -> str:
    when = _parse_time(value)
    if when is None:
        return text(value)
    shown = when.strftime("%Y-%m-%d %H:%M") + (" UTC" if when.utcoffset() is not None else "")
    if now is None or (now.tzinfo is None) != (when.tzinfo is None):
        return shown
    minutes = (now - when).total_seconds() / 60
    if minutes < 0:
        return shown
    if minutes < 1:
        return f"{shown} (just now)"
    if minutes < 120:
        return f"{shown} ({minutes:.0f} min ago)"
    if minutes < 2880:
        return f"{shown} ({minutes / 60:.1f} h ago)"
    return f"{shown} ({minutes / 1440:.1f} d ago)"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# -- the view --------------------------------------------------------------------------------


def report_view(report: Mapping[str, Any]) -> ReportView:
    """The content of every rendering of ``report`` (see the module docstring)."""
    report = _map(report)
    now = _parse_time(report.get("generatedAt"))
    tables = [
        _arm_table(report, _maps(report.get("arms")), "arms", "Arms"),
        _comparison_table(report, _maps(report.get("comparisons")), "comparisons"),
        _guardrail_table(report),
        _srm_table(report),
        _sample_table(report),
        _population_table(report),
        _health_table(report, now),
        _version_table(report, now),
        _input_table(report),
    ]
    segments = []
    for segment in _maps(report.get("segments")):
        title = f"Segment: {text(segment.get('attribute'))} = {text(segment.get('value'))}"
        segments.append((title, (
            _arm_table(report, _maps(segment.get("arms")), "segment-arms", "Arms"),
            _comparison_table(report, _maps(segment.get("comparisons")), "segment-comparisons"),
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
    metric = test.get("primaryMetric")
    kind = metric_kind(report, metric)
    kinds = {"non_inferiority": "Non-inferiority", "superiority": "Superiority"}
    test_type = test.get("type")
    parts = [f"{_at(kinds, test_type) or text(test_type)} on {text(metric)}"]
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
    primary = _map(report.get("test")).get("primaryMetric")
    kind = metric_kind(report, primary)
    weights = [number(arm.get("weight")) for arm in arms]
    total = sum(w for w in weights if w is not None)
    control = report.get("control")
    costs = [number(_map(arm.get("cost")).get("mean")) for arm in arms]
    cost_decimals = _column_decimals(costs)
    body = []
    for arm, weight, cost in zip(arms, weights, costs, strict=True):
        name = text(arm.get("variation"))
        name += " (control)" if arm.get("variation") == control != "control" else ""
        stats = _map(_at(_map(arm.get("metrics")), primary))
        latency = _map(arm.get("latencyMs"))
        mean, ci = _estimate(kind, stats.get("mean"), stats.get("ci95"))
        body.append((
            Cell(name),
            Cell(_share(weight / total if weight is not None and total > 0 else None)),
            Cell(_count(arm.get("units"))),
            Cell(_count(arm.get("exposures"))),
            Cell(mean if ci == NULL else f"{mean} {ci}"),
            Cell(_percent(arm.get("errorRate"))),
            Cell(_percent(arm.get("fallbackRate"))),
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
        lift = _percent(c.get("relativeLift"), signed=True)
        row = [
            Cell(name),
            Cell(text(c.get("variation"))),
            *(Cell(t) for t in _estimate(kind, c.get("diff"), c.get("ci95"), signed=True)),
            Cell(lift),
            Cell(_p_value(c.get("pValue"))),
        ]
        if holm:
            row.append(Cell(_p_value(c.get("pValueHolm"))))
        body.append((*row, Cell(text(c.get("test")))))
    columns = ["metric", "variation", "diff", "95% CI", "lift", "p"]
    columns += ["p (Holm)"] if holm else []
    right = frozenset(range(2, len(columns)))
    title = f"Against {text(report.get('control'))}"
    return Table(key, title, (*columns, "test"), tuple(body), right, empty="no comparisons")


def _guardrail_table(report: Mapping[str, Any]) -> Table:
    body = []
    for g in _maps(report.get("guardrails")):
        metric, bound = g.get("metric"), g.get("bound")
        kind = metric_kind(report, metric)
        if bound == "max_ratio":
            limit = f"≤ {_ratio(g.get('threshold'))} control"
            observed, ci = _ratio(g.get("observed")), _ratio_interval(g.get("ci95"))
        elif bound == "max_silence_minutes":
            limit = f"≤ {_minutes(g.get('threshold'))} silent"
            observed, ci = _minutes(g.get("observed")), NULL
        else:
            limit = f"≤ {metric_value(kind, g.get('threshold'))}"
            observed, ci = _estimate(kind, g.get("observed"), g.get("ci95"))
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
        note = Cell(f"{_p_clause(srm.get('pValue'))}: SAMPLE RATIO MISMATCH, the arms did not "
                    "get the traffic the split sends them; do not trust the comparisons",
                    "bad")  # fmt: skip
    elif srm.get("mismatch") is False:
        note = Cell(f"{_p_clause(srm.get('pValue'))}: the arms got the traffic the split "
                    "sends them", "good")  # fmt: skip
    else:
        note = Cell("not computable", "muted")
    totals = [sum(n for v in side.values() if (n := number(v)) is not None)
              for side in (observed, expected)]  # fmt: skip
    body = []
    for arm in dict.fromkeys([*observed, *expected]):
        o, e = number(observed.get(arm)), number(expected.get(arm))
        body.append((
            Cell(text(arm)), Cell(_count(o)), Cell(_count(e)),
            Cell(_percent(o / totals[0] if o is not None and totals[0] else None)),
            Cell(_percent(e / totals[1] if e is not None and totals[1] else None)),
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
        share = n / required if n is not None and required else None
        tone: Tone = "good" if share is not None and share >= 1 else ""
        body.append((
            Cell(text(arm)), Cell(_count(n)), Cell(_count(required)),
            Cell(NULL if share is None else f"{share * 100:.0f}%", tone,
                 bar=None if share is None else min(share, 1.0)),
        ))  # fmt: skip
    note = (
        Cell(f"{_count(required)} units per arm to detect the minimum effect")
        if required is not None
        else Cell("the units needed per arm are not computable yet", "muted")
    )
    columns = ("variation", "units", "required", "progress")
    return Table("sample", "Sample size", columns, tuple(body), frozenset({1, 2, 3}), (note,),
                 empty="no units yet")  # fmt: skip


def _population_table(report: Mapping[str, Any]) -> Table:
    population = _map(report.get("population"))
    body = [(Cell("randomised"), Cell(_count(population.get("randomized"))))]
    for reason, n in _map(population.get("byReason")).items():
        body.append((Cell(f"not randomised: {text(reason)}"), Cell(_count(n))))
    for key, label in (
        ("multipleAssignments", "more than one arm (left out)"),
        ("unknownVariation", "unknown arm (left out)"),
        ("orphanOutcomes", "outcomes without an exposure"),
        ("variationMismatch", "outcomes naming another arm"),
    ):
        n = number(population.get(key))
        body.append((Cell(label), Cell(_count(n), "warn" if n else "")))
    columns = ("", "count")
    return Table("population", "Population", columns, tuple(body), frozenset({1}))


def _health_table(report: Mapping[str, Any], now: datetime | None) -> Table:
    arms = _map(_map(report.get("health")).get("arms"))
    body = [
        (
            Cell(text(arm)),
            Cell(_stamp(_map(h).get("lastExposure"), now)),
            Cell(_stamp(_map(h).get("lastOutcome"), now)),
            Cell(_percent(_map(h).get("outcomeCoverage"))),
        )
        for arm, h in arms.items()
    ]
    columns = ("variation", "last exposure", "last outcome", "units with an outcome")
    return Table("health", "Health", columns, tuple(body), frozenset({3}), empty="no arms")


def _version_table(report: Mapping[str, Any], now: datetime | None) -> Table:
    body = [
        (
            Cell(text(v.get("configVersion"))),
            Cell(_count(v.get("units"))),
            Cell(_count(v.get("exposures"))),
            Cell(_stamp(v.get("lastSeen"), now)),
        )
        for v in _maps(report.get("configVersions"))
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
    ):
        n = number(data.get(key))
        body.append((Cell(label), Cell(_count(n), "warn" if problem and n else "")))
    lines = [text(line) for line in _list(data.get("malformedLines"))]
    notes = tuple(Cell(f"malformed: {line}", "warn") for line in lines[:_MAX_LINES_SHOWN])
    if len(lines) > _MAX_LINES_SHOWN:
        notes += (Cell(f"… and {len(lines) - _MAX_LINES_SHOWN} more malformed lines", "warn"),)
    return Table("input", "Input", ("events", "count"), tuple(body), frozenset({1}),
                 details=notes)  # fmt: skip


# -- the terminal layout ---------------------------------------------------------------------

_ANSI: dict[Tone, str] = {
    "good": "\x1b[32m",
    "bad": "\x1b[31m",
    "warn": "\x1b[33m",
    "info": "\x1b[36m",
    "muted": "\x1b[2m",
    "": "",
}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_WIDTH = 100
_BAR = 10


def render_table(report: Mapping[str, Any], *, color: bool = False) -> str:
    """The report as aligned plain text; ANSI colour only when ``color`` is true."""
    view = report_view(report)
    paint = _Painter(color)
    lines = [*_verdict_lines(view, paint), "", *_fact_lines(view, paint)]
    for table in view.tables:
        lines += ["", *_table_lines(table, paint)]
    for title, tables in view.segments:
        lines += ["", paint.bold(f"━━ {title} ━━")]
        for table in tables:
            lines += ["", *_table_lines(table, paint)]
    return "\n".join(lines).rstrip() + "\n"


class _Painter:
    """Wraps text in ANSI codes, or leaves it alone when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def tone(self, value: str, tone: Tone) -> str:
        code = _ANSI[tone]
        return f"{code}{value}{_RESET}" if self.color and code and value.strip() else value

    def bold(self, value: str, tone: Tone = "") -> str:
        return f"{_BOLD}{_ANSI[tone]}{value}{_RESET}" if self.color and value else value


def _verdict_lines(view: ReportView, paint: _Painter) -> list[str]:
    verdict = view.verdict
    lines = [f"{paint.bold(verdict.action, verdict.tone)}  {view.title}"]
    for reason in verdict.reasons:
        lines += textwrap.wrap(reason, _WIDTH, initial_indent="  • ", subsequent_indent="    ")
    if verdict.command:
        lines.append(f"  run: {paint.bold(verdict.command)}")
    else:
        lines.append(paint.tone("  no command to run", "muted"))
    return lines


def _fact_lines(view: ReportView, paint: _Painter) -> list[str]:
    width = max(len(label) for label, _ in view.facts) + 2
    lines: list[str] = []
    for label, value in view.facts:
        wrapped = textwrap.wrap(value, _WIDTH - width) or [value]
        lines.append(paint.bold(label.ljust(width)) + wrapped[0])
        lines += [" " * width + more for more in wrapped[1:]]
    return lines


def _table_lines(table: Table, paint: _Painter) -> list[str]:
    lines = [paint.bold(table.title), *_note_lines(table.notes, paint)]
    if not table.rows:
        return [*lines, paint.tone(f"  {table.empty}", "muted"), *_note_lines(table.details, paint)]
    texts = [[_cell_text(cell) for cell in row] for row in table.rows]
    widths = [
        max([len(column), *(len(row[i]) for row in texts)])
        for i, column in enumerate(table.columns)
    ]
    header = "  ".join(_pad(c, widths[i], i in table.right) for i, c in enumerate(table.columns))
    lines += ["  " + paint.bold(header.rstrip()), "  " + "  ".join("─" * w for w in widths)]
    for row, row_texts in zip(table.rows, texts, strict=True):
        padded = [_pad(t, widths[i], i in table.right) for i, t in enumerate(row_texts)]
        padded[-1] = padded[-1].rstrip()
        cells = [paint.tone(t, cell.tone) for t, cell in zip(padded, row, strict=True)]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return [*lines, *_note_lines(table.details, paint)]


def _note_lines(notes: tuple[Cell, ...], paint: _Painter) -> list[str]:
    return [
        paint.tone(line, note.tone)
        for note in notes
        for line in textwrap.wrap(note.text, _WIDTH, initial_indent="  ", subsequent_indent="    ")
    ]


def _cell_text(cell: Cell) -> str:
    if cell.bar is None:
        return cell.text
    filled = round(min(max(cell.bar, 0.0), 1.0) * _BAR)
    return f"{'█' * filled}{'░' * (_BAR - filled)} {cell.text:>4}"


def _pad(value: str, width: int, right: bool) -> str:
    return value.rjust(width) if right else value.ljust(width)
