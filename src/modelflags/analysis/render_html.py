"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no network.

The page shows the same content as the terminal table
(:func:`~modelflags.analysis.render_table.report_view`), the verdict first as a coloured
banner, plus two SVG charts drawn here: latency p50/p95/p99 per arm, and the primary metric
per arm with its 95% interval. Nothing is fetched: no stylesheet, script, font or image
lives outside the file, so the page opens the same from a CI artifact, an e-mail or a
laptop offline.

Every string from the report is HTML-escaped; a variation named ``<script>`` shows as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from modelflags.analysis.render_table import (
    NULL,
    Cell,
    Table,
    Tone,
    metric_kind,
    metric_value,
    number,
    report_view,
    text,
)

__all__ = ["render_html"]

_CHART_AFTER = "arms"
_PALETTE = ("#9cc3e6", "#4a8fd4", "#1f4e8c")  # p50, p95, p99: one hue, darker is slower
_GRID, _MUTED, _ACCENT = "#e6e8eb", "#656d76", "#0969da"


def render_html(report: Mapping[str, Any]) -> str:
    """The report as a complete HTML document (UTF-8), ending with one newline."""
    view = report_view(report)
    verdict = view.verdict
    reasons = "".join(f"<li>{_e(reason)}</li>" for reason in verdict.reasons)
    command = (
        f'<div class="command"><span>run</span><code>{_e(verdict.command)}</code></div>'
        if verdict.command
        else '<p class="no-command">No command to run.</p>'
    )
    facts = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in view.facts)
    body = [
        f'<header class="verdict tone-{verdict.tone or "plain"}" id="verdict">'
        f'<p class="eyebrow">Verdict</p><h1>{_e(verdict.action)}</h1>'
        f'<p class="subject">{_e(view.title)}</p><ul class="reasons">{reasons}</ul>{command}'
        "</header>",
        f'<section class="facts"><dl>{facts}</dl></section>',
    ]
    for table in view.tables:
        body.append(_section(table, anchor=True))
        if table.key == _CHART_AFTER:
            body.append(
                '<section class="charts">'
                f"{_latency_chart(report)}{_primary_chart(report)}</section>"
            )
    if view.segments:
        body.append('<h2 class="segments-title">Segments</h2>')
    for title, tables in view.segments:
        inner = "".join(_section(table, "h4") for table in tables)
        body.append(f'<section class="segment"><h3>{_e(title)}</h3>{inner}</section>')
    page_title = f"{verdict.action} · {view.title}"
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(page_title)}</title><style>{_CSS}</style></head>\n"
        f"<body><main>{''.join(body)}"
        f"<footer>modelflags report · generated {_e(text(_get(report, 'generatedAt')))}"
        "</footer></main></body></html>\n"
    )


def _section(table: Table, heading: str = "h2", *, anchor: bool = False) -> str:
    """A table as a card; ``anchor`` gives it an id (once per page: not in segments)."""
    notes = "".join(
        f'<p class="note tone-{note.tone or "plain"}">{_e(note.text)}</p>' for note in table.notes
    )
    if not table.rows:
        content = f'<p class="empty">{_e(table.empty)}</p>'
    else:
        head = "".join(
            f"<th{_class('num' if i in table.right else '')}>{_e(c)}</th>"
            for i, c in enumerate(table.columns)
        )
        rows = "".join(
            "<tr>" + "".join(_td(cell, i in table.right) for i, cell in enumerate(row)) + "</tr>"
            for row in table.rows
        )
        content = f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}'
        content += "</tbody></table></div>"
    details = "".join(
        f'<li class="tone-{line.tone or "plain"}">{_e(line.text)}</li>' for line in table.details
    )
    details = f'<ul class="details">{details}</ul>' if details else ""
    anchored = f' id="{_e(table.key)}"' if anchor else ""
    return (
        f'<section class="part"{anchored}>'
        f"<{heading}>{_e(table.title)}</{heading}>{notes}{content}{details}</section>"
    )


def _td(cell: Cell, right: bool) -> str:
    classes = ["num"] if right else []
    shown = _e(cell.text)
    if cell.tone in ("good", "bad", "warn"):
        shown = f'<span class="pill tone-{cell.tone}">{shown}</span>'
    if cell.bar is not None:
        width = min(max(cell.bar, 0.0), 1.0) * 100
        shown = f'<span class="bar"><span style="width:{width:.0f}%"></span></span>{shown}'
        classes.append("progress")
    return f"<td{_class(' '.join(classes))}>{shown}</td>"


def _class(names: str) -> str:
    return f' class="{names}"' if names else ""


# -- charts -------------------------------------------------------------------------------------


