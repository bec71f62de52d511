"""``check_prices``: a price table's errors, and the routes it leaves unpriced as warnings that
``ignore=`` and ``# modelflags: ignore[...]`` comments silence like any other warning."""

from __future__ import annotations

from pathlib import Path

from modelflags.review.validate.lint import WARNING_CODES
from modelflags.review.validate.prices import IGNORABLE_CODES, check_prices

FLAGS = """\
version: 1
flags:
  route:
    owner: team
    default: a
    variations:
      a: {modelRoute: model_a}
      b: {modelRoute: model_b}
    split: {a: 50, b: 50}
"""
PRICES = """\
version: 1
currency: USD
prices:
  model_a: {input_per_million: 1, output_per_million: 2}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_route_without_a_price_is_a_warning_at_its_variation(tmp_path: Path) -> None:
    flags = write(tmp_path, "flags.yaml", FLAGS)
    report = check_prices(write(tmp_path, "prices.yaml", PRICES), flags=[flags])
    assert report.errors == ()
    assert [(w.code, w.file, w.line) for w in report.warnings] == [
        ("unpriced-route", str(flags), 8)
    ]
    assert (report.ok(), report.ok(strict=True)) == (True, False)


def test_ignore_drops_unpriced_routes(tmp_path: Path) -> None:
    flags = write(tmp_path, "flags.yaml", FLAGS)
    prices = write(tmp_path, "prices.yaml", PRICES)
    assert check_prices(prices, flags=[flags], ignore=["unpriced-route"]).warnings == ()


def test_an_ignore_comment_on_the_route_silences_it(tmp_path: Path) -> None:
    text = FLAGS.replace("{modelRoute: model_b}", "{modelRoute: model_b}  # modelflags: ignore")
    flags = write(tmp_path, "flags.yaml", text)
    assert check_prices(write(tmp_path, "prices.yaml", PRICES), flags=[flags]).warnings == ()


def test_an_invalid_table_is_an_error_and_not_ok(tmp_path: Path) -> None:
    flags = write(tmp_path, "flags.yaml", FLAGS)
    report = check_prices(write(tmp_path, "prices.yaml", "version: 1\n"), flags=[flags])
    assert report.errors and all(error.severity == "error" for error in report.errors)
    assert report.ok() is False


def test_every_flag_warning_and_unpriced_route_can_be_ignored() -> None:
    assert (*WARNING_CODES, "unpriced-route") == IGNORABLE_CODES
