"""Assignment matches the golden vectors and the documented edge cases."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest

from modelflags.engine.bucketing import ArmScore, Split, in_coverage, unit_interval

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN_PATH = DATA / "bucketing_golden.json"
GOLDEN: list[dict[str, Any]] = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))["vectors"]
LONE_SURROGATE = "user-\ud800"


def _vector_id(vector: dict[str, Any]) -> str:
    return f"{vector['salt']}|{vector['unitId'][:24]!r}|{vector['coverage']}"


# -- golden vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("vector", GOLDEN, ids=_vector_id)
def test_golden_vector(vector: dict[str, Any]) -> None:
    unit_id, salt = vector["unitId"], vector["salt"]
    for tag, expected_u in vector["expectedU"].items():
        assert unit_interval(salt, tag, unit_id) == expected_u, tag
    assert in_coverage(salt, unit_id, vector["coverage"]) is vector["inCoverage"]
    split = Split(salt, vector["weights"])
    assert split.choose(unit_id) == vector["variation"]
    assert {arm.variation: arm.u for arm in split.scores(unit_id)} == {
        tag: u for tag, u in vector["expectedU"].items() if tag != "coverage"
    }


def test_golden_file_has_the_required_coverage_of_cases() -> None:
    assert len(GOLDEN) >= 200
    assert {v["coverage"] for v in GOLDEN} >= {0, 33.3, 100}
    assert any(len(v["unitId"]) == 1 for v in GOLDEN)
    assert any(len(v["unitId"]) > 200 for v in GOLDEN)
    assert any(not v["unitId"].isascii() for v in GOLDEN)
    assert any(len(v["weights"]) >= 20 for v in GOLDEN)
    assert any(0 in v["weights"].values() for v in GOLDEN)


def test_golden_winners_are_not_near_ties() -> None:
    # docs/assignment.md promises that any log accurate to a few ulps reproduces every vector.
    for vector in GOLDEN:
        scores = sorted(
            -math.log(vector["expectedU"][name]) / weight
            for name, weight in vector["weights"].items()
            if weight > 0
        )
        if len(scores) > 1:
            assert (scores[1] - scores[0]) / scores[1] > 0.01, vector["unitId"]


def test_golden_file_is_exactly_what_its_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("_make_golden", DATA / "make_bucketing_golden.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == GOLDEN_PATH.read_text(encoding="utf-8")


# -- unit_interval ----------------------------------------------------------------------------


def test_key_is_salt_tag_and_unit_joined_by_slashes() -> None:
    # The hash sees only the joined string, so a "/" moved between parts gives the same u.
    assert unit_interval("a/b", "c", "d") == unit_interval("a", "b/c", "d")
    assert unit_interval("a", "b", "c") != unit_interval("a", "c", "b")


def test_hash_is_read_unsigned() -> None:
    high = [v for v in GOLDEN if max(v["expectedHash"].values()) >= 2**31]
    assert high
    for vector in high:
        for tag, h in vector["expectedHash"].items():
            assert unit_interval(vector["salt"], tag, vector["unitId"]) == (h + 0.5) / 2**32


def test_unit_interval_is_strictly_inside_zero_one() -> None:
    for i in range(1000):
        u = unit_interval("s", "t", str(i))
        assert 0 < u < 1


def test_unit_id_that_is_not_utf8_encodable_raises_value_error_instead_of_crashing() -> None:
    # mmh3 5.3 segfaults when handed such a str directly; the module encodes first.
    with pytest.raises(UnicodeEncodeError):
        unit_interval("s", "coverage", LONE_SURROGATE)
    with pytest.raises(ValueError):
        Split("s", {"a": 1, "b": 1}).choose(LONE_SURROGATE)


# -- in_coverage ------------------------------------------------------------------------------


def test_full_coverage_admits_every_unit_without_hashing() -> None:
    assert in_coverage("s", LONE_SURROGATE, 100) is True


def test_zero_coverage_admits_no_unit_without_hashing() -> None:
    assert in_coverage("s", LONE_SURROGATE, 0) is False


def test_partial_coverage_compares_u_of_the_coverage_tag() -> None:
    for i in range(200):
        unit = f"user-{i}"
        expected = unit_interval("salt", "coverage", unit) < 0.333
        assert in_coverage("salt", unit, 33.3) is expected


# -- Split construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "weights",
    [{}, {"a": 0}, {"a": 0, "b": 0.0}, {"a": -1, "b": 2}, {"a": math.nan}, {"a": math.inf}],
    ids=["empty", "one-zero", "all-zero", "negative", "nan", "inf"],
)
def test_split_rejects_weights_without_a_positive_finite_choice(weights: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Split("s", weights)


@pytest.mark.parametrize("weight", [True, "1", None])
def test_split_rejects_non_numeric_weights(weight: Any) -> None:
    with pytest.raises(TypeError):
        Split("s", {"a": weight})


def test_split_is_immutable_and_slotted() -> None:
    split = Split("s", {"a": 1})
    with pytest.raises(AttributeError):
        split._salt = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del split._salt
    assert not hasattr(split, "__dict__")


def test_split_equality_and_repr_follow_salt_and_ordered_weights() -> None:
    assert Split("s", {"a": 1, "b": 2}) == Split("s", {"a": 1.0, "b": 2})
    assert hash(Split("s", {"a": 1, "b": 2})) == hash(Split("s", {"a": 1.0, "b": 2}))
    assert Split("s", {"a": 1, "b": 2}) != Split("s", {"b": 2, "a": 1})
    assert Split("s", {"a": 1}) != Split("t", {"a": 1})
    assert repr(Split("s", {"a": 1})) == "Split(salt='s', weights={'a': 1.0})"


def test_split_does_not_alias_the_caller_mapping() -> None:
    weights = {"a": 1, "b": 1}
    split = Split("s", weights)
    weights["a"] = 0
    assert split.weights == {"a": 1.0, "b": 1.0}


# -- Split.choose and Split.scores ------------------------------------------------------------


def test_single_variation_is_always_chosen() -> None:
    split = Split("s", {"only": 3})
    assert {split.choose(str(i)) for i in range(500)} == {"only"}


def test_zero_weight_variation_is_never_chosen() -> None:
    split = Split("s", {"off": 0, "on": 1, "also_off": 0})
    assert {split.choose(str(i)) for i in range(500)} == {"on"}


def test_exact_tie_goes_to_the_variation_declared_first() -> None:
    # With the smallest subnormal weight every score overflows to +inf: an exact tie for all.
    tiny = 5e-324
    assert Split("s", {"b": tiny, "a": tiny}).choose("u") == "b"
    assert Split("s", {"a": tiny, "b": tiny}).choose("u") == "a"


def test_choose_is_the_lowest_score_of_the_documented_formula() -> None:
    split = Split("salt", {"control": 90, "candidate": 10})
    for i in range(500):
        unit = f"user-{i}"
        scores = {
            v: -math.log(unit_interval("salt", v, unit)) / w for v, w in split.weights.items()
        }
        assert split.choose(unit) == min(scores, key=scores.__getitem__)


def test_scores_lists_every_variation_in_declaration_order() -> None:
    split = Split("s", {"c": 2, "off": 0, "a": 1})
    scores = split.scores("user-1")
    assert [arm.variation for arm in scores] == ["c", "off", "a"]
    assert all(isinstance(arm, ArmScore) for arm in scores)
    assert scores[1].score == math.inf
    assert scores[0].score == -math.log(scores[0].u) / 2
    assert scores[2].score == -math.log(scores[2].u) / 1
