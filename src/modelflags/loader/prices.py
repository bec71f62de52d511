"""Price table files → a :class:`PriceTable`, with every error at ``file:line:col``.

A price table is read with the same bounded YAML reader as flag files (duplicate keys,
tags, NaN and oversized documents are refused at their place), then validated by
:mod:`modelflags.schema.prices`. :func:`validate_prices` is what ``modelflags validate
--prices`` reports: the table's errors and, given the flag sources, a warning for every
model route a flag serves that the table does not price.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from modelflags.errors import FlagFileError, Issue, ModelFlagsError
from modelflags.loader.config import LoadedConfig, load
from modelflags.loader.yaml_document import MAX_FILE_BYTES, parse_yaml
from modelflags.schema.prices import PriceTable, price_issues

__all__ = [
    "UNPRICED_ROUTE",
    "PriceFileError",
    "load_prices",
    "parse_prices",
    "unpriced_routes",
    "validate_prices",
]

UNPRICED_ROUTE = "unpriced-route"
"""Warning code: a flag serves a ``modelRoute`` the price table has no price for."""

ROUTE_FIELD = "modelRoute"


class PriceFileError(FlagFileError):
    """A price table could not be loaded; ``issues`` holds every error found, located."""


def parse_prices(
    text: str | bytes, file: str = "<prices>"
) -> tuple[PriceTable | None, list[Issue]]:
    """Parse and validate price table text; the table only when there is no error.

    Never raises for any input: every problem is an issue placed in ``file``.
    """
    document, issues = parse_yaml(text, file)
    if document.data is None:
        return None, issues
    price_file, problems = price_issues(document.data)
    reported = {_place(issue) for issue in issues}  # a value YAML refused is not re-reported
    issues.extend(
        located for located in map(document.locate, problems) if _place(located) not in reported
    )
    if issues or price_file is None:
        return None, sorted(issues, key=_place)
    return PriceTable.from_file(price_file, file), []


def load_prices(path: str | os.PathLike[str]) -> PriceTable:
    """Read a price table file; raises :class:`PriceFileError` with every located error
    (a file that cannot be read is one ``unreadable-prices`` error at the path)."""
    name = os.fspath(path)
    table, issues = parse_prices(_read(name), name)
    if table is None:
        raise PriceFileError(issues)
    return table


def validate_prices(
    path: str | os.PathLike[str], *, flags: Iterable[str | os.PathLike[str]] = ()
) -> list[Issue]:
    """Every error of a price table file and, when it loads, an ``unpriced-route`` warning
    for each ``modelRoute`` a variation of the ``flags`` sources serves without a price.

    A flag source that does not load is skipped: its own errors are reported by validating
    it. Never raises for bad input.
    """
    name = os.fspath(path)
    try:
        table, issues = parse_prices(_read(name), name)
    except PriceFileError as error:
        return list(error.issues)
    if table is None:
        return issues
    warnings: list[Issue] = []
    for source in flags:
        try:
            loaded = load(source)
        except ModelFlagsError:
            continue
        warnings.extend(unpriced_routes(loaded, table))
    return warnings


def unpriced_routes(loaded: LoadedConfig, table: PriceTable) -> Iterator[Issue]:
    """An ``unpriced-route`` warning at each variation's ``modelRoute`` the table lacks."""
    for key, flag in loaded.config.flags.items():
        for variation, value in flag.variations.items():
            route = value.get(ROUTE_FIELD) if isinstance(value, dict) else None
            if not isinstance(route, str) or route in table:
                continue
            where = table.file or "the price table"
            issue = Issue(
                UNPRICED_ROUTE,
                f"variation '{variation}' serves model route '{route}', which {where} "
                "does not price: its calls are recorded with estimatedCost null",
                f"add '{route}' under prices in {where}",
                ("flags", key, "variations", variation, ROUTE_FIELD),
                severity="warning",
            )
            yield loaded.locate(issue)


def _read(name: str) -> bytes:
    """The file's bytes (bounded), or a :class:`PriceFileError` saying why not."""
    try:
        with Path(name).open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        issue = Issue("unreadable-prices", f"cannot read the price table: {reason}", "")
        raise PriceFileError([issue.at(name, 0, 0)]) from None
    return content


def _place(issue: Issue) -> tuple[str, int, int]:
    return issue.file, issue.line, issue.col
