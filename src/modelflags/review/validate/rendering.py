"""What ``modelflags validate`` prints: every issue on its own line with a summary per source,
or the JSON document described in docs/validate.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelflags.errors import Issue
    from modelflags.review.validate.prices import PriceReport
    from modelflags.review.validate.source_report import SourceReport
    from modelflags.review.validate.validation import Validation

__all__ = ["validation_json", "validation_text"]


def validation_text(validation: Validation) -> str:
    """Each source's errors and warnings (``file:line:col: ...``) and its summary line, then
    the price table's issues and summary when one was checked."""
    lines: list[str] = []
    for report in validation.sources:
        lines.extend(str(issue) for issue in (*report.errors, *report.warnings))
        lines.append(_summary(report))
    prices = validation.prices
    if prices is not None:
        lines.extend(str(issue) for issue in (*prices.errors, *prices.warnings))
        lines.append(_price_summary(prices))
    return "".join(f"{line}\n" for line in lines)


def validation_json(validation: Validation, *, strict: bool = False) -> dict[str, Any]:
    """``{"ok", "sources": [...]}``, with ``"prices"`` when a price table was checked; ``ok``
    is what the exit status says (it follows ``strict``)."""
    data: dict[str, Any] = {
        "ok": validation.ok(strict=strict),
        "sources": [_source_json(report) for report in validation.sources],
    }
    prices = validation.prices
    if prices is not None:
        data["prices"] = {
            "path": prices.path,
            "errors": [_issue_json(issue) for issue in prices.errors],
            "warnings": [_issue_json(issue) for issue in prices.warnings],
        }
    return data


def _summary(report: SourceReport) -> str:
    """``flags/: 4 flags, 2 segments: ok`` (or the number of warnings / errors)."""
    if report.errors:
        errors = _count(len(report.errors), "error")
        return f"{report.path}: {errors} (warnings are checked once it loads)"
    size = f"{_count(report.flags or 0, 'flag')}, {_count(report.segments or 0, 'segment')}"
    found = _count(len(report.warnings), "warning") if report.warnings else "ok"
    return f"{report.path}: {size}: {found}"


def _price_summary(report: PriceReport) -> str:
    """``examples/prices.yaml: price table: ok`` (or the number of errors / warnings)."""
    if report.errors:
        return f"{report.path}: price table: {_count(len(report.errors), 'error')}"
    found = _count(len(report.warnings), "warning") if report.warnings else "ok"
    return f"{report.path}: price table: {found}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _source_json(report: SourceReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "flags": report.flags,
        "segments": report.segments,
        "errors": [_issue_json(issue) for issue in report.errors],
        "warnings": [_issue_json(issue) for issue in report.warnings],
    }


def _issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "file": issue.file,
        "line": issue.line,
        "col": issue.col,
        "code": issue.code,
        "severity": issue.severity,
        "message": issue.message,
        "hint": issue.hint,
    }
