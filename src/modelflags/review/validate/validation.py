"""One run of ``modelflags validate``: each flag source checked on its own, and optionally a
price table checked against them."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelflags.review.validate.source_report import SourceReport, check_source

if TYPE_CHECKING:
    from modelflags.review.validate.prices import PriceReport

__all__ = ["Validation", "validate"]


@dataclass(frozen=True)
class Validation:
    """What validating found: one report per source, in order, and the price table's."""

    sources: tuple[SourceReport, ...]
    prices: PriceReport | None = None

    def ok(self, *, strict: bool = False) -> bool:
        """No errors anywhere, and with ``strict`` no warnings either (the exit status)."""
        sources_ok = all(report.ok(strict=strict) for report in self.sources)
        return sources_ok and (self.prices is None or self.prices.ok(strict=strict))


def validate(
    paths: Sequence[str | os.PathLike[str]],
    *,
    now: float,
    ignore: Collection[str] = (),
    prices: str | os.PathLike[str] | None = None,
) -> Validation:
    """Check every flag source in ``paths`` at time ``now`` (epoch seconds) and, given
    ``prices``, that price table against them; never raises for bad input."""
    reports = tuple(check_source(path, now=now, ignore=ignore) for path in paths)
    if prices is None:  # the price table's reader is imported only when there is one
        return Validation(reports)
    from modelflags.review.validate.prices import check_prices

    return Validation(reports, check_prices(prices, flags=paths, ignore=ignore))
