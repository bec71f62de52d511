"""A price table checked the way ``modelflags validate --prices`` checks it.

:func:`check_prices` reports the table's errors and an ``unpriced-route`` warning at each
flag variation whose ``modelRoute`` has no price (both found by
:func:`modelflags.loader.prices.validate_prices`), dropping the warnings that ``ignore=`` or a
``# modelflags: ignore[code]`` comment on their line silences, as for any other warning.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelflags.errors import Issue
from modelflags.loader.prices import UNPRICED_ROUTE, validate_prices
from modelflags.review.validate.lint import WARNING_CODES
from modelflags.review.validate.source_report import unsilenced

__all__ = ["IGNORABLE_CODES", "PriceReport", "check_prices"]

IGNORABLE_CODES = (*WARNING_CODES, UNPRICED_ROUTE)
"""Every warning ``modelflags validate`` reports, flag files and price table together."""


@dataclass(frozen=True)
class PriceReport:
    """What checking a price table found: its errors, and the routes it does not price."""

    path: str
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]

    def ok(self, *, strict: bool = False) -> bool:
        """No errors, and with ``strict`` no warnings either."""
        return not self.errors and not (strict and self.warnings)


def check_prices(
    path: str | os.PathLike[str],
    *,
    flags: Iterable[str | os.PathLike[str]] = (),
    ignore: Collection[str] = (),
) -> PriceReport:
    """Check the price table at ``path`` against the flag sources ``flags``; never raises for
    bad input (a table that cannot be read is one ``unreadable-prices`` error)."""
    issues = validate_prices(path, flags=flags)
    errors = tuple(issue for issue in issues if issue.severity == "error")
    found = [i for i in issues if i.severity != "error" and i.code not in ignore]
    warnings = tuple(unsilenced(found, _lines({issue.file for issue in found})))
    return PriceReport(os.fspath(path), errors, warnings)


def _lines(files: Iterable[str]) -> dict[str, Sequence[str]]:
    """The lines of each flag file a warning is in (none for one that cannot be read now)."""
    lines: dict[str, Sequence[str]] = {}
    for file in files:
        try:
            lines[file] = Path(file).read_bytes().decode("utf-8", "replace").splitlines()
        except OSError:
            lines[file] = ()
    return lines
