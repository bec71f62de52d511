"""Rendering shared by the subcommands: ``--format text|json`` and error lines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_format", "print_error", "print_json"]


def add_format(parser: argparse.ArgumentParser) -> None:
    """Add ``--format text|json`` (text by default)."""
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def print_json(data: Any) -> None:
    """Structured output: indented, key order kept, one trailing newline."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_error(message: str) -> None:
    """A problem for people, on standard error."""
    sys.stderr.write(f"modelflags: {message}\n")
