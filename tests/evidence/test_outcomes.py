"""``evidence.outcome(...)``: metrics and attributes, and the join keys an outcome gets from
an evaluation result, from a bound provider, or from the context alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider, load_flags

FLAG = "answer_route"
CANDIDATE_UNIT = "c0"  # bucketed into "candidate"; "control" is the default variation


@pytest.fixture
def bound(flag_file: Path, evidence: Evidence) -> Evidence:
    """The evidence, bound to a provider serving the flag file."""
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, evidence=evidence, poll_interval=0))
    return evidence


def the_outcome(evidence: Evidence, memory: MemoryTracker) -> dict[str, Any]:
    assert evidence.flush()
    (event,) = memory.events
    return event


# -- metrics, value, attributes ------------------------------------------------------------


def test_numbers_and_booleans_are_metrics(evidence: Evidence, memory: MemoryTracker) -> None:
    evidence.outcome("resolved", FLAG, None, resolved=True, turns=3, score=0.75)
    event = the_outcome(evidence, memory)
    assert event["metrics"] == {"resolved": True, "turns": 3, "score": 0.75}
    assert event["attributes"] == {}


def test_other_metric_values_move_to_attributes(evidence: Evidence, memory: MemoryTracker) -> None:
    evidence.outcome("resolved", FLAG, None, turns=3, label="happy", tags=["a"], note=None)  # type: ignore[arg-type]
    event = the_outcome(evidence, memory)
    assert event["metrics"] == {"turns": 3}
    assert event["attributes"] == {"label": "happy", "tags": ["a"], "note": None}


def test_attributes_given_are_kept_beside_moved_ones(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    evidence.outcome("resolved", FLAG, None, attributes={"channel": "chat"}, label="happy")  # type: ignore[arg-type]
    event = the_outcome(evidence, memory)
    assert event["attributes"] == {"channel": "chat", "label": "happy"}


def test_a_numeric_value_is_kept(evidence: Evidence, memory: MemoryTracker) -> None:
    evidence.outcome("revenue", FLAG, None, value=12.5)
    assert the_outcome(evidence, memory)["value"] == 12.5


def test_a_value_that_is_not_a_number_is_left_empty(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    evidence.outcome("revenue", FLAG, None, value="a lot")  # type: ignore[arg-type]
    assert the_outcome(evidence, memory)["value"] is None


# -- join keys -----------------------------------------------------------------------------


def test_an_outcome_of_an_evaluation_result_carries_its_join_keys(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": CANDIDATE_UNIT})
    evidence.outcome("resolved", resolution, {"conversationId": CANDIDATE_UNIT})
    event = the_outcome(evidence, memory)
    assert (event["unitId"], event["variation"]) == (CANDIDATE_UNIT, "candidate")
    assert (event["experimentKey"], event["assignmentUnit"]) == ("route-test", "conversation")


def test_a_flag_key_is_evaluated_by_the_bound_provider(
    bound: Evidence, memory: MemoryTracker
) -> None:
    ctx = EvaluationContext(attributes={"conversationId": CANDIDATE_UNIT})
    bound.outcome("resolved", FLAG, ctx, resolved=True)
    event = the_outcome(bound, memory)
    assert (event["flagKey"], event["unitId"], event["variation"]) == (
        FLAG, CANDIDATE_UNIT, "candidate",
    )  # fmt: skip
    assert (event["experimentKey"], event["assignmentUnit"]) == ("route-test", "conversation")


def test_a_flag_key_with_a_plain_dict_context_is_evaluated_by_the_bound_provider(
    bound: Evidence, memory: MemoryTracker
) -> None:
    bound.outcome("resolved", FLAG, {"conversationId": CANDIDATE_UNIT}, resolved=True)
    event = the_outcome(bound, memory)
    assert (event["unitId"], event["variation"]) == (CANDIDATE_UNIT, "candidate")


def test_a_flag_key_the_provider_does_not_know_keeps_the_key_and_targeting_key(
    bound: Evidence, memory: MemoryTracker
) -> None:
    bound.outcome("resolved", "no_such_flag", EvaluationContext(targeting_key="user-3"))
    event = the_outcome(bound, memory)
    assert (event["flagKey"], event["unitId"], event["variation"]) == (
        "no_such_flag", "user-3", None,
    )  # fmt: skip


def test_without_a_provider_a_flag_key_gives_flag_and_targeting_key_only(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    evidence.outcome("resolved", FLAG, EvaluationContext(targeting_key="user-3"), resolved=True)
    event = the_outcome(evidence, memory)
    assert (event["flagKey"], event["unitId"]) == (FLAG, "user-3")
    assert (event["variation"], event["experimentKey"], event["assignmentUnit"]) == (
        None, None, None,
    )  # fmt: skip


def test_without_a_provider_the_targeting_key_of_a_dict_context_is_the_unit(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    evidence.outcome("resolved", FLAG, {"targetingKey": "user-4"})
    assert the_outcome(evidence, memory)["unitId"] == "user-4"


def test_an_unreadable_result_never_raises_into_the_application(
    evidence: Evidence, memory: MemoryTracker
) -> None:
    class Broken:
        flag_key = FLAG

        @property
        def flag_metadata(self) -> dict[str, Any]:
            raise RuntimeError("broken metadata")

    evidence.outcome("resolved", Broken(), None, resolved=True)
    evidence.outcome("resolved", FLAG, None, resolved=True)
    assert the_outcome(evidence, memory)["flagKey"] == FLAG
