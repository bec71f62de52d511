"""The framework-free core both middlewares use (modelflags.integrations.web): where a unit
comes from, which values are refused, and the context a reading becomes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from modelflags.integrations.web import MAX_VALUE, Reading, UnitFrom, UnitReader, value_text


@dataclass
class Values:
    """A request's values, as an adapter hands them to the reader."""

    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def cookie(self, name: str) -> str | None:
        return self.cookies.get(name)

    def path_param(self, name: str) -> object:
        return self.params.get(name)


ALL = UnitFrom(header="X-Conv", cookie="conv", path_param="conv_id", attribute="conversationId")


def test_sources_are_tried_path_then_header_then_cookie() -> None:
    assert ALL.sources == (("path_param", "conv_id"), ("header", "x-conv"), ("cookie", "conv"))


def test_header_names_are_matched_in_lower_case() -> None:
    unit = UnitFrom(header="  X-Conversation-Id ", headers={"plan": "X-Plan"})
    assert unit.header == "x-conversation-id"
    assert dict(unit.headers) == {"plan": "x-plan"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "at least one of"),
        ({"header": ""}, "non-empty string"),
        ({"cookie": 3}, "non-empty string"),
        ({"header": "X-A", "attribute": ""}, "attribute="),
        ({"header": "X-A", "headers": {"plan": ""}}, "not a header name"),
        ({"header": "X-A", "headers": ["X-Plan"]}, "maps attribute names"),
        ({"header": "X-A", "attribute": "plan", "headers": {"plan": "X-Plan"}}, "both the unit"),
    ],
)
def test_a_unit_from_that_cannot_work_is_refused_when_made(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        UnitFrom(**options)


def test_settings_with_an_unknown_key_name_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown unit setting\(s\) \['heder'\]; known: header"):
        UnitFrom.from_mapping({"heder": "X-Conv"})


def test_settings_become_the_same_unit_from_as_keywords() -> None:
    config = {"cookie": "conv", "attribute": "conversationId"}
    assert UnitFrom.from_mapping(config) == UnitFrom(cookie="conv", attribute="conversationId")


def test_the_first_present_source_wins() -> None:
    reading = UnitReader(ALL).read(Values(headers={"x-conv": "h"}, cookies={"conv": "c"}))
    assert (reading.unit, reading.source) == ("h", "header x-conv")


def test_an_empty_value_counts_as_absent_and_is_not_refused() -> None:
    reader = UnitReader(ALL)
    reading = reader.read(Values(headers={"x-conv": ""}, cookies={"conv": "c"}))
    assert reading.unit == "c"
    assert reader.counters == {"rejected": 0}


@pytest.mark.parametrize(
    "raw",
    ["x" * (MAX_VALUE + 1), "conv-\ud800", 1.5, True, ["a"]],
    ids=["too-long", "lone-surrogate", "float", "bool", "list"],
)
def test_a_value_that_is_no_unit_id_is_refused_and_counted(raw: object) -> None:
    reader = UnitReader(ALL)
    reading = reader.read(Values(params={"conv_id": raw}, cookies={"conv": "c"}))
    assert reading.unit == "c"  # the next source
    assert reader.counters == {"rejected": 1}


def test_an_over_long_extra_attribute_is_left_out() -> None:
    reader = UnitReader(UnitFrom(header="X-Conv", headers={"plan": "X-Plan"}))
    reading = reader.read(Values(headers={"x-conv": "c", "x-plan": "p" * (MAX_VALUE + 1)}))
    assert reading.attributes == {}
    assert reader.counters == {"rejected": 1}


@pytest.mark.parametrize(
    ("raw", "text"),
    [("conv-1", "conv-1"), (42, "42"), (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001")],
)
def test_strings_integers_and_uuids_are_unit_ids(raw: object, text: str) -> None:
    assert value_text(raw) == text


def test_a_reading_keyed_on_the_targeting_key_sets_it() -> None:
    context = Reading("u1", "header x-user", {"plan": "pro"}).context()
    assert context is not None
    assert (context.targeting_key, dict(context.attributes)) == ("u1", {"plan": "pro"})


def test_a_reading_keyed_on_an_attribute_sets_that_attribute_only() -> None:
    context = Reading("c1", "header x-conv", {}).context("conversationId")
    assert context is not None
    assert (context.targeting_key, dict(context.attributes)) == (None, {"conversationId": "c1"})


def test_a_reading_with_nothing_gives_no_context() -> None:
    assert Reading(None, None, {}).context("conversationId") is None
