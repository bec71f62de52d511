"""One request's attributes cannot stall an evaluation: hostile values of every kind, through
the real provider (the OpenFeature client) and the direct path, against every operator.

Each evaluation must return a resolution with a reason, the same on both paths, and the
documented result where a bound decides it. The timeouts only guard against a hang; the
cost per evaluation is measured separately (see the module ``hostile_values`` below and
the report of issue 9).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason

from modelflags import FlagSet, ModelFlagsProvider, load_flags
from modelflags.engine.operators import MAX_ARRAY_ITEMS
from modelflags.schema.regex_cost import MAX_REGEX_INPUT

# One flag per operator shape: its only rule tests attribute `a` and serves "hit".
RULES = {
    "eq_text": "beta",
    "in_list": {"$in": ["beta", "gamma", 5]},
    "nin_list": {"$nin": ["beta"]},
    "gt_number": {"$gt": 5},
    "lte_text": {"$lte": "m"},
    "eq_number": 1e308,
    "regex_linear": {"$regex": "@example\\.com$"},
    "regex_class": {"$regex": "\\w+@example\\.com$"},
    "regex_cubic": {"$regex": "a.*b.*c"},
    "regex_alternatives": {"$regex": "(?i)^(?:googlebot|bingbot|[a-z]+spider)"},
    "not_regex": {"$not": {"$regex": "@example\\.com$"}},
    "version": {"$vgte": "1.2.0"},
    "version_ne": {"$vne": "1.0.0"},
    "all_of": {"$all": ["x", {"$regex": "^b"}]},
    "elem_value": {"$elemMatch": {"$regex": "^beta"}},
    "elem_document": {"$elemMatch": {"name": "beta", "n": {"$gt": 1}}},
    "size": {"$size": {"$gt": 2}},
    "type": {"$type": "string"},
    "exists": {"$exists": True},
    "eq_object": {"$eq": {"k": [1, 2]}},
}
NESTED = {"a.b.c": 1}


def flag_file() -> str:
    import json

    flags: dict[str, Any] = {
        key: {
            "default": "miss",
            "variations": {"miss": "miss", "hit": "hit"},
            "rules": [{"when": {"a": condition}, "serve": "hit"}],
        }
        for key, condition in {**RULES}.items()
    }
    flags["nested_path"] = {
        "default": "miss",
        "variations": {"miss": "miss", "hit": "hit"},
        "rules": [{"when": NESTED, "serve": "hit"}],
    }
    flags["split_on_unit"] = {
        "default": "miss",
        "variations": {"miss": "miss", "hit": "hit"},
        "split": {"miss": 1, "hit": 1},
    }
    return json.dumps({"version": 1, "flags": flags}, indent=1)  # JSON is YAML 1.2


FLAG_KEYS = [*RULES, "nested_path", "split_on_unit"]


class Exploding(Mapping[str, Any]):
    """A mapping whose every read fails."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        raise RuntimeError("boom")


def deep(levels: int, leaf: Any, *, mapping: bool) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value, "b": value} if mapping else [value]
    return value


def hostile_values() -> dict[str, Any]:
    """Values a request can carry (after any JSON parsing), and some only code can make."""
    return {
        "digits_1m": "1" * 1_000_000,
        "digits_then_letter": "1" * 50_000 + "x",
        "decimal_points": "1." * 100_000,
        "plus_then_newline": "+" * 100_000 + "\n",
        "spaces_around_number": " " * 100_000 + "8" + " " * 100_000,
        "text_10mb_email": "x" * 10_000_000 + "@example.com",
        "regex_killer_a": "a" * 100_000 + "!",
        "regex_killer_ab": "ab" * 50_000,
        "regex_at_limit": "a" * (MAX_REGEX_INPUT - 1) + "!",
        "words_and_spaces": "word " * 200_000,
        "list_1m": ["x"] * 1_000_000 + ["beta"],
        "list_of_lists": [["x"] * 1000] * 1000,
        "list_of_dicts": [{"name": "x", "n": 5}] * 1_000_000,
        "list_of_long_texts": ["beta" + "x" * 10_000] * 1000,
        "deep_list": deep(100_000, "x", mapping=False),
        "deep_dict": deep(100_000, "x", mapping=True),
        "wide_dict": {f"k{i}": i for i in range(200_000)},
        "huge_int": 10**100_000,
        "negative_huge_int": -(10**100_000),
        "float_max": 1.7976931348623157e308,
        "inf": math.inf,
        "minus_inf": -math.inf,
        "nan": math.nan,
        "minus_zero": -0.0,
        "lone_surrogates": "\ud800" * 10_000,
        "combining_marks": "e\u0301" * 100_000,
        "bidi_and_bom": "\u202e\ufeff" * 50_000,
        "fullwidth_digits": "\uff11\uff12\uff13",
        "arabic_digits": "\u0663\u0664\u0665",
        "non_bmp": "\U0001d7d8" * 100_000,
        "nul_bytes": "\x00" * 100_000,
        "line_separators": "\u2028" * 100_000,
        "bytes": b"x" * 1_000_000,
        "set": {"beta", "x"},
        "tuple_1m": ("x",) * 1_000_000,
        "decimal": Decimal("1e100000"),
        "object": object(),
        "datetime_max": datetime.max.replace(tzinfo=timezone.utc),
        "date_min": date.min,
        "exploding_mapping": Exploding(),
        "nested_exploding": {"b": Exploding()},
    }


