"""``modelflags explain FLAG --context JSON``: the evaluation trace, step by step."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from modelflags.cli import arguments
from modelflags.cli.output import add_format, print_json
from modelflags.loader import load
from modelflags.review.explain import Clause, Explanation, Step, explain
from modelflags.review.timestamps import utc_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show why a flag serves what it serves for a context, step by step",
        description="Evaluate FLAG for a context through the same engine code as the provider "
        "and print every step of the evaluation order: state, unit id, exclusions, each rule "
        "and why it did or did not match, eligibility, schedule, coverage bucket and split "
        "scores, then the result with its reason and metadata.",
    )
    parser.add_argument("flag", metavar="FLAG", help="key of the flag to explain")
    parser.add_argument(
        "--context",
        metavar="JSON",
        type=arguments.context,
        default={},
        help="the evaluation context as a JSON object, '@FILE' to read it from a file or '-' "
        "from standard input; 'targetingKey' is the targeting key (default: {})",
    )
    parser.add_argument(
        "--flags", metavar="PATH", default="flags/", help="flag file or directory (default: flags/)"
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=arguments.moment,
        help="evaluate at this RFC 3339 time, e.g. 2026-11-15T12:00:00Z (default: the clock)",
    )
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    now = time.time() if args.now is None else args.now
    explanation = explain(load(args.flags), args.flag, args.context, now=now)
    if args.format == "json":
        print_json(_as_json(explanation))
    else:
        sys.stdout.write(_as_text(explanation))
    return 0


def _as_text(explanation: Explanation) -> str:
    result = explanation.resolution
    lines = [
        f"{explanation.flag} ({explanation.location}, config {explanation.version})",
        f"context: {json.dumps(explanation.context, ensure_ascii=False, default=str)}",
        "",
    ]
    for number, step in enumerate(explanation.steps, 1):
        name = f" '{step.name}'" if step.step == "rule" else f" ({step.name})"
        title = step.step + ("" if step.name in ("", step.step) else name)
        mark = " (decided)" if step.decided and step.outcome != "decided" else ""
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


def _as_json(explanation: Explanation) -> dict[str, Any]:
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
