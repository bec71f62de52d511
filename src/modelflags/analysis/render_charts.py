"""The report's two charts as inline SVG: latency percentiles, and the primary metric.

:func:`latency_chart` draws p50/p95/p99 latency per arm on one shared ms axis;
:func:`primary_chart` draws the primary metric per arm with its 95% interval, against the
control's value as a dashed line. Each is a ``<figure>`` with its caption, ready to place in
the HTML page, and says so in words when there is nothing to draw yet.

Axes use round ticks, and every coordinate is clamped into the plot, so no value (however
extreme) can draw outside the chart or write a coordinate that is not a finite number. Every
string from the report is HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any

from modelflags.analysis.number_format import NULL, metric_value, number, pair, text
from modelflags.analysis.report_fields import (
    arm_name,
    field,
    mappings,
    metric_kind,
    primary_metric,
)

__all__ = ["latency_chart", "primary_chart"]

_QUANTILES = ("p50", "p95", "p99")
_PALETTE = ("#9cc3e6", "#4a8fd4", "#1f4e8c")  # p50, p95, p99: one hue, darker is slower
_GRID, _MUTED, _ACCENT = "#e6e8eb", "#656d76", "#0969da"
_WIDTH = 560
_LABEL_CHARS = 22


def latency_chart(report: Mapping[str, Any]) -> str:
    """Horizontal bars: per arm, p50, p95 and p99 latency on one shared ms axis."""
    arms = [a for a in mappings(field(report, "arms")) if isinstance(a.get("latencyMs"), Mapping)]
    series = [
        (arm_name(report, a), [number(a["latencyMs"].get(q)) for q in _QUANTILES]) for a in arms
    ]
    values = [v for _, vs in series for v in vs if v is not None]
    title = "Latency per arm (ms)"
    if not values:
        return _figure(title, '<p class="empty">No latency recorded yet.</p>')
    ticks = _ticks(0.0, max(values))
    bar, gap, group_gap = 14, 3, 18
    left, right, top = _label_width(name for name, _ in series), 78, 34
    group = 3 * bar + 2 * gap
    height = top + len(series) * (group + group_gap) + 16
    scale = _Scale(ticks[0], ticks[-1], left, _WIDTH - right)
    parts = [_grid(scale, ticks, top - 6, height - 26, lambda t: f"{t:,.0f}")]
    parts += [
        f'<rect x="{left + i * 70}" y="6" width="10" height="10" rx="2" fill="{_PALETTE[i]}"/>'
        f'<text x="{left + i * 70 + 15}" y="15" class="legend">{q}</text>'
        for i, q in enumerate(_QUANTILES)
    ]
    for row, (name, quantiles) in enumerate(series):
        y0 = top + row * (group + group_gap)
        parts.append(_label(name, left - 10, y0 + group / 2 + 4))
        for i, v in enumerate(quantiles):
            y = y0 + i * (bar + gap)
            if v is None:
                parts.append(f'<text x="{left + 4}" y="{y + 11}" class="value">{NULL}</text>')
                continue
            w = max(scale(v) - left, 1.0)
            shown = escape(metric_value("ms", v))
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" rx="2" '
                f'fill="{_PALETTE[i]}"><title>{escape(name)} {_QUANTILES[i]}: {shown}</title>'
                f'</rect><text x="{left + w + 5:.1f}" y="{y + 11}" class="value">{shown}</text>'
            )
    return _figure(title, _svg(height, "latency-chart", "".join(parts)))


def primary_chart(report: Mapping[str, Any]) -> str:
    """Per arm, the primary metric's mean (a dot) and its 95% interval (a whisker)."""
    metric = primary_metric(report)
    kind = metric_kind(report, metric)
    control = field(report, "control")
    rows = []
    for arm in mappings(field(report, "arms")):
        stats = field(field(arm, "metrics"), metric)
        low, high = pair(field(stats, "ci95"))
        is_control = arm.get("variation") == control
        rows.append((arm_name(report, arm), is_control, number(field(stats, "mean")), low, high))
    title = f"{text(metric)} per arm, with 95% interval"
    values = [v for r in rows for v in r[2:] if v is not None]
    if not values:
        return _figure(title, f'<p class="empty">No {escape(text(metric))} values yet.</p>')
    pad = (max(values) - min(values)) * 0.15 or abs(values[0]) * 0.1 or 1.0
    ticks = _ticks(min(values) - pad, max(values) + pad)
    row_height, top = 44, 14
    left, right = _label_width(r[0] for r in rows), 150
    height = top + len(rows) * row_height + 30
    scale = _Scale(ticks[0], ticks[-1], left, _WIDTH - right)
    tick_text = "{:.0%}" if kind == "rate" else "{:,.4g}"
    parts = [_grid(scale, ticks, top - 6, height - 26, tick_text.format)]
    control_mean = next((r[2] for r in rows if r[1] and r[2] is not None), None)
    if control_mean is not None:
        x = scale(control_mean)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{height - 26}" '
            f'stroke="{_MUTED}" stroke-dasharray="4 3"/>'
        )
    for i, (name, is_control, mean, low, high) in enumerate(rows):
        y = top + i * row_height + row_height / 2
        color = _MUTED if is_control else _ACCENT
        parts.append(_label(name, left - 10, y + 4))
        shown, interval = metric_value(kind, mean), ""
        if low is not None and high is not None:
            parts.append(_whisker(scale(low), scale(high), y, color))
            interval = (
                f" [{metric_value(kind, low, unit=False)}, {metric_value(kind, high, unit=False)}]"
            )
        if mean is not None:
            parts.append(
                f'<circle cx="{scale(mean):.1f}" cy="{y}" r="6" fill="{color}">'
                f"<title>{escape(name)}: {escape(shown)}</title></circle>"
            )
        parts.append(
            f'<text x="{_WIDTH - right + 12}" y="{y + 4}" class="value">'
            f"{escape(shown + interval)}</text>"
        )
    return _figure(title, _svg(height, "primary-chart", "".join(parts)))


