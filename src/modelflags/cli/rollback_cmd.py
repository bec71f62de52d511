"""``modelflags rollback FLAG``: the kill switch as an edit (``state: off`` and ``default``)."""

from __future__ import annotations

import argparse
import sys

from modelflags.cli import arguments
from modelflags.cli.output import print_error
from modelflags.review.flag_files import locate_flag, write_atomically
from modelflags.review.rollback import rollback_text

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
    location = locate_flag(args.flag, args.file, args.flags)
    edit = rollback_text(location.read(), location.file, args.flag, args.to, others=location.others)
    if not edit.changed:
        print_error(f"flag '{args.flag}' is already off serving '{edit.variation}'; no change")
        return 0
    if not args.dry_run:  # a failed write raises; cli.main prints it and exits 1
        write_atomically(location.file, edit.text.encode("utf-8"))
    sys.stdout.write(edit.diff)
    return 0
