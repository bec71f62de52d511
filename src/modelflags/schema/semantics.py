"""Checks that need the whole file: cross-references, condition syntax, segment cycles.

Every check returns :class:`~modelflags.errors.Issue` values with document paths, all of them
at once, so a user fixes a file in one pass. A file with no issues here compiles without error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from modelflags.errors import Issue, Path, did_you_mean
from modelflags.schema.condition_syntax import condition_issues
from modelflags.schema.conditions import referenced_segments
from modelflags.schema.models import Flag, FlagFile
from modelflags.schema.steps import StepName

__all__ = ["json_kind", "semantic_issues"]


def semantic_issues(config: FlagFile) -> list[Issue]:
    """Every cross-reference and condition error in ``config``."""
    issues = list(_segment_issues(config.segments))
    for key, flag in config.flags.items():
        issues.extend(_flag_issues(flag, config.segments, ("flags", key)))
    return issues


def json_kind(value: object) -> str:
    """The JSON type of a variation value: ``boolean``, ``number``, ``string``, ``object``..."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def _segment_issues(segments: Mapping[str, Any]) -> Iterator[Issue]:
    for name, condition in segments.items():
        yield from _condition_issues(condition, segments, ("segments", name))
    yield from _cycle_issues(segments)


def _cycle_issues(segments: Mapping[str, Any]) -> Iterator[Issue]:
    """One issue per segment cycle, reported at the reference that closes it."""
    edges = {
        name: [(ref, path) for ref, path in referenced_segments(cond) if ref in segments]
        for name, cond in segments.items()
    }
    done: set[str] = set()
    reported: set[frozenset[str]] = set()

    def visit(name: str, trail: list[str]) -> Iterator[Issue]:
        for ref, path in edges[name]:
            if ref in trail:
                cycle = [*trail[trail.index(ref) :], ref]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    yield Issue(
                        "segment-cycle",
                        f"segment '{name}' refers back to itself: {' -> '.join(cycle)}",
                        "a segment may use other segments, but not in a loop",
                        ("segments", name, *path),
                    )
            elif ref not in done:
                yield from visit(ref, [*trail, ref])
        done.add(name)

    for name in segments:
        if name not in done:
            yield from visit(name, [name])


def _condition_issues(condition: Any, segments: Mapping[str, Any], at: Path) -> Iterator[Issue]:
    for issue in condition_issues(condition):
        yield issue.under(at)
    for ref, path in referenced_segments(condition):
        if ref not in segments:
            yield _unknown("segment", ref, segments, at + path)


def _unknown(kind: str, name: str, known: Mapping[str, Any], path: Path) -> Issue:
    listed = ", ".join(known) or "none defined"
    return Issue(
        f"unknown-{kind}",
        f"{kind} '{name}' is not defined (known: {listed})",
        did_you_mean(name, known),
        path,
    )


def _rule_name_issues(flag: Flag, at: Path) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for i, rule in enumerate(flag.rules):
        if rule.name is None:
            continue
        path = (*at, "rules", i, "name")
        if rule.name in StepName.RESERVED:
            yield Issue(
                "reserved-name",
                f"a rule cannot be named '{rule.name}'",
                "flag metadata's 'rule' uses that name for an evaluation step; rename the rule",
                path,
            )
        elif rule.name in seen:
            yield Issue(
                "duplicate-rule",
                f"rule name '{rule.name}' is also used by rules[{seen[rule.name]}]",
                "give each rule of a flag its own name: events record which rule decided",
                path,
            )
        seen.setdefault(rule.name, i)


def _flag_issues(flag: Flag, segments: Mapping[str, Any], at: Path) -> Iterator[Issue]:
    variations = flag.variations

    def variation(name: str | None, path: Path) -> Iterator[Issue]:
        if name is not None and name not in variations:
            yield _unknown("variation", name, variations, at + path)

    def split(weights: Mapping[str, int] | None, path: Path) -> Iterator[Issue]:
        if weights is None:
            return
        for name in weights:
            yield from variation(name, (*path, name))
        if not any(weights.values()):
            yield Issue("empty-split", "a split needs at least one positive weight", "", at + path)

    yield from variation(flag.default, ("default",))
    if flag.exclusions is not None:
        yield from variation(flag.exclusions.serve, ("exclusions", "serve"))
        for i, name in enumerate(flag.exclusions.segments):
            if name not in segments:
                yield _unknown("segment", name, segments, (*at, "exclusions", "segments", i))
    yield from _rule_name_issues(flag, at)
    for i, rule in enumerate(flag.rules):
        yield from _condition_issues(rule.when, segments, (*at, "rules", i, "when"))
        yield from variation(rule.serve, ("rules", i, "serve"))
        yield from split(rule.split, ("rules", i, "split"))
    if isinstance(flag.eligible, str):
        if flag.eligible not in segments:
            yield _unknown("segment", flag.eligible, segments, (*at, "eligible"))
    elif flag.eligible is not None:
        yield from _condition_issues(flag.eligible, segments, (*at, "eligible"))
    yield from split(flag.split, ("split",))
    if flag.experiment is not None:
        yield from variation(flag.experiment.control, ("experiment", "control"))
    if "coverage" in variations:
        yield Issue(
            "reserved-name",
            "a variation cannot be named 'coverage'",
            "the coverage draw hashes the tag 'coverage'; rename the variation",
            (*at, "variations", "coverage"),
        )
    kinds = {json_kind(value) for value in variations.values()}
    if len(kinds) > 1:
        yield Issue(
            "mixed-variation-types",
            f"variations mix JSON types ({', '.join(sorted(kinds))})",
            "every variation of one flag must have the same type",
            (*at, "variations"),
        )
