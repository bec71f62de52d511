"""``modelflags schema``: print the JSON Schema of the flag file format."""

from __future__ import annotations

import argparse

from modelflags.cli.output import print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of flag files (for editors)",
        description="Print the JSON Schema of the flag file format, generated from the "
        "pydantic models. Point yaml-language-server at it with a "
        "'# yaml-language-server: $schema=...' comment.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from modelflags.schema.json_schema import flag_file_schema

    print_json(flag_file_schema())
    return 0