VALUES = hostile_values()


@pytest.fixture(scope="module")
def flags_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "flags.yaml"
    path.write_text(flag_file())
    return path


@pytest.fixture(scope="module")
def direct(flags_path: Path) -> FlagSet:
    return load_flags(flags_path)


@pytest.fixture
def client(flags_path: Path) -> Iterator[OpenFeatureClient]:
    api.set_provider_and_wait(ModelFlagsProvider(flags_path, poll_interval=0))
    yield api.get_client()
    api.shutdown()


def both_paths(
    client: OpenFeatureClient, direct: FlagSet, key: str, value: Any, unit: Any = "unit-1"
) -> str:
    """The variant served through the provider, checked against the direct path."""
    details = client.get_string_details(
        key, "caller-default", EvaluationContext(targeting_key=unit, attributes={"a": value})
    )
    resolution = direct.evaluate(key, {"targetingKey": unit, "a": value})
    assert details.reason is not None
    assert details.reason != Reason.ERROR, details.error_message
    assert (details.value, details.reason) == (resolution.value, resolution.reason)
    assert details.value in ("hit", "miss")
    return details.value


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(VALUES))
def test_every_operator_returns_for_a_hostile_value(
    client: OpenFeatureClient, direct: FlagSet, name: str
) -> None:
    for key in FLAG_KEYS:
        both_paths(client, direct, key, VALUES[name])


@pytest.mark.timeout(30)
def test_a_unit_id_at_the_bound_is_hashed_and_served(
    client: OpenFeatureClient, direct: FlagSet
) -> None:
    assert both_paths(client, direct, "split_on_unit", None, unit="u" * 1024) in ("hit", "miss")


@pytest.mark.timeout(30)
def test_a_huge_unit_id_is_an_invalid_context_on_both_paths(
    client: OpenFeatureClient, direct: FlagSet
) -> None:
    unit = "u" * 10_000_000
    details = client.get_string_details(
        "split_on_unit", "caller-default", EvaluationContext(targeting_key=unit)
    )
    resolution = direct.evaluate("split_on_unit", {"targetingKey": unit})
    assert (details.value, details.error_code) == ("caller-default", "INVALID_CONTEXT")
    assert resolution.error_code == "INVALID_CONTEXT"


@pytest.mark.timeout(30)
def test_a_unit_id_with_a_lone_surrogate_is_an_invalid_context(client: OpenFeatureClient) -> None:
    details = client.get_string_details(
        "split_on_unit", "caller-default", EvaluationContext(targeting_key="\ud800")
    )
    assert (details.value, details.reason) == ("caller-default", Reason.ERROR)


DOCUMENTED = [
    ("gt_number", "1" * 1_000_000, "miss"),  # text over 256 characters is not a number
    ("gt_number", " " * 300 + "8", "miss"),
    ("gt_number", "  8  ", "hit"),
    ("gt_number", math.nan, "miss"),
    ("gt_number", math.inf, "hit"),
    ("gt_number", 10**100_000, "hit"),
    ("gt_number", "\uff11\uff12\uff13", "miss"),  # JavaScript's Number() refuses these too
    ("eq_number", 1e308, "hit"),
    ("eq_number", 1.7976931348623157e308, "miss"),
    ("version", "1." * 100_000, "miss"),  # over 256 characters reads as "0"
    ("version", "v1.2.0+" + "x" * 200, "hit"),
    ("version_ne", "1." * 100_000, "hit"),
    ("regex_linear", "x" * 10_000_000 + "@example.com", "miss"),  # over the input limit
    ("regex_linear", "x" * 100 + "@example.com", "hit"),
    ("not_regex", "x" * 10_000_000 + "@example.com", "hit"),
    ("regex_cubic", "a" + "x" * 1_000 + "bc", "miss"),  # over this pattern's limit of 64
    ("regex_cubic", "a" + "x" * 10 + "bc", "hit"),
    ("in_list", ["x"] * MAX_ARRAY_ITEMS + ["beta"], "miss"),  # arrays over 1,000 elements
    ("in_list", ["x"] * (MAX_ARRAY_ITEMS - 1) + ["beta"], "hit"),
    ("nin_list", ["x"] * MAX_ARRAY_ITEMS + ["beta"], "hit"),
    ("eq_text", ["x"] * MAX_ARRAY_ITEMS + ["beta"], "miss"),
    ("elem_value", ["x"] * MAX_ARRAY_ITEMS + ["beta"], "miss"),
    ("size", ["x"] * 1_000_000, "hit"),  # $size still sees the length
    ("in_list", True, "miss"),
    ("in_list", 5.0, "hit"),
    ("nested_path", None, "miss"),
    ("type", "\ud800" * 10, "hit"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("key", "value", "served"),
    DOCUMENTED,
    ids=[f"{key}-{i}" for i, (key, _, _) in enumerate(DOCUMENTED)],
)
def test_the_bounds_give_their_documented_result(
    client: OpenFeatureClient, direct: FlagSet, key: str, value: Any, served: str
) -> None:
    assert both_paths(client, direct, key, value) == served
