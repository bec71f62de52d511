"""``modelflags diff OLD NEW`` / ``diff --git REV [PATHS]``: per flag, what changed and the
blast radius (which share of units moves between which variations)."""

from __future__ import annotations

import argparse
import time

from modelflags.cli import arguments
from modelflags.cli.output import add_format, print_error, print_json, print_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="per flag, what an edit changes and which share of units moves where",
        description="Compare two versions of a flag source: OLD NEW (files or directories), "
        "or --git REV [PATHS] (PATHS, default flags/, at git revision REV against the working "
        "tree). Lists flags added and removed and, per changed flag, the changed fields and "
        "the blast radius: the share of units moving from each variation to each other one, "
        "exact where assignment depends on hashes only, sampled on synthetic units where "
        "conditions are involved. Exit status: 0 success, with or without changes; 1 bad "
        "input (an invalid flag file, a missing path, an unknown revision), and with "
        "--exit-code also changes: then the report on standard output tells them apart (it is "
        "empty on bad input); 2 usage error. See docs/diff.md.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="OLD NEW; with --git, the paths to compare (default: flags/)",
    )
    parser.add_argument("--git", metavar="REV", help="compare PATHS at REV with the working tree")
    parser.add_argument(
        "--context",
        metavar="JSON",
        action="append",
        type=arguments.context,
        help="attributes of the synthetic units used when conditions are involved, as a JSON "
        "object, '@FILE' to read it from a file or '-' from standard input; repeat to mix kinds "
        "of traffic in equal parts (default: units without attributes)",
    )
    parser.add_argument(
        "--samples",
        metavar="N",
        type=arguments.positive,
        default=100_000,
        help="synthetic units per sampled flag (default: 100000)",
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=arguments.moment,
        help="read schedules at this RFC 3339 time, e.g. 2026-11-15T12:00:00Z (default: the clock)",
    )
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when there are changes, as git diff --exit-code does; bad input also "
        "exits 1, with nothing on standard output",
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.git is None and len(args.paths) != 2:
        print_error("diff needs OLD and NEW, or --git REV [PATHS]; see modelflags diff --help")
        return 2
    from modelflags.review.diff.loading import diff_paths
    from modelflags.review.diff.rendering import report_json, report_text

    report = diff_paths(
        args.paths,
        revision=args.git,
        now=args.now if args.now is not None else time.time(),
        contexts=args.context or (),
        samples=args.samples,
    )
    if args.format == "json":
        print_json(report_json(report))
    else:
        print_text(report_text(report))
    return 1 if args.exit_code and report.has_changes else 0
