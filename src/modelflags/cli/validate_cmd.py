"""``modelflags validate [PATHS...]``: every error and warning of each flag source, located."""

from __future__ import annotations

import argparse
import time

from modelflags.cli import arguments
from modelflags.cli.output import add_format, print_json, print_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check flag files: schema and semantic errors, warnings for likely mistakes",
        description="Load each flag source (a file, or a directory whose files are merged) "
        "and print every error as file:line:col: [code] message; hint. A source that loads is "
        "then checked for likely mistakes, printed as warnings: secrets in the file, unused "
        "segments, unreachable rules, one-arm splits, variations never served, an experiment "
        "control outside the split, zero coverage, a missing owner, a schedule that is over. "
        "A '# modelflags: ignore[CODE]' comment on a warning's line silences it. With "
        "--prices, a price table is checked too: its errors, and a warning for every model "
        "route a variation serves without a price. "
        "Exit status: 0 ok, 1 errors (or warnings with --strict), 2 usage error.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        default=["flags/"],
        help="flag file, directory or http(s) URL, each validated on its own (default: flags/)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too (for CI)")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        choices=arguments.LazyChoices(_ignorable_codes),
        help="do not report this warning code (repeatable)",
    )
    parser.add_argument(
        "--prices",
        metavar="FILE",
        help="also check this price table (errors) and warn at each variation whose "
        "modelRoute it does not price (unpriced-route)",
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=arguments.moment,
        help="judge schedules at this RFC 3339 time, e.g. 2026-12-01T00:00:00Z (default: the "
        "clock), so that a CI run gives the same answer on any day",
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from modelflags.review.validate.rendering import validation_json, validation_text
    from modelflags.review.validate.validation import validate

    now = time.time() if args.now is None else args.now
    validation = validate(args.paths, now=now, ignore=args.ignore, prices=args.prices)
    if args.format == "json":
        print_json(validation_json(validation, strict=args.strict))
    else:
        print_text(validation_text(validation))
    return 0 if validation.ok(strict=args.strict) else 1


def _ignorable_codes() -> tuple[str, ...]:
    """The warning codes ``--ignore`` accepts, imported only when ``--ignore`` is used."""
    from modelflags.review.validate.prices import IGNORABLE_CODES

    return IGNORABLE_CODES
