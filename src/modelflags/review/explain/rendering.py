"""What ``modelflags explain`` prints: the evaluation trace as numbered steps for people, or
the stable JSON shape documented in docs/review-workflow.md."""

from __future__ import annotations

import json
import math
from typing import Any

from modelflags.review.explain.clauses import Clause
from modelflags.review.explain.explanation import Explanation, Step
from modelflags.review.explain.steps import Outcome, TraceStep
from modelflags.review.timestamps import utc_text

__all__ = ["explanation_json", "explanation_text"]


def explanation_text(explanation: Explanation) -> str:
    """The trace for people: one numbered line per step, its detail, clauses and draws,
    then the result, its value and its metadata."""
    result = explanation.resolution
    lines = [
        f"{explanation.flag} ({explanation.location}, config {explanation.version})",
        f"context: {json.dumps(explanation.context, ensure_ascii=False, default=str)}",
        "",
    ]
    for number, step in enumerate(explanation.steps, 1):
        name = f" '{step.name}'" if step.step == TraceStep.RULE else f" ({step.name})"
        title = step.step + ("" if step.name in ("", step.step) else name)
        mark = " (decided)" if step.decided and step.outcome != Outcome.DECIDED else ""
        lines.append(f"{number:2}. {title}: {step.outcome}{mark}")
        if step.detail:
            lines.append(f"      {step.detail}")
        lines.extend(_clause_lines(step.clauses, "      "))
        lines.extend(_score_lines(step))
    lines.append("")
    error = f", error {result.error_code}: {result.error_message}" if result.error_code else ""
    lines.append(f"result: {result.variant} (reason {result.reason}, rule {result.rule}{error})")
    lines.append(f"value: {json.dumps(result.value, ensure_ascii=False, default=str)}")
    metadata = ", ".join(f"{key}={value}" for key, value in sorted(result.metadata.items()))
    lines.append(f"metadata: {metadata}")
    return "\n".join(lines) + "\n"


def _clause_lines(clauses: tuple[Clause, ...], indent: str) -> list[str]:
    lines = []
    for clause in clauses:
        seen = ""
        if clause.attribute is not None:
            value = json.dumps(clause.value, default=str) if clause.present else "not set"
            seen = f"    ({clause.attribute} = {value})" if clause.present else f"    ({value})"
        lines.append(f"{indent}{'match' if clause.matched else 'miss '}  {clause.test}{seen}")
        lines.extend(_clause_lines(clause.clauses, indent + "       "))
    return lines


def _score_lines(step: Step) -> list[str]:
    if not step.scores:
        return []
    winner = min(step.scores, key=lambda arm: arm.score)
    width = max(len(arm.variation) for arm in step.scores)
    return [
        f"      {arm.variation:<{width}}  u = {arm.u:.6f}  score = {arm.score:.6f}"
        + ("  <- lowest" if arm is winner else "")
        for arm in step.scores
    ]


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    """The stable JSON shape (documented in docs/review-workflow.md)."""
    result = explanation.resolution
    return {
        "flag": explanation.flag,
        "location": explanation.location,
        "configVersion": explanation.version,
        "now": utc_text(explanation.now),
        "context": explanation.context,
        "steps": [_step_json(step) for step in explanation.steps],
        "result": {
            "variant": result.variant,
            "value": result.value,
            "reason": result.reason,
            "rule": result.rule,
            "unitId": result.unit_id,
            "errorCode": result.error_code,
            "errorMessage": result.error_message,
            "metadata": result.metadata,
        },
    }


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "step": step.step,
        "name": step.name,
        "outcome": step.outcome,
        "decided": step.decided,
        "detail": step.detail,
        "clauses": [_clause_json(clause) for clause in step.clauses],
        "scores": [
            {"variation": arm.variation, "u": arm.u, "score": _finite(arm.score)}
            for arm in step.scores
        ],
    }


def _clause_json(clause: Clause) -> dict[str, Any]:
    data: dict[str, Any] = {"test": clause.test, "matched": clause.matched}
    if clause.attribute is not None:
        data["attribute"] = clause.attribute
        data["present"] = clause.present
        data["value"] = clause.value if clause.present else None
    data["clauses"] = [_clause_json(inner) for inner in clause.clauses]
    return data


def _finite(score: float) -> float | None:
    """JSON has no infinity: a zero-weight arm's score is ``null``."""
    return score if math.isfinite(score) else None
