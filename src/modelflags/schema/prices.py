"""The price table format: what one model route costs per million tokens, in one currency.

A price table is a YAML file, reviewed like the flag files it prices::

    version: 1
    currency: USD
    prices:
      support_model_a: {input_per_million: 0.50, output_per_million: 1.50}
      support_model_b: {input_per_million: 0.15, output_per_million: 0.60}

Keys under ``prices`` are ``modelRoute`` values, exactly as the flag variations write them.
The models check shape and types only, with pydantic; :func:`price_issues` turns its errors
into issues with document paths, which the loader places at ``file:line:col``. No I/O here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from modelflags.errors import Issue, Path, did_you_mean

__all__ = ["TOKENS_PER_PRICE", "ModelPrice", "PriceFile", "PriceTable", "price_issues"]

TOKENS_PER_PRICE = 1_000_000
"""Prices are per million tokens, as model vendors quote them."""

Price = Annotated[StrictInt | StrictFloat, Field(ge=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelPrice(_Model):
    """What one model route costs, per million tokens, in the table's currency."""

    input_per_million: Price = Field(description="Price of one million prompt (input) tokens.")
    output_per_million: Price = Field(
        description="Price of one million completion (output) tokens."
    )


class PriceFile(_Model):
    """A price table file: its format version, its currency and a price per model route."""

    version: Literal[1] = Field(description="Format version; always 1.")
    currency: str = Field(
        pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every price, e.g. USD or EUR."
    )
    prices: dict[str, ModelPrice] = Field(description="modelRoute -> its prices.")


@dataclass(frozen=True)
class PriceTable:
    """Prices by model route, and the cost of one call from its token counts.

    >>> table = PriceTable("USD", {"m": ModelPrice(input_per_million=1, output_per_million=2)})
    >>> table.cost("m", 1000, 500)
    0.002
    >>> table.cost("unknown", 1000, 500) is None
    True
    """

    currency: str
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    file: str = ""

    @classmethod
    def from_file(cls, price_file: PriceFile, file: str = "") -> PriceTable:
        """The table of a validated price file (``file``: where it was read from)."""
        return cls(price_file.currency, dict(price_file.prices), file)

    def __contains__(self, model_route: object) -> bool:
        return model_route in self.prices

    def price(self, model_route: str) -> ModelPrice | None:
        """The prices of ``model_route``, or None when the table has none."""
        return self.prices.get(model_route)

    def cost(
        self, model_route: str, prompt_tokens: int | None, completion_tokens: int | None
    ) -> float | None:
        """The cost of one call, in :attr:`currency`; None when it cannot be known.

        None (never zero) for a route without a price, and for a token count that is
        missing, negative or not a whole number: an unpriced call is not a free one.
        """
        price = self.prices.get(model_route)
        if price is None or not (_is_count(prompt_tokens) and _is_count(completion_tokens)):
            return None
        cost = (
            prompt_tokens * price.input_per_million  # type: ignore[operator]
            + completion_tokens * price.output_per_million  # type: ignore[operator]
        ) / TOKENS_PER_PRICE
        return cost if math.isfinite(cost) else None


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def price_issues(data: object) -> tuple[PriceFile | None, list[Issue]]:
    """Validate parsed data as a price file; the model is returned only without issues.

    Issues carry document paths (``("prices", "support_model_a", "input_per_million")``);
    the loader places them in the file.
    """
    if not isinstance(data, dict):
        return None, [Issue("not-a-mapping", "a price table must be a YAML mapping", "", ())]
    try:
        return PriceFile.model_validate(data), []
    except ValidationError as error:
        return None, _issues(error)


def _issues(error: ValidationError) -> list[Issue]:
    # pydantic reports a price once per branch of ``StrictInt | StrictFloat``, the branch's
    # label last in ``loc``; one issue per place, from the branch that says the most.
    found: dict[Path, tuple[str, object]] = {}
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        path: Path = tuple(loc[:3]) if loc and loc[0] == "prices" else tuple(loc)
        kind = detail["type"]
        if path not in found or _RANK.get(kind, 0) > _RANK.get(found[path][0], 0):
            found[path] = (kind, detail.get("input"))
    return [_issue(kind, value, path) for path, (kind, value) in found.items()]


_RANK = {"greater_than_equal": 2, "finite_number": 2, "int_type": 1, "float_type": 1}
"""Which of a price's union-branch errors to report: a sign beats a type."""


def _issue(kind: str, value: object, path: Path) -> Issue:
    name = str(path[-1]) if path else ""
    if kind == "extra_forbidden":
        known = _known_keys(path)
        hint = did_you_mean(name, known) or f"allowed keys: {', '.join(known)}"
        return Issue("unknown-key", f"unknown key '{name}'", hint, path)
    if kind == "missing":
        return Issue("missing-key", f"missing required key '{name}'", "", path)
    if len(path) == 3:
        return _price_issue(kind, value, path)
    if len(path) == 2:
        message = f"the prices of '{name}' must be a mapping, not {_shown(value)}"
        hint = "e.g. {input_per_million: 0.5, output_per_million: 1.5}"
        return Issue("invalid-value", message, hint, path)
    if name == "currency":
        message = f"currency must be a three-letter ISO 4217 code, not {_shown(value)}"
        return Issue("invalid-value", message, "e.g. currency: USD", path)
    if name == "version":
        return Issue("invalid-value", f"version must be 1, not {_shown(value)}", "", path)
    message = f"prices must be a mapping of model routes to their prices, not {_shown(value)}"
    return Issue("invalid-value", message, "", path)


def _price_issue(kind: str, value: object, path: Path) -> Issue:
    if kind == "greater_than_equal":
        message = f"a price must be zero or more, not {_shown(value)}"
        return Issue("negative-price", message, "prices are per million tokens", path)
    if kind == "finite_number":
        return Issue(
            "invalid-price", f"a price must be a finite number, not {_shown(value)}", "", path
        )
    message = f"a price must be a number, not {_shown(value)}"
    return Issue("invalid-price", message, "write it without quotes or units, e.g. 0.5", path)


def _shown(value: object) -> str:
    """A value as the YAML reader saw it, in JSON spelling (``true``, ``null``, ``"abc"``)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _known_keys(path: Path) -> list[str]:
    """The keys allowed beside the unknown key at ``path``."""
    if len(path) == 1:
        return list(PriceFile.model_fields)
    return list(ModelPrice.model_fields)
