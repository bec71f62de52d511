"""``modelflags ramp FLAG VARIATION PERCENT``: the next step of a ramp as an edit of the split."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from modelflags.cli import arguments
from modelflags.cli.output import print_error, print_text

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ramp",
        help="give one arm PERCENT%% of a flag's split by editing its file; print the diff "
        "and the blast radius",
        description="The next step of a ramp as an edit: VARIATION gets PERCENT%% of the "
        "flag's split and the other arms share the rest in their old relative weights "
        "(integer weights on the smallest total of 100, 1000, ... that writes PERCENT "
        "exactly). Only the weights change; every other byte of the file is kept. Raising an "
        "arm this way only moves units into it; a step that would move units out of it is "
        "refused unless --force. The file is rewritten atomically, and the diff and the blast "
        "radius (as modelflags diff computes it) are printed. Exit status: 0 ok (or no "
        "change), 1 refused or failed, 2 usage error.",
    )
    parser.add_argument("flag", metavar="FLAG", help="key of the flag to ramp")
    parser.add_argument("variation", metavar="VARIATION", help="the arm to ramp")
    parser.add_argument(
        "percent", metavar="PERCENT", type=_percent, help="its new share of the split, 0 to 100"
    )
    arguments.add_edit_options(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="allow a step that lowers VARIATION's share (moves units out of it)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from modelflags.review.ramp import rendering
    from modelflags.review.ramp.edit import ramp_flag

    outcome = ramp_flag(  # a failed write raises; cli.main prints it and exits 1
        args.flag, args.variation, args.percent,
        now=time.time(), force=args.force, file=args.file, flags=args.flags,
        dry_run=args.dry_run,
    )  # fmt: skip
    if not outcome.edit.changed:
        print_error(rendering.no_change_message(outcome.edit))
        return 0
    print_text(rendering.edit_text(outcome))
    return 0


def _percent(text: str) -> Decimal:
    """PERCENT as the ramp plan reads it; a usage error (exit 2) when it does not parse."""
    from modelflags.review.ramp.plan import RampError, parse_percent

    try:
        return parse_percent(text)
    except RampError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
