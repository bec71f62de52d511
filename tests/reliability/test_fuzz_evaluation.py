"""Random valid flag documents and random contexts, through loader, engine and provider:
evaluation never raises, the provider always answers with a reason, and the direct path and
the provider agree."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagEvaluationDetails, Reason

from modelflags import FlagSet, ModelFlagsProvider
from modelflags.loader import InlineSource

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow], deadline=None)
CONTEXTS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)

ATTRIBUTES = ["plan", "country", "n", "tags", "email", "version", "user.plan", "items"]
SAFE_REGEXES = ["^pro", "@example\\.com$", "(?i)beta", "a.*b", "^[a-z]+$", "\\d{3}"]
TYPE_NAMES = ["string", "number", "boolean", "array", "object", "null"]

text = st.text(alphabet="abcxyz-_.@ 0123456789", max_size=8)
numbers = st.one_of(
    st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)


def operator_mappings(depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    simple = st.one_of(
        st.builds(lambda v: {"$eq": v}, json_values),
        st.builds(lambda v: {"$ne": v}, scalars),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]),
                  st.one_of(numbers, text)),
        st.builds(lambda v: {"$in": v}, st.lists(scalars, max_size=4)),
        st.builds(lambda v: {"$nin": v}, st.lists(scalars, max_size=4)),
        st.builds(lambda v: {"$regex": v}, st.sampled_from(SAFE_REGEXES)),
        st.builds(lambda v: {"$exists": v}, st.booleans()),
        st.builds(lambda v: {"$type": v}, st.sampled_from(TYPE_NAMES)),
        st.builds(lambda v: {"$size": v}, st.integers(0, 3)),
        st.builds(lambda v: {"$all": v}, st.lists(scalars, max_size=3)),
        st.builds(lambda v: {"$elemMatch": {"$eq": v}}, scalars),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$veq", "$vgt", "$vlte", "$vne"]),
                  st.sampled_from(["1.2.3", "v2.0.0-beta", "0", "10.1"])),
    )  # fmt: skip
    if depth >= 1:
        return simple
    return st.one_of(simple, st.builds(lambda v: {"$not": v}, operator_mappings(depth + 1)))


def conditions(segments: list[str], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    field = st.dictionaries(
        st.sampled_from(ATTRIBUTES), st.one_of(json_values, operator_mappings()), max_size=3
    )
    if depth >= 2:
        return field
    nested = st.lists(conditions(segments, depth + 1), max_size=2)
    options: list[st.SearchStrategy[dict[str, Any]]] = [
        field,
        st.builds(lambda c: {"$and": c}, nested),
        st.builds(lambda c: {"$or": c}, nested),
        st.builds(lambda c: {"$nor": c}, nested),
        st.builds(lambda c: {"$not": c}, conditions(segments, depth + 1)),
    ]
    if segments:
        options.append(st.builds(lambda s: {"$segment": s}, st.sampled_from(segments)))
        options.append(st.builds(lambda s: {"$notSegment": s}, st.sampled_from(segments)))
    return st.one_of(options)


VARIATION_VALUES = {
    "string": text,
    "boolean": st.booleans(),
    "integer": st.integers(-100, 100),
    "float": st.floats(-10, 10, allow_nan=False, allow_infinity=False),
    "object": st.dictionaries(text, json_values, max_size=3),
}


@st.composite
def flag_documents(draw: st.DrawFn) -> dict[str, Any]:
    segment_names = draw(st.lists(st.sampled_from(["seg_a", "seg_b"]), unique=True, max_size=2))
    segments = {name: draw(conditions([])) for name in segment_names}
    flags: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(VARIATION_VALUES)))
        names = draw(
            st.lists(st.sampled_from(["control", "candidate", "fallback", "off", "v2"]),
                     min_size=1, max_size=4, unique=True)
        )  # fmt: skip
        variations = {name: draw(VARIATION_VALUES[kind]) for name in names}
        weights = st.dictionaries(st.sampled_from(names), st.integers(1, 5), min_size=1)
        flag: dict[str, Any] = {
            "default": draw(st.sampled_from(names)),
            "variations": variations,
            "state": draw(st.sampled_from(["on", "on", "off"])),
        }
        rules = []
        for _ in range(draw(st.integers(0, 3))):
            rule: dict[str, Any] = {"when": draw(conditions(segment_names))}
            if draw(st.booleans()):
                rule["serve"] = draw(st.sampled_from(names))
            else:
                rule["split"] = draw(weights)
            rules.append(rule)
        flag["rules"] = rules
        if draw(st.booleans()):
            flag["split"] = draw(weights)
        if draw(st.booleans()):
            flag["coverage"] = draw(st.floats(0, 100))
        if segment_names and draw(st.booleans()):
            flag["eligible"] = draw(st.sampled_from(segment_names))
        elif draw(st.booleans()):
            flag["eligible"] = draw(conditions(segment_names))
        if draw(st.booleans()):
            flag["assignment"] = {"key": draw(st.sampled_from(["userId", "n", "plan"]))}
        if draw(st.booleans()):
            flag["schedule"] = {"start": "2020-01-01T00:00:00Z", "end": "2090-01-01T00:00:00Z"}
        flags[f"flag_{index}_{kind}"] = flag
    return {"version": 1, "segments": segments, "flags": flags}


context_values = st.one_of(
    json_values,
    st.just("x" * 5000),
    st.just(["beta"] * 1500),
    st.just(math.nan),
    st.just(math.inf),
    st.just(10**400),
    st.just("\ud800"),
    st.just(date(2026, 11, 1)),
    st.just(datetime(2026, 11, 1, tzinfo=timezone.utc)),
    st.just("1." * 300),
)
# OpenFeature's targeting key is text (its client drops a falsy one such as 0 when it merges
# contexts); integer unit ids are tried through `assignment.key` attributes instead.
contexts = st.tuples(
    st.one_of(st.none(), text, st.just(""), st.just("\ud800")),
    st.dictionaries(
        st.sampled_from([*ATTRIBUTES, "userId", "user"]),
        st.one_of(context_values, st.integers(-5, 5)),
        max_size=5,
    ),
)


def provider_details(key: str, kind: str, context: EvaluationContext) -> FlagEvaluationDetails[Any]:
    client = api.get_client()
    if kind == "string":
        return client.get_string_details(key, "caller-default", context)
    if kind == "boolean":
        return client.get_boolean_details(key, False, context)
    if kind == "integer":
        return client.get_integer_details(key, -999, context)
    if kind == "float":
        return client.get_float_details(key, -999.5, context)
    return client.get_object_details(key, {"caller": "default"}, context)


def check_agreement(flags: FlagSet, unit: Any, attributes: dict[str, Any]) -> None:
    context = EvaluationContext(targeting_key=unit, attributes=attributes)
    for key in flags.flags:
        kind = key.rsplit("_", 1)[-1] if key.startswith("flag_") else flags.flags[key].kind
        details = provider_details(key, kind, context)
        resolution = flags.evaluate(key, {**attributes, "targetingKey": unit})
        assert details.reason is not None
        assert resolution.reason is not None
        assert (details.variant if details.error_code is None else resolution.variant) == (
            resolution.variant
        )
        assert details.reason == resolution.reason, (key, details, resolution)
        if details.error_code is None:
            assert details.value == resolution.value
        else:
            assert details.reason == Reason.ERROR


@FUZZ
@given(flag_documents(), st.lists(contexts, min_size=1, max_size=4))
def test_random_flags_and_contexts_evaluate_the_same_on_both_paths(
    document: dict[str, Any], samples: list[tuple[Any, dict[str, Any]]]
) -> None:
    provider = ModelFlagsProvider(InlineSource(json.dumps(document)), poll_interval=0)
    api.set_provider_and_wait(provider)  # JSON is YAML 1.2: the document loads as written
    try:
        assert provider.flags is not None
        for unit, attributes in samples:
            check_agreement(provider.flags, unit, attributes)
    finally:
        api.shutdown()


REPO_PROVIDER = ModelFlagsProvider(ROOT / "flags", poll_interval=0)


@CONTEXTS
@given(contexts)
def test_random_contexts_on_the_repository_flags_agree_on_both_paths(
    sample: tuple[Any, dict[str, Any]],
) -> None:
    if api.get_provider_metadata().name != "modelflags" or REPO_PROVIDER.flags is None:
        api.set_provider_and_wait(REPO_PROVIDER)  # once per test run: loading is the slow part
    assert REPO_PROVIDER.flags is not None
    check_agreement(REPO_PROVIDER.flags, *sample)
