"""Argument types shared by the subcommands: argparse ``type=`` callables.

A value that does not parse raises :class:`argparse.ArgumentTypeError`, which argparse turns
into a usage error (exit code 2) naming the option.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["LazyChoices", "add_edit_options", "context", "moment", "positive"]


def context(spec: str) -> dict[str, Any]:
    """An evaluation context: a JSON object, ``@FILE`` to read one, or ``-`` for stdin."""
    try:
        if spec == "-":
            text = sys.stdin.read()
        elif spec.startswith("@"):
            text = Path(spec[1:]).read_text(encoding="utf-8")
        else:
            text = spec
        value = json.loads(text)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot read {spec[1:]}: {error.strerror}") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8, deep nesting
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            'must be a JSON object of attributes, e.g. \'{"targetingKey": "user-1"}\''
        )
    return value


def moment(text: str) -> float:
    """An RFC 3339 time with a zone (``2026-11-15T12:00:00Z``), as epoch seconds."""
    example = "2026-11-15T12:00:00Z"
    try:  # RFC 3339 allows a lowercase t and z
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an RFC 3339 time: {text!r} (e.g. {example})"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a time zone: {text!r} (e.g. {example})")
    return parsed.timestamp()


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_edit_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that edits a flag file takes: where the flag is defined
    (``--file``, else found in ``--flags``) and ``--dry-run``."""
    parser.add_argument("--file", metavar="PATH", help="the YAML file that defines FLAG")
    parser.add_argument(
        "--flags",
        metavar="PATH",
        help="flag file or directory to find FLAG in when --file is not given (default: flags/)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff without writing the file"
    )


class LazyChoices(Collection[str]):
    """``choices=`` whose values are computed on first use: the module that owns them is then
    imported only when the option is given (``--help`` and runs without it stay fast)."""

    def __init__(self, load: Callable[[], Collection[str]]) -> None:
        self._load = load
        self._values: Collection[str] | None = None

    def _choices(self) -> Collection[str]:
        if self._values is None:
            self._values = self._load()
        return self._values

    def __contains__(self, value: object) -> bool:
        return value in self._choices()

    def __iter__(self) -> Iterator[str]:
        return iter(self._choices())

    def __len__(self) -> int:
        return len(self._choices())
