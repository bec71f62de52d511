"""``modelflags diff OLD NEW`` / ``diff --git REV [PATHS]``: per flag, what changed and the
blast radius (which share of units moves between which variations)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from modelflags.cli.output import add_format, print_error, print_json
from modelflags.errors import FlagFileError, ModelFlagsError
from modelflags.loader import load
from modelflags.review.diff_report import diff_configs, report_json, report_text
from modelflags.review.git_revision import load_pair, load_revision_and_work_tree

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
        "conditions are involved. Exit 0 (also with changes, unless --exit-code), 1 on bad "
        "input, 2 on usage errors. See docs/diff.md.",
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
        type=_context,
        help="attributes of the synthetic units used when conditions are involved; repeat to "
        "mix kinds of traffic in equal parts (default: no attributes)",
    )
    parser.add_argument(
        "--samples",
        metavar="N",
        type=_positive,
        default=100_000,
        help="synthetic units per sampled flag (default: 100000)",
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=_time,
        help="ISO 8601 time with a zone at which schedules are read (default: the clock)",
    )
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 1 when there are changes (like git diff)"
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.git is None and len(args.paths) != 2:
        print_error("diff needs OLD and NEW, or --git REV [PATHS]; see modelflags diff --help")
        return 2
    try:
        if args.git is not None:
            paths = args.paths or ["flags/"]
            old, new = load_revision_and_work_tree(args.git, paths)
            names = (f"{args.git}:{' '.join(paths)}", " ".join(paths))
        else:
            old, new = load_pair(lambda: load(args.paths[0]).config,
                                 lambda: load(args.paths[1]).config)  # fmt: skip
            names = (args.paths[0], args.paths[1])
    except FlagFileError as error:
        for issue in error.issues:
            sys.stderr.write(f"{issue}\n")
        return 1
    except ModelFlagsError as error:
        print_error(str(error))
        return 1
    report = diff_configs(
        old,
        new,
        now=args.now if args.now is not None else time.time(),
        old_name=names[0],
        new_name=names[1],
        contexts=args.context or ({},),
        samples=args.samples,
    )
    if args.format == "json":
        print_json(report_json(report))
    else:
        sys.stdout.write(report_text(report))
    return 1 if args.exit_code and report.has_changes else 0


def _context(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object of attributes")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _time(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("needs a zone, e.g. 2026-11-01T00:00:00Z")
    return moment.timestamp()
