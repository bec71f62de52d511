"""The decision rules, one by one, on hand-made evidence (first match wins)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal

from modelflags.analysis.arms import Arm
from modelflags.analysis.decision import Evidence, decide
from modelflags.analysis.guardrails import GuardrailResult
from modelflags.analysis.sample_size import SampleSize
from modelflags.analysis.srm import Srm
from modelflags.analysis.statistics import Comparison

FLAG = "support_answer_model_route"


def arm(variation: str, units: float, weight: float) -> Arm:
    return Arm(variation, weight, units, units, units, None, None, {}, {}, {})


def primary(lo: float, hi: float, diff: float | None = None) -> Comparison:
    middle = (lo + hi) / 2 if diff is None else diff
    return Comparison(middle, (lo, hi), 0.1, 0.2, "two-proportion z (pooled)")


Status = Literal["holds", "breached", "inconclusive"]


def guard(variation: str, status: Status, reason: str = "") -> GuardrailResult:
    """A p95 latency guardrail of one arm with the given status."""
    reason = reason or f"{variation}'s p95 latency {status}"
    return GuardrailResult(
        variation, "latency_ms", "p95", "max_ratio", 1.3, 1.1, (1.0, 1.2), status, reason
    )


SRM_OK = Srm(0.4, False, {"control": 9000, "candidate": 1000}, {"control": 9000, "candidate": 1000})


def evidence(**changes: Any) -> Evidence:
    """A healthy two-arm experiment (90/10) that has not concluded yet."""
    control, candidate = arm("control", 9000, 90), arm("candidate", 1000, 10)
    base = Evidence(
        flag_key=FLAG,
        flags_path="flags/",
        control=control,
        treatments=(candidate,),
        primary="resolvedWithoutEscalation",
        primary_binary=True,
        primary_recorded=7000,
        comparisons={"candidate": primary(-0.01, 0.03)},
        guardrails=(guard("candidate", "holds"),),
        srm=SRM_OK,
        multiple_assignments=0,
        sample=SampleSize(8240, {"control": 9000, "candidate": 1000}),
    )
    return replace(base, **changes)


def test_a_breached_guardrail_rolls_back_with_the_rollback_command() -> None:
    breach = guard("candidate", "breached", "candidate's p95 latency is 1.42x control's")
    decision = decide(evidence(guardrails=(breach,)))
    assert decision.action == "rollback"
    assert decision.reasons == ("candidate's p95 latency is 1.42x control's",)
    assert decision.command == f"modelflags rollback {FLAG} --flags flags/"


def test_rollback_wins_over_a_sample_ratio_mismatch() -> None:
    srm = replace(SRM_OK, p_value=1e-6, mismatch=True)
    decision = decide(evidence(guardrails=(guard("candidate", "breached"),), srm=srm))
    assert decision.action == "rollback"


def test_a_sample_ratio_mismatch_investigates_without_a_command() -> None:
    srm = Srm(
        2e-5, True, {"control": 8800, "candidate": 1200}, {"control": 9000, "candidate": 1000}
    )
    decision = decide(evidence(srm=srm, comparisons={"candidate": primary(0.01, 0.05)}))
    assert decision.action == "investigate"
    assert decision.command is None
    assert "sample ratio mismatch" in decision.reasons[0]
    assert "control 8,800 / candidate 1,200" in decision.reasons[0]
    assert "control 9,000 / candidate 1,000" in decision.reasons[0]


def test_multiple_assignments_above_one_percent_investigate() -> None:
    decision = decide(evidence(multiple_assignments=101))  # 10,000 randomised
    assert decision.action == "investigate"
    assert "101 units" in decision.reasons[0] and "more than one arm" in decision.reasons[0]


def test_multiple_assignments_at_one_percent_do_not_investigate() -> None:
    assert decide(evidence(multiple_assignments=100)).action == "continue"


def test_superiority_promotes_when_the_lower_bound_is_above_zero() -> None:
    decision = decide(evidence(comparisons={"candidate": primary(0.001, 0.04)}))
    assert decision.action == "promote"
    assert decision.command == f"modelflags promote {FLAG} candidate --flags flags/"
    assert "every guardrail holds" in decision.reasons[0]


def test_superiority_does_not_promote_with_a_lower_bound_of_zero() -> None:
    assert decide(evidence(comparisons={"candidate": primary(0.0, 0.04)})).action == "continue"


def test_non_inferiority_promotes_with_a_lower_bound_just_above_minus_the_margin() -> None:
    ni = {"test": "non_inferiority", "margin": 0.01}
    inside = evidence(comparisons={"candidate": primary(-0.0099, 0.02)}, **ni)
    assert decide(inside).action == "promote"
    assert "non-inferiority margin" in decide(inside).reasons[0]


def test_non_inferiority_does_not_promote_at_or_below_minus_the_margin() -> None:
    ni = {"test": "non_inferiority", "margin": 0.01}
    at = evidence(comparisons={"candidate": primary(-0.01, 0.02)}, **ni)
    outside = evidence(comparisons={"candidate": primary(-0.0101, 0.02)}, **ni)
    assert decide(at).action == "continue"
    assert decide(outside).action == "continue"
    assert "not yet shown non-inferior" in decide(at).reasons[0]


def test_promote_needs_every_guardrail_of_the_arm_to_hold() -> None:
    pending = guard("candidate", "inconclusive", "candidate's error rate: not yet clear")
    decision = decide(
        evidence(comparisons={"candidate": primary(0.01, 0.05)}, guardrails=(pending,))
    )
    assert decision.action == "continue"
    assert "not every guardrail holds yet" in decision.reasons[0]
    assert "candidate's error rate: not yet clear" in decision.reasons[0]


def test_promote_picks_the_qualifying_arm_with_the_largest_difference() -> None:
    control, a, b, c = (
        arm("control", 7000, 70),
        arm("a", 2000, 20),
        arm("b", 1000, 10),
        arm("c", 50, 1),
    )
    decision = decide(
        evidence(
            control=control,
            treatments=(a, b, c),
            comparisons={
                "a": primary(0.005, 0.03, diff=0.02),
                "b": primary(0.01, 0.09, diff=0.05),
                "c": primary(-0.2, 0.4, diff=0.10),  # largest, but not significant
            },
            guardrails=(guard("a", "holds"), guard("b", "holds"), guard("c", "holds")),
        )
    )
    assert decision.action == "promote"
    assert decision.command == f"modelflags promote {FLAG} b --flags flags/"


def test_no_difference_once_every_arm_reached_the_sample_size() -> None:
    sample = SampleSize(8000, {"control": 9000, "candidate": 8000})
    decision = decide(evidence(treatments=(arm("candidate", 8000, 10),), sample=sample))
    assert decision.action == "no_difference"
    assert decision.command == f"modelflags promote {FLAG} control --flags flags/"
    assert "8,000 units per arm" in decision.reasons[0]


def test_no_difference_waits_for_every_arm_to_reach_the_sample_size() -> None:
    sample = SampleSize(8000, {"control": 9000, "candidate": 7999})
    decision = decide(evidence(treatments=(arm("candidate", 7999, 10),), sample=sample))
    assert decision.action == "continue"
    assert any("7,999 of the 8,000 units" in reason for reason in decision.reasons)


def test_continue_suggests_the_next_ramp_step() -> None:
    assert decide(evidence()).command == f"modelflags ramp {FLAG} candidate 25 --flags flags/"


def test_continue_ramps_from_below_one_percent_to_one() -> None:
    control, candidate = arm("control", 9000, 995), arm("candidate", 50, 5)
    decision = decide(evidence(control=control, treatments=(candidate,)))
    assert decision.command == f"modelflags ramp {FLAG} candidate 1 --flags flags/"


def test_continue_has_no_ramp_step_at_half_the_split() -> None:
    control, candidate = arm("control", 5000, 50), arm("candidate", 5000, 50)
    assert decide(evidence(control=control, treatments=(candidate,))).command is None


def test_continue_does_not_ramp_while_a_guardrail_is_inconclusive_and_says_which() -> None:
    pending = guard("candidate", "inconclusive", "candidate's error rate: not yet clear")
    decision = decide(evidence(guardrails=(pending,)))
    assert decision.action == "continue"
    assert decision.command is None
    assert decision.reasons[-1] == (
        "no ramp step until every guardrail holds: candidate's error rate: not yet clear"
    )


def test_continue_does_not_ramp_an_arm_that_is_worse() -> None:
    decision = decide(evidence(comparisons={"candidate": primary(-0.05, -0.01)}))
    assert decision.action == "continue"
    assert decision.command is None
    assert "candidate is worse than control" in decision.reasons[0]


def test_the_first_reason_says_the_decision_date_has_passed() -> None:
    late = evidence(decide_by=date(2026, 12, 15), today=date(2026, 12, 16))
    on_time = evidence(decide_by=date(2026, 12, 15), today=date(2026, 12, 15))
    assert decide(late).reasons[0].startswith("the decision date 2026-12-15 has passed")
    assert not any("decision date" in reason for reason in decide(on_time).reasons)


def test_an_empty_experiment_continues_and_says_why() -> None:
    empty = evidence(
        control=arm("control", 0, 90),
        treatments=(arm("candidate", 0, 10),),
        comparisons={"candidate": Comparison(None, None, None, None, "z", "an arm has no units")},
        guardrails=(guard("candidate", "inconclusive"),),
        sample=SampleSize(None, {"control": 0, "candidate": 0}, "no variance"),
    )
    decision = decide(empty)
    assert decision.action == "continue"
    assert decision.command is None
    assert "no unit has been randomised yet" in decision.reasons[0]


def test_no_primary_metric_continues_and_asks_for_one() -> None:
    decision = decide(evidence(primary=None, comparisons={}))
    assert decision.action == "continue"
    assert any("names no primary_metric" in reason for reason in decision.reasons)


def test_commands_quote_a_flags_path_with_spaces() -> None:
    breach = guard("candidate", "breached")
    decision = decide(evidence(guardrails=(breach,), flags_path="my flags/"))
    assert decision.command == f"modelflags rollback {FLAG} --flags 'my flags/'"