class _Scale:
    """A linear map from a data domain onto pixels, clamped to the plot so that no value
    (however extreme) yields a coordinate outside it, or one that is not finite."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        span = high - low
        self.low, self.span = low, span if math.isfinite(span) and span > 0 else 1.0
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        x = self.start + (value - self.low) / self.span * (self.end - self.start)
        return min(max(x, self.start), self.end) if math.isfinite(x) else self.start


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``: steps of 1, 2, 2.5 or 5 times 10^k.

    At most a dozen ticks, whatever the input: a domain too wide or too narrow for floating
    point gets its two ends.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    if not math.isfinite(raw) or raw <= abs(high) * 1e-12:
        return [low, high]
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    steps = min(max(math.ceil((high - first) / step - 1e-9), 1), 12)
    return [first + i * step for i in range(steps + 1)]


def _grid(
    scale: _Scale, ticks: Sequence[float], top: float, bottom: float, label: Callable[[float], str]
) -> str:
    """A vertical grid line per tick, its value written under the plot."""
    return "".join(
        f'<line x1="{scale(t):.1f}" x2="{scale(t):.1f}" y1="{top}" y2="{bottom}" '
        f'stroke="{_GRID}"/><text x="{scale(t):.1f}" y="{bottom + 16}" class="tick">'
        f"{escape(label(t))}</text>"
        for t in ticks
    )


def _whisker(x1: float, x2: float, y: float, color: str) -> str:
    """An interval from ``x1`` to ``x2``: a horizontal line with a cap at each end."""
    caps = "".join(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 7}" y2="{y + 7}" '
        f'stroke="{color}" stroke-width="2"/>'
        for x in (x1, x2)
    )
    return (
        f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y}" y2="{y}" stroke="{color}" '
        f'stroke-width="2"/>{caps}'
    )


def _label(name: str, x: float, y: float) -> str:
    """An arm's name, right-aligned at ``x``; a long one cut short, whole in its tooltip."""
    short = name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"
    return (
        f'<text x="{x}" y="{y:.1f}" class="label"><title>{escape(name)}</title>'
        f"{escape(short)}</text>"
    )


def _label_width(names: Iterable[str]) -> int:
    """Pixels left of the plot for the longest label (as cut short by :func:`_label`)."""
    longest = max((min(len(n), _LABEL_CHARS) for n in names), default=4)
    return 24 + 8 * longest


def _svg(height: int, css_class: str, content: str) -> str:
    return (
        f'<svg class="{css_class}" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMinYMin meet">{content}</svg>'
    )


def _figure(title: str, content: str) -> str:
    return f"<figure><figcaption>{escape(title)}</figcaption>{content}</figure>"
