"""Conditions broken down clause by clause, for ``explain``: which entry failed, on what value.

Each clause is compiled on its own by the engine's condition compiler and tested against the
context, so the breakdown agrees with evaluation; segments and ``$and``/``$or``/``$nor``/
``$not`` operands are broken down in turn, a few levels deep. Each clause carries its
:data:`ClauseKind`, set where it is built, so that nothing reads its display text back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from modelflags.engine.compiled import compile_segments
from modelflags.engine.conditions import compile_condition

__all__ = ["MISSING", "Clause", "ClauseKind", "ClauseReader", "text", "why_not"]

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
_NESTING = 4
"""How deep segments and ``$and``/``$or`` are broken down before one line summarises them."""

ClauseKind = Literal[
    "attribute", "operand", "$segment", "$notSegment", "$and", "$or", "$nor", "$not"
]
"""What a clause is: a test of one attribute (``plan {$in: [pro]}``), one operand of a
combinator, or the condition operator it applies (a segment reference or a combinator)."""

_OPERATOR_KINDS: dict[str, ClauseKind] = {
    kind: kind for kind in get_args(ClauseKind) if kind.startswith("$")
}


@dataclass(frozen=True)
class Clause:
    """One entry of a condition, how it came out, and what it read."""

    test: str
    """The entry as written, e.g. ``plan {$in: ["pro", "enterprise"]}`` or ``$segment paid``."""
    matched: bool
    attribute: str | None = None
    """The dotted attribute path the entry reads, if it reads one."""
    value: Any = MISSING
    """The attribute's value in the context (``MISSING`` when absent)."""
    clauses: tuple[Clause, ...] = ()
    """The entries of a segment or of ``$and``/``$or``/``$nor``/``$not`` operands."""
    kind: ClauseKind = field(kw_only=True)
    segment: str | None = field(default=None, kw_only=True)
    """The segment a ``$segment``/``$notSegment`` clause names."""

    @property
    def present(self) -> bool:
        return self.value is not MISSING


class ClauseReader:
    """Breaks the conditions of one flag file down against one context."""

    def __init__(self, context: Mapping[str, Any], segment_sources: Mapping[str, Any]) -> None:
        self.context = context
        self.sources = segment_sources
        self.segments = compile_segments(segment_sources)

    def segment(self, name: str, depth: int) -> Clause:
        """Whether segment ``name`` matches, with its own entries broken down."""
        matched = self.segments[name](self.context)
        inner = self.breakdown(self.sources[name], depth + 1) if depth < _NESTING else ()
        return Clause(f"$segment {name}", matched, clauses=inner, kind="$segment", segment=name)

    def breakdown(self, condition: Mapping[str, Any], depth: int) -> tuple[Clause, ...]:
        """One clause per entry of ``condition``."""
        return tuple(self._clause(key, value, depth) for key, value in condition.items())

    def _clause(self, key: str, value: Any, depth: int) -> Clause:
        """One entry, compiled alone by the engine and tested against the context."""
        matched = compile_condition({key: value}, self.segments)(self.context)
        inner: tuple[Clause, ...] = ()
        kind = _OPERATOR_KINDS.get(key)
        if kind in ("$segment", "$notSegment"):
            inner = self.segment(value, depth).clauses
            return Clause(f"{key} {value}", matched, clauses=inner, kind=kind, segment=value)
        if kind is not None:  # $and $or $nor $not: one clause per operand
            operands = value if isinstance(value, list) else [value]
            if depth < _NESTING:
                inner = tuple(
                    Clause(
                        text(operand),
                        compile_condition(operand, self.segments)(self.context),
                        clauses=self.breakdown(operand, depth + 1),
                        kind="operand",
                    )
                    for operand in operands
                )
            return Clause(key, matched, clauses=inner, kind=kind)
        return Clause(
            f"{key} {text(value)}", matched, key, _read(self.context, key), kind="attribute"
        )


def _read(attributes: Mapping[str, Any], path: str) -> Any:
    """The value a condition on ``path`` reads (dotted paths go through mappings only)."""
    current: Any = attributes
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return current


def text(value: Any) -> str:
    """A condition value as compact flow-style text: ``{$in: [pro, enterprise]}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def why_not(clauses: tuple[Clause, ...]) -> str:
    """The clauses that made a condition fail, down through segments and ``$and``."""
    failed = [_failing(clause) for clause in clauses if not clause.matched]
    return "failed: " + "; ".join(failed) if failed else "no clause failed"


def _failing(clause: Clause) -> str:
    """Why one clause failed, in terms of the attributes it read where it can."""
    operands, kind = clause.clauses, clause.kind
    if kind == "$segment" and operands:
        return why_not(operands).removeprefix("failed: ")
    if kind == "$and" and operands:
        return "; ".join(why_not(op.clauses).removeprefix("failed: ") for op in operands
                         if not op.matched)  # fmt: skip
    if kind == "$or" and operands:
        return "none of: " + " | ".join(why_not(op.clauses).removeprefix("failed: ")
                                        for op in operands)  # fmt: skip
    if kind in ("$not", "$nor", "$notSegment"):
        held = [op.test for op in operands if op.matched] or ["its condition"]
        return f"{clause.test}: {', '.join(held)} matched"
    if clause.present:
        return f"{clause.test} ({clause.attribute} = {text(clause.value)})"
    if clause.attribute is not None:
        return f"{clause.test} ({clause.attribute} is not set)"
    return clause.test
