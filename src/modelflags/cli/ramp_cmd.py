"""``modelflags ramp FLAG VARIATION PERCENT``: the next step of a ramp as an edit of the split."""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

from modelflags.cli import arguments
from modelflags.cli.output import print_error
from modelflags.review.diff_rendering import report_text
from modelflags.review.diff_report import DiffReport
from modelflags.review.flag_files import edit_report, locate_flag, write_atomically
from modelflags.review.ramp import RampEdit, RampError, parse_percent, ramp_text

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
    location = locate_flag(args.flag, args.file, args.flags)
    old = location.read()
    edit = ramp_text(
        old, location.file, args.flag, args.variation, args.percent,
        force=args.force, others=location.others,
    )  # fmt: skip
    percent = f"{args.percent.normalize():f}"
    if not edit.changed:
        print_error(f"'{args.variation}' already has {percent}% of the split; no change")
        return 0
    report = edit_report(location.file, old, edit.text, location.others, now=time.time())
    if not args.dry_run:  # a failed write raises; cli.main prints it and exits 1
        write_atomically(location.file, edit.text.encode("utf-8"))
    sys.stdout.write(edit.diff + "\n" + report_text(report))
    sys.stdout.write("".join(f"{line}\n" for line in _summary(edit, report, percent)))
    return 0


def _percent(text: str) -> Decimal:
    try:
        return parse_percent(text)
    except RampError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _summary(edit: RampEdit, report: DiffReport, percent: str) -> list[str]:
    """What the step did to the weights, and to each arm's units."""
    plan = edit.plan
    weights = ", ".join(
        f"{arm} {plan.before.get(arm, 0)} → {weight}" for arm, weight in plan.after.items()
    )
    lines = [f"Ramped '{plan.variation}' to {percent}% of the split: {weights}."]
    if not plan.exact_ratio:
        lines.append(
            f"Rounding: at a total of {plan.total:,} the other arms cannot keep their exact "
            "ratio; the blast radius shows the units that move between them."
        )
    radius = next((f.blast_radius for f in report.flags if f.key == edit.flag_key), None)
    if radius is not None:
        old_shares = radius.old_shares
        for (a, b), share in sorted(radius.matrix.items()):
            if a != b and share > 0 and old_shares.get(a, 0) > 0:
                of_a = share / old_shares[a]
                lines.append(f"{of_a:.1%} of the units in '{a}' move to '{b}'.")
    if plan.after[plan.variation] == plan.total:
        lines.append(
            f"Every unit in the split now gets '{plan.variation}': end the experiment with "
            f"'modelflags promote {edit.flag_key} {plan.variation}'."
        )
    return lines