def _latency_chart(report: Mapping[str, Any]) -> str:
    """Horizontal bars: per arm, p50, p95 and p99 latency on one shared ms axis."""
    arms = [a for a in _arms(report) if isinstance(a.get("latencyMs"), Mapping)]
    series = [
        (_arm_name(report, a), [number(a["latencyMs"].get(q)) for q in ("p50", "p95", "p99")])
        for a in arms
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
    width = 560
    scale = _Scale(ticks[0], ticks[-1], left, width - right)
    parts = [_grid(scale, ticks, top - 6, height - 26, lambda t: f"{t:,.0f}")]
    parts += [
        f'<rect x="{left + i * 70}" y="6" width="10" height="10" rx="2" fill="{_PALETTE[i]}"/>'
        f'<text x="{left + i * 70 + 15}" y="15" class="legend">{q}</text>'
        for i, q in enumerate(("p50", "p95", "p99"))
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
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" rx="2" '
                f'fill="{_PALETTE[i]}"><title>{_e(name)} p{(50, 95, 99)[i]}: '
                f"{_e(metric_value('ms', v))}</title></rect>"
                f'<text x="{left + w + 5:.1f}" y="{y + 11}" class="value">'
                f"{_e(metric_value('ms', v))}</text>"
            )
    return _figure(title, _svg(width, height, "latency-chart", "".join(parts)))


def _primary_chart(report: Mapping[str, Any]) -> str:
    """Per arm, the primary metric's mean (a dot) and its 95% interval (a whisker)."""
    metric = _get(_get(report, "test"), "primaryMetric")
    kind = metric_kind(report, metric)
    control = _get(report, "control")
    rows = []
    for arm in _arms(report):
        stats = _get(_get(arm, "metrics"), metric)
        mean = number(_get(stats, "mean"))
        bounds = _get(stats, "ci95")
        ci = [number(b) for b in bounds] if isinstance(bounds, list) and len(bounds) == 2 else []
        low, high = (ci[0], ci[1]) if len(ci) == 2 else (None, None)
        is_control = arm.get("variation") == control
        rows.append((_arm_name(report, arm), is_control, mean, low, high))
    title = f"{text(metric)} per arm, with 95% interval"
    values = [v for r in rows for v in r[2:] if v is not None]
    if not values:
        return _figure(title, f'<p class="empty">No {_e(text(metric))} values yet.</p>')
    pad = (max(values) - min(values)) * 0.15 or abs(values[0]) * 0.1 or 1.0
    ticks = _ticks(min(values) - pad, max(values) + pad)
    row_height, top = 44, 14
    left, right = _label_width(r[0] for r in rows), 150
    width, height = 560, top + len(rows) * row_height + 30
    scale = _Scale(ticks[0], ticks[-1], left, width - right)
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
        if low is not None and high is not None:
            x1, x2 = scale(low), scale(high)
            parts.append(
                f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y}" y2="{y}" stroke="{color}" '
                f'stroke-width="2"/>'
                + "".join(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 7}" y2="{y + 7}" '
                    f'stroke="{color}" stroke-width="2"/>'
                    for x in (x1, x2)
                )
            )
        shown = metric_value(kind, mean)
        if mean is not None:
            parts.append(
                f'<circle cx="{scale(mean):.1f}" cy="{y}" r="6" fill="{color}">'
                f"<title>{_e(name)}: {_e(shown)}</title></circle>"
            )
        interval = (
            f" [{metric_value(kind, low, unit=False)}, {metric_value(kind, high, unit=False)}]"
            if low is not None and high is not None
            else ""
        )
        parts.append(
            f'<text x="{width - right + 12}" y="{y + 4}" class="value">'
            f"{_e(shown + interval)}</text>"
        )
    return _figure(title, _svg(width, height, "primary-chart", "".join(parts)))


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


def _grid(scale: _Scale, ticks: Sequence[float], top: float, bottom: float, label: Any) -> str:
    return "".join(
        f'<line x1="{scale(t):.1f}" x2="{scale(t):.1f}" y1="{top}" y2="{bottom}" '
        f'stroke="{_GRID}"/><text x="{scale(t):.1f}" y="{bottom + 16}" class="tick">'
        f"{_e(label(t))}</text>"
        for t in ticks
    )


def _label(name: str, x: float, y: float) -> str:
    short = name if len(name) <= 22 else name[:21] + "…"
    return f'<text x="{x}" y="{y:.1f}" class="label"><title>{_e(name)}</title>{_e(short)}</text>'


def _label_width(names: Any) -> int:
    longest = max((min(len(n), 22) for n in names), default=4)
    return 24 + 8 * longest


def _svg(width: int, height: int, css_class: str, content: str) -> str:
    return (
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" role="img" '
        f'preserveAspectRatio="xMinYMin meet">{content}</svg>'
    )


def _figure(title: str, content: str) -> str:
    return f"<figure><figcaption>{_e(title)}</figcaption>{content}</figure>"


def _arm_name(report: Mapping[str, Any], arm: Mapping[str, Any]) -> str:
    """An arm's name as the tables show it: the control marked, unless its name says so."""
    control = _get(report, "control")
    marked = arm.get("variation") == control and control != "control"
    return text(arm.get("variation")) + (" (control)" if marked else "")


