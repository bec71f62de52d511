"""Price tables: loading, costs that are never a made-up zero, every error at file:line:col,
and the ``unpriced-route`` warnings ``modelflags validate --prices`` reports."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.errors import FlagFileError, Issue
from modelflags.loader.prices import (
    UNPRICED_ROUTE,
    PriceFileError,
    load_prices,
    parse_prices,
    validate_prices,
)
from modelflags.schema.prices import ModelPrice, PriceTable

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "prices.yaml"

VALID = """\
version: 1
currency: USD
prices:
  model_a: {input_per_million: 0.5, output_per_million: 1.5}
  model_b: {input_per_million: 2, output_per_million: 8}
"""


def issues_of(text: str) -> list[Issue]:
    table, issues = parse_prices(text, "prices.yaml")
    assert table is None
    return issues


def only_issue(text: str) -> Issue:
    (issue,) = issues_of(text)
    return issue


def place(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) where ``needle`` first starts in ``text``."""
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


# -- loading and costs ---------------------------------------------------------------------


def test_the_example_price_table_prices_every_route_of_the_example_flags() -> None:
    assert validate_prices(EXAMPLE, flags=[ROOT / "flags"]) == []


def test_a_loaded_table_has_its_currency_prices_and_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(VALID)
    table = load_prices(path)
    assert (table.currency, table.file, sorted(table.prices)) == (
        "USD", str(path), ["model_a", "model_b"],
    )  # fmt: skip
    assert table.price("model_b") == ModelPrice(input_per_million=2, output_per_million=8)


def test_the_cost_is_each_token_count_times_its_price_per_million() -> None:
    table, _ = parse_prices(VALID)
    assert table is not None
    assert table.cost("model_a", 2_000, 1_000) == pytest.approx((2_000 * 0.5 + 1_000 * 1.5) / 1e6)


def test_a_route_without_a_price_costs_none_never_zero() -> None:
    table, _ = parse_prices(VALID)
    assert table is not None
    assert table.cost("model_z", 2_000, 1_000) is None


@pytest.mark.parametrize(("prompt", "completion"), [(None, 10), (10, None), (-1, 10), (1.5, 10)])
def test_a_missing_or_impossible_token_count_costs_none(prompt: object, completion: object) -> None:
    table, _ = parse_prices(VALID)
    assert table is not None
    assert table.cost("model_a", prompt, completion) is None  # type: ignore[arg-type]


@given(
    prompt=st.integers(0, 10**9),
    completion=st.integers(0, 10**9),
    input_price=st.floats(0, 1e6),
    output_price=st.floats(0, 1e6),
)
def test_any_priced_call_costs_a_finite_amount_of_zero_or_more(
    prompt: int, completion: int, input_price: float, output_price: float
) -> None:
    price = ModelPrice(input_per_million=input_price, output_per_million=output_price)
    cost = PriceTable("USD", {"m": price}).cost("m", prompt, completion)
    assert cost is not None and math.isfinite(cost) and cost >= 0


# -- located errors ------------------------------------------------------------------------


def test_a_negative_price_is_an_error_at_its_value() -> None:
    text = VALID.replace("output_per_million: 8", "output_per_million: -8")
    issue = only_issue(text)
    assert (issue.code, (issue.line, issue.col)) == ("negative-price", place(text, "-8"))
    assert "-8" in issue.message


@pytest.mark.parametrize("value", ['"0.5"', "cheap", "true", "null", "[1]"])
def test_a_price_that_is_not_a_number_is_an_error_at_its_value(value: str) -> None:
    text = VALID.replace("input_per_million: 0.5", f"input_per_million: {value}")
    issue = only_issue(text)
    assert (issue.code, (issue.line, issue.col)) == ("invalid-price", place(text, value))


def test_an_infinite_price_is_an_error_at_its_value() -> None:
    text = VALID.replace("input_per_million: 2,", "input_per_million: .inf,")
    issue = only_issue(text)
    assert (issue.code, (issue.line, issue.col)) == ("not-json", place(text, ".inf"))


def test_a_misspelt_key_is_an_error_at_the_key_with_a_suggestion() -> None:
    text = VALID.replace("input_per_million: 2,", "input_per_millon: 2,")
    issues = issues_of(text)
    unknown = next(issue for issue in issues if issue.code == "unknown-key")
    assert (unknown.line, unknown.col) == place(text, "input_per_millon")
    assert "did you mean 'input_per_million'?" in unknown.hint
    assert {issue.code for issue in issues} == {"unknown-key", "missing-key"}


