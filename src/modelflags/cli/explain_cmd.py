"""``modelflags explain FLAG --context JSON``: the evaluation trace, step by step."""

from __future__ import annotations

import argparse
import time

from modelflags.cli import arguments
from modelflags.cli.output import add_format, print_json, print_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show why a flag serves what it serves for a context, step by step",
        description="Evaluate FLAG for a context through the same engine code as the provider "
        "and print every step of the evaluation order: state, unit id, exclusions, each rule "
        "and why it did or did not match, eligibility, schedule, coverage bucket and split "
        "scores, then the result with its reason and metadata.",
    )
    parser.add_argument("flag", metavar="FLAG", help="key of the flag to explain")
    parser.add_argument(
        "--context",
        metavar="JSON",
        type=arguments.context,
        default={},
        help="the evaluation context as a JSON object, '@FILE' to read it from a file or '-' "
        "from standard input; 'targetingKey' is the targeting key (default: {})",
    )
    parser.add_argument(
        "--flags", metavar="PATH", default="flags/", help="flag file or directory (default: flags/)"
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=arguments.moment,
        help="evaluate at this RFC 3339 time, e.g. 2026-11-15T12:00:00Z (default: the clock)",
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from modelflags.loader import load
    from modelflags.review.explain.explanation import explain
    from modelflags.review.explain.rendering import explanation_json, explanation_text

    now = time.time() if args.now is None else args.now
    explanation = explain(load(args.flags), args.flag, args.context, now=now)
    if args.format == "json":
        print_json(explanation_json(explanation))
    else:
        print_text(explanation_text(explanation))
    return 0
