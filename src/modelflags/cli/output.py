"""Rendering shared by the subcommands: ``--format text|json`` and error lines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modelflags.errors import FlagFileError

__all__ = ["add_format", "print_error", "print_issues", "print_json", "print_text"]


def add_format(parser: argparse.ArgumentParser) -> None:
    """Add ``--format text|json`` (text by default)."""
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def print_json(data: Any) -> None:
    """Structured output: indented, key order kept, one trailing newline."""
    print_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_text(text: str) -> None:
    """Output on standard output, written line by line.

    A reader that stops early (``modelflags validate | head -n 1``) closes the pipe while the
    command still writes; that must end the command with exit code 1. One large write can
    instead end in a partial write that Python reports as success, so the output is handed
    over in lines, as the terminal and the pipe buffer take them.
    """
    sys.stdout.writelines(text.splitlines(keepends=True))


def print_error(message: str) -> None:
    """A problem for people, on standard error."""
    sys.stderr.write(f"modelflags: {message}\n")


def print_issues(error: FlagFileError) -> None:
    """Every located issue of a flag source, one ``file:line:col: [code] ...`` line each."""
    for issue in error.issues:
        sys.stderr.write(f"{issue}\n")