def test_an_unknown_top_level_key_is_an_error_naming_the_allowed_keys() -> None:
    issue = only_issue(VALID + "rates: [EUR]\n")
    assert (issue.code, issue.location) == ("unknown-key", "prices.yaml:6:1")
    assert issue.hint == "allowed keys: version, currency, prices"


def test_a_missing_currency_is_an_error() -> None:
    issue = only_issue(VALID.replace("currency: USD\n", ""))
    assert (issue.code, issue.message) == ("missing-key", "missing required key 'currency'")


@pytest.mark.parametrize("currency", ["usd", "DOLLARS", "1"])
def test_a_currency_that_is_not_an_iso_code_is_an_error_at_its_value(currency: str) -> None:
    issue = only_issue(VALID.replace("currency: USD", f"currency: {currency}"))
    assert (issue.code, issue.line, issue.col) == ("invalid-value", 2, len("currency: ") + 1)


def test_another_version_is_an_error() -> None:
    issue = only_issue(VALID.replace("version: 1", "version: 2"))
    assert (issue.code, issue.line, issue.col) == ("invalid-value", 1, len("version: ") + 1)


def test_a_route_whose_prices_are_not_a_mapping_is_an_error_at_its_value() -> None:
    text = VALID + "  model_c: 0.5\n"
    issue = only_issue(text)
    assert (issue.code, (issue.line, issue.col)) == ("invalid-value", place(text, "0.5\n"))


def test_a_route_priced_twice_is_an_error_at_the_second() -> None:
    issue = only_issue(VALID + "  model_a: {input_per_million: 1, output_per_million: 1}\n")
    assert (issue.code, issue.line) == ("duplicate-key", 6)


def test_every_error_of_a_file_is_reported_at_once_in_file_order() -> None:
    text = VALID.replace("currency: USD", "currency: usd").replace(
        "output_per_million: 8", "output_per_million: -8"
    )
    issues = issues_of(text)
    assert [issue.code for issue in issues] == ["invalid-value", "negative-price"]
    assert [issue.line for issue in issues] == [2, 5]


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty-file"), ("- 1\n", "not-a-mapping"), ("prices: [\n", "yaml-syntax")],
    ids=["empty", "a-list", "broken-yaml"],
)
def test_a_file_that_is_no_price_table_is_one_located_error(text: str, code: str) -> None:
    issue = only_issue(text)
    assert (issue.code, issue.file) == (code, "prices.yaml") and issue.line >= 1


def test_load_prices_raises_every_located_error_as_a_flag_file_error(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(VALID.replace("version: 1", "version: 3"))
    with pytest.raises(PriceFileError) as raised:
        load_prices(path)
    assert isinstance(raised.value, FlagFileError)
    assert str(raised.value).startswith(f"{path}:1:10: [invalid-value]")


def test_a_missing_file_is_one_unreadable_prices_error(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError) as raised:
        load_prices(tmp_path / "nope.yaml")
    (issue,) = raised.value.issues
    assert issue.code == "unreadable-prices"


# -- validate --prices ---------------------------------------------------------------------


def test_validate_prices_reports_the_tables_errors(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(VALID.replace("0.5", "-0.5"))
    (issue,) = validate_prices(path, flags=[ROOT / "flags"])
    assert (issue.code, issue.severity) == ("negative-price", "error")


def test_validate_prices_warns_at_each_flag_route_the_table_does_not_price(
    tmp_path: Path,
) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(EXAMPLE.read_text().replace("support_model_b:", "support_model_z:"))
    (warning,) = validate_prices(path, flags=[ROOT / "flags"])
    assert (warning.code, warning.severity) == (UNPRICED_ROUTE, "warning")
    assert warning.file.endswith("support.yaml") and warning.line > 0
    assert "'support_model_b'" in warning.message


def test_validate_prices_skips_a_flag_source_that_does_not_load(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nflags: [\n")
    assert validate_prices(EXAMPLE, flags=[broken]) == []


def test_validate_prices_of_a_missing_file_is_one_error(tmp_path: Path) -> None:
    (issue,) = validate_prices(tmp_path / "nope.yaml")
    assert (issue.code, issue.file) == ("unreadable-prices", str(tmp_path / "nope.yaml"))
