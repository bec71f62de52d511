"""The route a fallback ran, when the evidence is not bound to a provider: it is read through
the live providers that know the flag; when none can tell (or they disagree), the exposure's
route fields stay empty and a warning, once per flag, says how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from readback import detail, warnings

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider, load_flags

FLAG = "answer_route"
CANDIDATE_UNIT = "c0"  # bucketed into "candidate" by the flag's salt
SAFE_ROUTE = ("model_small", "v3", "safe")  # the fallback variation of tests/evidence FLAGS


def route(event: dict[str, Any]) -> tuple[Any, Any, Any]:
    return event["modelRoute"], event["promptVersion"], event["retrievalProfile"]


def fallback_exposure(
    evidence: Evidence, memory: MemoryTracker, flag_file: Path, variation: str = "fallback"
) -> dict[str, Any]:
    """A direct-path exposure of the candidate unit that fell back to ``variation``."""
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": CANDIDATE_UNIT})
    with evidence.exposure(resolution) as exposure:
        exposure.fallback(variation, reason="timeout")
    assert evidence.flush()
    return memory.of("exposure")[-1]


def test_an_unbound_evidence_reads_the_fallback_through_a_live_provider(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0))  # not bound
    event = fallback_exposure(evidence, memory, flag_file)
    assert route(event) == SAFE_ROUTE
    assert (event["variation"], event["assignedVariation"]) == ("fallback", "candidate")


def test_an_unbound_evidence_through_openfeature_reads_the_fallback_too(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0))
    ctx = EvaluationContext(attributes={"conversationId": CANDIDATE_UNIT})
    details = api.get_client().get_object_details(FLAG, {}, ctx)
    with evidence.exposure(details, ctx) as exposure:
        exposure.fallback("fallback", reason="timeout")
    assert evidence.flush()
    (event,) = memory.of("exposure")
    assert route(event) == SAFE_ROUTE


def test_after_shutdown_the_provider_is_no_longer_asked(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    provider = ModelFlagsProvider(flag_file, poll_interval=0)  # still referenced after
    api.set_provider_and_wait(provider)
    api.shutdown()
    event = fallback_exposure(evidence, memory, flag_file)
    assert route(event) == (None, None, None)
    assert provider.variation_value(FLAG, "fallback") is not None  # it could have answered


def test_without_a_provider_the_fallback_warns_once_per_flag(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        fallback_exposure(evidence, memory, flag_file)
    (warning,) = warnings(caplog)
    assert (detail(warning, "flag_key"), detail(warning, "variation")) == (FLAG, "fallback")
    assert "value=" in warning.getMessage() and "evidence=" in warning.getMessage()  # the two fixes


def test_a_value_given_to_fallback_needs_no_provider_and_warns_nothing(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker, caplog: pytest.LogCaptureFixture
) -> None:
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": CANDIDATE_UNIT})
    given = {"modelRoute": "local", "promptVersion": "v1", "retrievalProfile": "none"}
    with evidence.exposure(resolution) as exposure:
        exposure.fallback("offline", reason="outage", value=given)
    assert evidence.flush()
    assert route(memory.of("exposure")[0]) == ("local", "v1", "none")
    assert warnings(caplog) == []


def test_a_variation_the_flag_does_not_have_warns_even_when_bound(
    client: Any,
    evidence: Evidence,
    memory: MemoryTracker,
    flag_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = fallback_exposure(evidence, memory, flag_file, variation="no_such_variation")
    assert route(event) == (None, None, None)
    assert [detail(entry, "variation") for entry in warnings(caplog)] == ["no_such_variation"]


def test_providers_that_disagree_on_the_value_give_no_route(
    tmp_path: Path,
    flag_file: Path,
    evidence: Evidence,
    memory: MemoryTracker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(flag_file.read_text().replace("model_small", "model_tiny"))
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0), domain="a")
    api.set_provider_and_wait(ModelFlagsProvider(other, poll_interval=0), domain="b")
    event = fallback_exposure(evidence, memory, flag_file)
    assert route(event) == (None, None, None)
    assert "disagree" in warnings(caplog)[0].getMessage()


def test_providers_that_agree_on_the_value_give_it(
    tmp_path: Path, flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(flag_file.read_text())
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0), domain="a")
    api.set_provider_and_wait(ModelFlagsProvider(copy, poll_interval=0), domain="b")
    assert route(fallback_exposure(evidence, memory, flag_file)) == SAFE_ROUTE


def test_a_provider_that_does_not_know_the_flag_is_not_asked(
    tmp_path: Path, flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    unrelated = tmp_path / "unrelated.yaml"
    unrelated.write_text("version: 1\nflags:\n  other:\n    default: a\n    variations: {a: 1}\n")
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0), domain="a")
    api.set_provider_and_wait(ModelFlagsProvider(unrelated, poll_interval=0), domain="b")
    assert route(fallback_exposure(evidence, memory, flag_file)) == SAFE_ROUTE


def test_an_unbound_evidence_evaluates_an_outcomes_flag_through_a_live_provider(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker
) -> None:
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0))
    ctx = EvaluationContext(attributes={"conversationId": CANDIDATE_UNIT})
    evidence.outcome("resolved", FLAG, ctx, resolved=True)
    assert evidence.flush()
    (event,) = memory.of("resolved")
    assert (event["unitId"], event["variation"], event["experimentKey"]) == (
        CANDIDATE_UNIT, "candidate", "route-test",
    )  # fmt: skip
    assert evidence.counters["unattributed"] == 0


@pytest.mark.parametrize("bound", [False, True])
def test_an_outcomes_flag_no_live_provider_knows_is_unattributed(
    flag_file: Path, evidence: Evidence, memory: MemoryTracker, bound: bool
) -> None:
    api.set_provider_and_wait(
        ModelFlagsProvider(flag_file, evidence=evidence if bound else None, poll_interval=0)
    )
    evidence.outcome("resolved", "answer_rout", EvaluationContext(targeting_key="u1"))
    assert evidence.flush()
    assert memory.of("resolved")[0]["flagKey"] == "answer_rout"
    assert evidence.counters["unattributed"] == 1


def test_an_outcome_named_by_flag_key_without_any_provider_warns_but_is_attributed(
    evidence: Evidence, memory: MemoryTracker, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):
        evidence.outcome("resolved", FLAG, EvaluationContext(targeting_key="u1"))
    assert evidence.flush()
    assert [(e["flagKey"], e["unitId"]) for e in memory.of("resolved")] == [(FLAG, "u1")] * 2
    assert [detail(entry, "flag_key") for entry in warnings(caplog)] == [FLAG]
    assert evidence.counters["unattributed"] == 0  # it may join by the targeting key
