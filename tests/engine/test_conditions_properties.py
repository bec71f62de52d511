"""Properties of compiled conditions that must hold for every context, checked with hypothesis."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelflags.engine.conditions import compile_condition
from modelflags.engine.versions import padded_version

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["pro", "free", "1.2.3", "1.2.3-beta", "10", "", "a@example.com"]),
    st.datetimes(timezones=st.just(timezone.utc)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "plan", "tags"]), inner, max_size=3),
    ),
    max_leaves=12,
)
attribute_maps = st.dictionaries(st.sampled_from(["a", "b", "plan", "tags", "v"]), values)
operand_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.sampled_from(["pro", "free", "", "a"]),
)

CONDITIONS: list[dict[str, Any]] = [
    {"a": "pro"},
    {"a": 1},
    {"a": True},
    {"a": None},
    {"a": [1, "x"]},
    {"a": {"b": 1}},
    {"a": {"$eq": "pro"}, "b": {"$ne": 1}},
    {"a": {"$lt": 3}, "b": {"$gte": "m"}},
    {"a": {"$in": ["pro", 1, True, None, [1], {"b": 1}]}},
    {"a": {"$nin": ["pro", 2]}},
    {"tags": {"$all": ["pro", {"$gt": 1}]}},
    {"tags": {"$elemMatch": {"$regex": "^p"}}},
    {"tags": {"$elemMatch": {"a": {"$exists": True}, "b.a": 1}}},
    {"tags": {"$size": {"$gte": 1}}},
    {"a": {"$exists": False}, "b": {"$type": "array"}},
    {"a": {"$regex": "@example\\.com$"}},
    {"v": {"$vgt": "1.2.3", "$vlte": "v2.0.0-rc.1"}},
    {"v": {"$veq": "1.2.3", "$vne": "1"}},
    {"a.b.a": {"$not": {"$in": [1, 2]}}},
    {"$or": [{"a": 1}, {"$and": [{"b": 2}, {"$nor": [{"plan": "pro"}]}]}]},
    {"$not": {"plan": {"$in": ["pro", "free"]}}},
]
compiled = [compile_condition(condition, {}) for condition in CONDITIONS]


@settings(max_examples=300)
@given(attribute_maps)
def test_predicates_return_a_bool_and_never_raise(attributes: dict[str, Any]) -> None:
    for predicate in compiled:
        assert predicate(attributes) in (True, False)


@settings(max_examples=300)
@given(st.sampled_from(CONDITIONS), attribute_maps)
def test_top_level_not_inverts_the_condition(condition: dict[str, Any], attributes: Any) -> None:
    plain = compile_condition(condition, {})
    negated = compile_condition({"$not": condition}, {})
    assert negated(attributes) is not plain(attributes)


@settings(max_examples=300)
@given(st.lists(operand_scalars, max_size=5), st.one_of(values, st.just(None)))
def test_nin_is_not_in(members: list[Any], value: Any) -> None:
    is_in = compile_condition({"a": {"$in": members}}, {})
    not_in = compile_condition({"a": {"$nin": members}}, {})
    assert not_in({"a": value}) is not is_in({"a": value})


@settings(max_examples=300)
@given(st.lists(operand_scalars, max_size=5), st.one_of(values, st.just(None)))
def test_nini_is_not_ini(members: list[Any], value: Any) -> None:
    is_in = compile_condition({"a": {"$ini": members}}, {})
    not_in = compile_condition({"a": {"$nini": members}}, {})
    assert not_in({"a": value}) is not is_in({"a": value})


cased_text = st.text(alphabet="aAbB\u00df\u0130\u0131\u03c3\u03a31 ", max_size=4)


@settings(max_examples=300)
@given(st.lists(st.one_of(operand_scalars, cased_text), max_size=5), st.one_of(values, cased_text))
def test_ini_is_in_on_lowered_text(members: list[Any], value: Any) -> None:
    lowered = [m.lower() if isinstance(m, str) else m for m in members]
    if isinstance(value, list):
        value_lowered: Any = [v.lower() if isinstance(v, str) else v for v in value]
    else:
        value_lowered = value.lower() if isinstance(value, str) else value
    ini = compile_condition({"a": {"$ini": members}}, {})
    plain_in = compile_condition({"a": {"$in": lowered}}, {})
    assert ini({"a": value}) is plain_in({"a": value_lowered})


@settings(max_examples=300)
@given(st.sampled_from(["^a", "b$", "(?i)x", "[ab]+c"]), st.one_of(values, cased_text))
def test_not_regex_forms_are_the_negations_of_the_regex_forms(pattern: str, value: Any) -> None:
    for positive, negative in (("$regex", "$notRegex"), ("$regexi", "$notRegexi")):
        plain = compile_condition({"a": {positive: pattern}}, {})
        negated = compile_condition({"a": {negative: pattern}}, {})
        assert negated({"a": value}) is not plain({"a": value})


@settings(max_examples=300)
@given(st.lists(operand_scalars, min_size=1, max_size=5), operand_scalars)
def test_in_on_a_scalar_is_the_or_of_strict_equalities(members: list[Any], value: Any) -> None:
    is_in = compile_condition({"a": {"$in": members}}, {})
    either = compile_condition({"$or": [{"a": {"$eq": m}} for m in members]}, {})
    assert is_in({"a": value}) is either({"a": value})


@settings(max_examples=300)
@given(operand_scalars, st.one_of(values, st.just(None)))
def test_ne_is_not_eq_and_field_not_inverts(operand: Any, value: Any) -> None:
    eq = compile_condition({"a": {"$eq": operand}}, {})
    ne = compile_condition({"a": {"$ne": operand}}, {})
    field_not = compile_condition({"a": {"$not": {"$eq": operand}}}, {})
    assert ne({"a": value}) is not eq({"a": value})
    assert field_not({"a": value}) is ne({"a": value})


@settings(max_examples=300)
@given(st.one_of(st.integers(), st.floats(allow_nan=False)), st.integers())
def test_booleans_never_equal_or_compare_with_numbers(number: float, bound: int) -> None:
    for flag in (True, False):
        assert compile_condition({"a": number}, {})({"a": flag}) is False
        assert compile_condition({"a": {"$gte": bound}}, {})({"a": flag}) is False
        assert compile_condition({"a": {"$lt": bound}}, {})({"a": flag}) is False


version_parts = st.lists(
    st.one_of(st.integers(min_value=0, max_value=99999).map(str), st.sampled_from(["alpha", "rc"])),
    min_size=1,
    max_size=5,
)
versions = version_parts.map(".".join)


@settings(max_examples=300)
@given(versions, versions)
def test_version_operators_agree_with_each_other(left: str, right: str) -> None:
    results = {
        op: compile_condition({"v": {op: right}}, {})({"v": left})
        for op in ("$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte")
    }
    assert results["$vne"] is not results["$veq"]
    assert results["$vlte"] is (results["$vlt"] or results["$veq"])
    assert results["$vgte"] is not results["$vlt"]
    assert results["$vgt"] is not results["$vlte"]
    assert (padded_version(left) < padded_version(right)) is results["$vlt"]


@given(st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=9999))
def test_numeric_version_parts_order_as_numbers(a: int, b: int) -> None:
    lower = compile_condition({"v": {"$vlt": f"1.{b}.0"}}, {})
    assert lower({"v": f"1.{a}.0"}) is (a < b)


@given(st.datetimes(timezones=st.just(timezone.utc)), st.datetimes(timezones=st.just(timezone.utc)))
def test_utc_datetimes_order_like_their_iso_text(a: datetime, b: datetime) -> None:
    bound = b.replace(microsecond=0)
    before = compile_condition({"at": {"$lt": bound}}, {})
    assert before({"at": a.replace(microsecond=0)}) is (a.replace(microsecond=0) < bound)
