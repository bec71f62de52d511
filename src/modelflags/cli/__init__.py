"""The ``modelflags`` command: parse arguments, call the library, render. No logic here.

Subcommands raise on bad input; :func:`main` prints the error (located issues of a flag
file, or one line) and exits 1, so every command reports failures the same way.

Exit codes: 0 ok, 1 findings or failure, 2 usage error. Every subcommand has ``--help``;
those with structured output take ``--format text|json``. ``modelflags --version`` prints
``modelflags <version>``.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence

from modelflags import __version__
from modelflags.cli import (
    diff_cmd,
    explain_cmd,
    promote_cmd,
    ramp_cmd,
    report_cmd,
    rollback_cmd,
    schema_cmd,
    validate_cmd,
)
from modelflags.cli.output import print_error, print_issues
from modelflags.errors import FlagFileError, ModelFlagsError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = (
    validate_cmd,
    explain_cmd,
    diff_cmd,
    report_cmd,
    rollback_cmd,
    ramp_cmd,
    promote_cmd,
    schema_cmd,
)
"""Every subcommand module, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="modelflags",
        description="Review flag files, read experiments, and ramp, promote or roll back.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    for stream in (sys.stdout, sys.stderr):  # text that cannot be encoded is escaped, not fatal
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors, 0 on --help
        return int(exit_.code or 0)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 1
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    except FlagFileError as error:  # every located issue, one line each
        print_issues(error)
        return 1
    except (ModelFlagsError, OSError, UnicodeDecodeError) as error:  # bad input, said plainly
        print_error(str(error))
        return 1
