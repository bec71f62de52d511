"""``modelflags promote FLAG VARIATION``: end an experiment with the winner as the default."""

from __future__ import annotations

import argparse
import time

from modelflags.cli import arguments
from modelflags.cli.output import print_error, print_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="end a flag's experiment with VARIATION as its default, by editing its file; "
        "print the diff and the blast radius",
        description="End an experiment as an edit: set 'default: VARIATION' and remove "
        "split, coverage, schedule and experiment, and the losing arms nothing serves any "
        "more; state, assignment, exclusions, rules, eligible and metadata stay. Every other "
        "byte of the file is kept and the result passes 'modelflags validate --strict'. The "
        "file is rewritten atomically, and the diff and the blast radius (as modelflags diff "
        "computes it) are printed. Exit status: 0 ok (or no change), 1 refused or failed, 2 "
        "usage error.",
    )
    parser.add_argument("flag", metavar="FLAG", help="key of the flag whose experiment ends")
    parser.add_argument("variation", metavar="VARIATION", help="the winning arm")
    arguments.add_edit_options(parser)
    parser.add_argument(
        "--context",
        metavar="JSON",
        action="append",
        type=arguments.context,
        help="attributes of the synthetic units used when the blast radius is sampled (as "
        "for modelflags diff); repeat to mix kinds of traffic",
    )
    parser.add_argument(
        "--samples",
        metavar="N",
        type=arguments.positive,
        default=100_000,
        help="synthetic units when the blast radius is sampled (default: 100000)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from modelflags.review.promote import rendering
    from modelflags.review.promote.edit import promote_flag

    outcome = promote_flag(  # a failed write raises; cli.main prints it and exits 1
        args.flag, args.variation,
        now=time.time(), contexts=args.context or (), samples=args.samples,
        file=args.file, flags=args.flags, dry_run=args.dry_run,
    )  # fmt: skip
    if not outcome.edit.changed:
        print_error(rendering.no_change_message(outcome.edit))
        return 0
    print_text(rendering.edit_text(outcome))
    return 0
