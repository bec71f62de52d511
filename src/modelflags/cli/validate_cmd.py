"""``modelflags validate [PATHS...]``: every error and warning of each flag source, located."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from modelflags.cli import arguments
from modelflags.cli.output import add_format, print_json
from modelflags.errors import Issue
from modelflags.review.lint import WARNING_CODES
from modelflags.review.source_report import SourceReport, check_source

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check flag files: schema and semantic errors, warnings for likely mistakes",
        description="Load each flag source (a file, or a directory whose files are merged) "
        "and print every error as file:line:col: [code] message; hint. A source that loads is "
        "then checked for likely mistakes, printed as warnings: secrets in the file, unused "
        "segments, unreachable rules, one-arm splits, variations never served, an experiment "
        "control outside the split, zero coverage, a missing owner, a schedule that is over. "
        "A '# modelflags: ignore[CODE]' comment on a warning's line silences it. "
        "Exit status: 0 ok, 1 errors (or warnings with --strict), 2 usage error.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        default=["flags/"],
        help="flag file, directory or http(s) URL, each validated on its own (default: flags/)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too (for CI)")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        choices=WARNING_CODES,
        help="do not report this warning code (repeatable)",
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=arguments.moment,
        help="judge schedules at this RFC 3339 time, e.g. 2026-12-01T00:00:00Z (default: the "
        "clock), so that a CI run gives the same answer on any day",
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    now = time.time() if args.now is None else args.now
    reports = [check_source(path, now=now, ignore=args.ignore) for path in args.paths]
    ok = all(report.ok(strict=args.strict) for report in reports)
    if args.format == "json":
        print_json({"ok": ok, "sources": [_source_json(report) for report in reports]})
    else:
        for report in reports:
            for issue in (*report.errors, *report.warnings):
                sys.stdout.write(f"{issue}\n")
            sys.stdout.write(f"{_summary(report)}\n")
    return 0 if ok else 1


def _summary(report: SourceReport) -> str:
    """``flags/: 4 flags, 2 segments: ok`` (or the number of warnings / errors)."""
    if report.errors:
        errors = _count(len(report.errors), "error")
        return f"{report.path}: {errors} (warnings are checked once it loads)"
    size = f"{_count(report.flags or 0, 'flag')}, {_count(report.segments or 0, 'segment')}"
    found = _count(len(report.warnings), "warning") if report.warnings else "ok"
    return f"{report.path}: {size}: {found}"


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
