"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no network.

The page lays out the same content as the terminal table and the Markdown comment
(:func:`~modelflags.analysis.report_view.report_view`), the verdict first as a coloured
banner, with the two charts of :mod:`~modelflags.analysis.render_charts` after the arms.
Nothing is fetched: no stylesheet, script, font or image lives outside the file, so the page
opens the same from a CI artifact, an e-mail or a laptop offline.

Every string from the report is HTML-escaped; a variation named ``<script>`` shows as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape as _e
from typing import Any

from modelflags.analysis.number_format import text
from modelflags.analysis.render_charts import latency_chart, primary_chart
from modelflags.analysis.report_cells import Cell, Table, Tone
from modelflags.analysis.report_fields import field
from modelflags.analysis.report_view import report_view

__all__ = ["render_html"]

_CHART_AFTER = "arms"


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
                f'<section class="charts">{latency_chart(report)}{primary_chart(report)}</section>'
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
        f"<footer>modelflags report · generated {_e(text(field(report, 'generatedAt')))}"
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