def _arms(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    arms = _get(report, "arms")
    return [a for a in arms if isinstance(a, Mapping)] if isinstance(arms, list) else []


def _get(value: Any, key: Any) -> Any:
    """``value[key]`` when ``value`` is a mapping and ``key`` a string, else None."""
    return value.get(key) if isinstance(value, Mapping) and isinstance(key, str) else None


def _e(value: str) -> str:
    return escape(value, quote=True)


_TONES: dict[Tone, tuple[str, str]] = {
    "good": ("#1a7f37", "#dafbe1"),
    "bad": ("#cf222e", "#ffebe9"),
    "warn": ("#9a6700", "#fff8c5"),
    "info": ("#0969da", "#ddf4ff"),
    "muted": ("#656d76", "#f6f8fa"),
    "": ("#424a53", "#f6f8fa"),
}

_CSS = (
    """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f6f8fa;color:#1f2328;font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 32px 48px}
h2{font-size:17px;margin:0 0 10px;letter-spacing:.01em}
h3{font-size:18px;margin:0 0 12px}
h4{font-size:15px;margin:18px 0 8px}
code,.command code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.verdict{border-radius:12px;padding:22px 28px 24px;color:#fff;margin-bottom:18px;
box-shadow:0 1px 3px rgba(31,35,40,.12)}
.verdict .eyebrow{margin:0;text-transform:uppercase;font-size:12px;letter-spacing:.12em;
opacity:.85;font-weight:600}
.verdict h1{margin:2px 0 0;font-size:38px;line-height:1.15;letter-spacing:.02em}
.verdict .subject{margin:2px 0 12px;font-size:15px;opacity:.92}
.verdict .reasons{margin:0 0 14px;padding-left:20px;font-size:16px}
.verdict .reasons li{margin:2px 0}
.command{display:inline-flex;align-items:center;gap:10px;background:rgba(0,0,0,.22);
border-radius:8px;padding:8px 14px;max-width:100%;overflow-x:auto}
.command span{text-transform:uppercase;font-size:11px;letter-spacing:.1em;opacity:.8}
.command code{font-size:14px;white-space:pre}
.no-command{margin:0;opacity:.85;font-style:italic}
.facts,.part,.charts figure,.segment{background:#fff;border:1px solid #d1d9e0;
border-radius:10px}
.facts{padding:16px 24px;margin-bottom:18px}
.facts dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 20px;margin:0}
.facts dt{color:#656d76;font-weight:600}
.facts dd{margin:0}
.facts dd:first-of-type{font-size:17px;font-style:italic}
.part{padding:16px 20px 14px;margin-bottom:18px}
.segment .part{border:none;padding:0;margin:0 0 8px}
.segments-title{margin:28px 0 10px}
.segment{padding:18px 20px;margin-bottom:18px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;min-width:420px;font-variant-numeric:tabular-nums;font-size:14px}
th{text-align:left;font-size:13px;color:#656d76;font-weight:600;padding:6px 9px;
border-bottom:2px solid #d1d9e0;vertical-align:bottom}
td{padding:7px 9px;border-bottom:1px solid #eaeef2;white-space:nowrap}
tbody tr:last-child td{border-bottom:none}
tbody tr:hover{background:#f6f8fa}
.num{text-align:right}
.note{margin:0 0 10px;padding:8px 12px;border-radius:6px;border-left:4px solid;
width:fit-content;max-width:100%}
.details{margin:10px 0 0;padding-left:20px;font-family:ui-monospace,SFMono-Regular,Menlo,
Consolas,monospace;font-size:13px}
.details .tone-warn{color:#9a6700}
.empty{color:#656d76;font-style:italic;margin:6px 0}
.pill{display:inline-block;padding:1px 10px;border-radius:999px;font-weight:600;
font-size:13px}
.bar{display:inline-block;width:90px;height:8px;border-radius:4px;background:#eaeef2;
margin-right:10px;vertical-align:middle;overflow:hidden}
.bar span{display:block;height:100%;background:#1a7f37}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px;
margin-bottom:18px}
.charts figure{margin:0;padding:14px 16px 8px}
figcaption{font-weight:600;font-size:15px;margin-bottom:6px}
svg{width:100%;height:auto;display:block;font-family:inherit}
svg .label{font-size:14px;text-anchor:end;fill:#1f2328}
svg .value{font-size:13px;fill:#424a53;font-variant-numeric:tabular-nums}
svg .tick{font-size:12px;text-anchor:middle;fill:#656d76}
svg .legend{font-size:13px;fill:#424a53}
footer{color:#656d76;font-size:13px;margin-top:28px;text-align:center}
"""
    + "".join(
        f".verdict.tone-{tone or 'plain'}{{background:{ink}}}"
        f".pill.tone-{tone or 'plain'},.note.tone-{tone or 'plain'}"
        f"{{color:{ink};background:{paper};border-color:{ink}}}"
        for tone, (ink, paper) in _TONES.items()
    )
).replace("\n", "")
