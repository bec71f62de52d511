"""``modelflags rollback FLAG``: the kill switch as an edit (``state: off`` and ``default``)."""

from __future__ import annotations

import argparse

from modelflags.cli import arguments
from modelflags.cli.output import print_error, print_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="switch a flag off by editing its file (state: off, default), print the diff",
        description="Roll a flag back as an edit: set 'state: off' and 'default' to VARIATION "
        "(default: the flag's fallback, exclusions.serve; else a variation named 'fallback'; "
        "else its current default), changing only those two values and keeping every other "
        "byte of the file. The file is rewritten atomically and the unified diff printed; a "
        "running provider picks the edit up on its next poll.",
    )
    parser.add_argument("flag", metavar="FLAG", help="key of the flag to roll back")
    parser.add_argument("--to", metavar="VARIATION", help="variation to serve while off")
    arguments.add_edit_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from modelflags.review.rollback import rendering
    from modelflags.review.rollback.edit import rollback_flag

    edit = rollback_flag(  # a failed write raises; cli.main prints it and exits 1
        args.flag, args.to, file=args.file, flags=args.flags, dry_run=args.dry_run
    )
    if not edit.changed:
        print_error(rendering.no_change_message(edit))
        return 0
    print_text(rendering.edit_text(edit))
    return 0
