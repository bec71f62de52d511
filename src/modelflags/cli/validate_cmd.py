"""``modelflags validate``: placeholder while it is being built (not committed as done)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("validate", help="(being built)")
    parser.set_defaults(run=lambda args: 1)
