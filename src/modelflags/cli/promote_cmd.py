"""``modelflags promote FLAG VARIATION``: end an experiment with the winner as the default."""

from __future__ import annotations

import argparse
import sys
import time

from modelflags.cli import arguments
from modelflags.cli.output import print_error
from modelflags.review.diff_rendering import report_text
from modelflags.review.flag_files import edit_report, locate_flag, write_atomically
from modelflags.review.promote import PromoteEdit, promote_text

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
    location = locate_flag(args.flag, args.file, args.flags)
    old = location.read()
    edit = promote_text(old, location.file, args.flag, args.variation, others=location.others)
    if not edit.changed:
        print_error(f"flag '{args.flag}' already serves '{edit.variation}' without a split")
        return 0
    report = edit_report(
        location.file, old, edit.text, location.others,
        now=time.time(), contexts=args.context or (), samples=args.samples,
    )  # fmt: skip
    if not args.dry_run:  # a failed write raises; cli.main prints it and exits 1
        write_atomically(location.file, edit.text.encode("utf-8"))
    sys.stdout.write(edit.diff + "\n" + report_text(report))
    sys.stdout.write("".join(f"{line}\n" for line in _summary(edit)))
    return 0


def _summary(edit: PromoteEdit) -> list[str]:
    """What the promotion removed, in words."""
    removed = ", ".join(edit.removed_keys) or "nothing else"
    lines = [
        f"Promoted '{edit.variation}': default {edit.old_default} → {edit.variation}; "
        f"removed {removed}."
    ]
    if edit.removed_variations:
        losers = ", ".join(f"'{name}'" for name in edit.removed_variations)
        lines.append(f"Removed {losers}: nothing serves it any more (git revert brings it back).")
    if edit.experiment_key is not None:
        lines.append(f"Events no longer carry experiment key '{edit.experiment_key}'.")
    return lines
