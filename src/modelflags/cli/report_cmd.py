"""``modelflags report EVENTS... --flag KEY``: per-arm statistics, guardrails and a verdict.

Parses arguments, loads the flag, has the analysis layer aggregate the events (or read an
aggregate table) and build the report, renders it, and sets the exit code: 0 whenever a
report was produced, whatever it concludes; 2 when it cannot be produced from the input
given (a missing path, an unknown flag, a flag that is not an experiment, a bad table).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelflags.cli import arguments
from modelflags.cli.output import print_error, print_issues, print_text
from modelflags.errors import FlagFileError, ModelFlagsError, did_you_mean

if TYPE_CHECKING:
    from modelflags.schema.models import Flag

__all__ = ["FORMATS", "register"]

FORMATS = ("table", "json", "markdown", "html")
"""Renderings of the report; ``table`` is for terminals."""

USAGE_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="analyse an experiment's exposures and outcomes: arms, guardrails, verdict",
        description="Read exposure and outcome events (JSONL, .gz or Parquet files, or "
        "directories of them) for the experiment of flag KEY, and report per arm the units, "
        "the metrics with 95%% intervals, each arm against the control, the guardrails, "
        "sample ratio mismatch, the sample size, and a decision with the command that carries "
        "it out. Statistics are always-valid (sequential) unless --fixed-horizon. Exit status: "
        "0 when a report was produced, whatever it concludes; 2 when it cannot be (a missing "
        "path, an unknown flag, a flag without split or experiment). See docs/report.md.",
    )
    parser.add_argument(
        "events",
        nargs="*",
        metavar="EVENTS",
        help="event files or directories (not needed with --aggregates)",
    )
    parser.add_argument("--flag", metavar="KEY", required=True, help="key of the flag to report")
    parser.add_argument(
        "--flags", metavar="PATH", default="flags/", help="flag file or directory (default: flags/)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    parser.add_argument(
        "--fixed-horizon",
        action="store_true",
        help="classical intervals and p-values, valid at one pre-planned look only "
        "(default: sequential, valid however often you look)",
    )
    parser.add_argument(
        "--since", metavar="TIME", type=arguments.moment, help="only events at or after TIME"
    )
    parser.add_argument(
        "--until", metavar="TIME", type=arguments.moment, help="only events before TIME"
    )
    parser.add_argument(
        "--config-version", metavar="V", help="only exposures served under config version V"
    )
    parser.add_argument(
        "--by", metavar="ATTRIBUTE", help="also report per value of this exposure attribute"
    )
    parser.add_argument(
        "--top-segments",
        metavar="N",
        type=arguments.positive,
        default=5,
        help="with --by, the N most frequent values one by one, the rest as (other) (default: 5)",
    )
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE, not stdout")
    parser.add_argument(
        "--aggregates",
        metavar="FILE",
        help="read an aggregate table (Parquet, CSV or JSONL, e.g. from the warehouse SQL) "
        "instead of events",
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=arguments.moment,
        help="judge the decision date and telemetry at this RFC 3339 time (default: the clock)",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="print progress of a long aggregation on standard error even when it is not a "
        "terminal (default: only on a terminal)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.events) == bool(args.aggregates):
        print_error("report needs EVENTS or --aggregates FILE (one of them); see --help")
        return USAGE_ERROR
    try:
        from modelflags.analysis.rendering import render
        from modelflags.analysis.report import build_report, report_arms
    except ImportError as error:
        print_error(
            f"report needs the 'report' extra ({error.name} is missing): "
            "pip install 'modelflags[report]'"
        )
        return USAGE_ERROR
    try:
        flag = _load_flag(args.flags, args.flag)
        _, weights = report_arms(args.flag, flag)
        aggregates = _aggregates(args, list(weights))
    except FlagFileError as error:
        print_issues(error)
        return USAGE_ERROR
    except ModelFlagsError as error:
        print_error(str(error))
        return USAGE_ERROR
    report = build_report(
        aggregates,
        args.flag,
        flag,
        method="fixed-horizon" if args.fixed_horizon else "sequential",
        now=time.time() if args.now is None else args.now,
        by=args.by,
        top_segments=args.top_segments,
        flags_path=args.flags,
    )
    color = args.output is None and args.format == "table" and _colour_terminal()
    text = render(report, args.format, color=color)
    if args.output is None:
        print_text(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            print_error(f"{args.output}: cannot write: {error.strerror or error}")
            return 1
    return 0


def _load_flag(path: str, key: str) -> Flag:
    """The flag ``key`` of the flag source at ``path``; ModelFlagsError when it is not there."""
    from modelflags.loader import load

    if not Path(path).exists() and "://" not in path:
        raise ModelFlagsError(f"{path}: no such file or directory")
    config = load(path).config
    flag = config.flags.get(key)
    if flag is None:
        hint = did_you_mean(key, config.flags)
        raise ModelFlagsError(f"no flag '{key}' in {path}" + (f"; {hint}" if hint else ""))
    return flag


def _aggregates(args: argparse.Namespace, arms: list[str]) -> Any:
    """The aggregate table: read from --aggregates, or computed from the event files."""
    if args.aggregates is not None:
        from modelflags.analysis.aggregates import read_aggregates

        if not Path(args.aggregates).exists():
            raise ModelFlagsError(f"{args.aggregates}: no such file")
        return read_aggregates(args.aggregates)
    from modelflags.analysis.event_aggregation import aggregate_events

    for path in args.events:
        if not Path(path).exists():
            raise ModelFlagsError(f"{path}: no such file or directory")
    return aggregate_events(
        args.events,
        args.flag,
        arms,
        since=args.since,
        until=args.until,
        config_version=args.config_version,
        by=args.by,
        progress=_progress if args.progress or sys.stderr.isatty() else None,
    )


def _progress(text: str) -> None:
    """Progress of a long aggregation, for people: one line on standard error (only on a
    terminal, or with ``--progress``)."""
    sys.stderr.write(f"modelflags: {text}\n")
    sys.stderr.flush()


def _colour_terminal() -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
