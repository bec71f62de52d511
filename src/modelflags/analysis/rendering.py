"""``modelflags report --format``: one report dict, four renderings.

``table`` (a terminal, colour on request), ``json`` (the public contract, keys in the
documented order), ``markdown`` (a pull-request comment) and ``html`` (one self-contained
page). Every rendering is a pure function of the report dict: the same dict always gives the
same text, and none of them computes a statistic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from modelflags.analysis.render_html import render_html
from modelflags.analysis.render_markdown import render_markdown
from modelflags.analysis.render_table import render_table

__all__ = ["FORMATS", "render", "render_json"]

FORMATS = ("table", "json", "markdown", "html")
"""The values ``--format`` accepts, the default first."""


def render(report: Mapping[str, Any], fmt: str, *, color: bool = False) -> str:
    """``report`` rendered as ``fmt`` (one of :data:`FORMATS`); ``color`` is for ``table``."""
    if fmt == "table":
        return render_table(report, color=color)
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")


def render_json(report: Mapping[str, Any]) -> str:
    """The report as JSON: keys in the order given, indent 2, one trailing newline.

    A value that is not a finite number (NaN, an infinity) is written as null, the contract's
    "not computable": JSON has no spelling for it, and a reader must never meet one.
    """
    return json.dumps(_finite(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(key): _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)
