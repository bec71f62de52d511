"""What a flag can reach and serve, read from its config alone: the queries behind the
``unreachable-rule``, ``unreachable-split``, ``single-arm-split`` and ``unserved-variation``
warnings, and behind ``modelflags promote`` (which arms nothing serves any more)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from modelflags.errors import Path
from modelflags.schema.models import Flag

__all__ = ["matches_everyone", "rule_name", "served_variations", "shadowed_by", "splits"]


def rule_name(flag: Flag, i: int) -> str:
    """How warnings name rule ``i``: by its name, else by its index."""
    name = flag.rules[i].name
    return f"rule '{name}'" if name else f"rule rules[{i}]"


def matches_everyone(condition: object, segments: Mapping[str, Any], depth: int = 0) -> bool:
    """Whether a (valid) condition holds for every context, so nothing after it is reached.

    True for ``{}``, ``{attr: {}}`` (tests nothing), an ``$and`` of such conditions, an empty
    ``$or`` or one with such a branch, and ``$segment`` of such a segment: the shapes that
    hold whatever the context is. A condition that only happens to hold for every context an
    application sends (``{plan: {$exists: false}}`` when none sends ``plan``) is not one.
    """
    if not isinstance(condition, Mapping) or depth > len(segments) + 1:
        return False
    return all(_entry_matches_everyone(k, v, segments, depth) for k, v in condition.items())


def _entry_matches_everyone(
    key: object, value: object, segments: Mapping[str, Any], depth: int
) -> bool:
    if key == "$and" and isinstance(value, list):
        return all(matches_everyone(item, segments, depth) for item in value)
    if key == "$or" and isinstance(value, list):
        return not value or any(matches_everyone(item, segments, depth) for item in value)
    if key == "$segment" and isinstance(value, str):
        return matches_everyone(segments.get(value), segments, depth + 1)
    if isinstance(key, str) and key.startswith("$"):
        return False
    return isinstance(value, Mapping) and not value


def shadowed_by(flag: Flag, i: int, catch_all: int | None) -> str:
    """Why rule ``i`` can never match (an earlier catch-all or the same condition), or ""."""
    if catch_all is not None:
        return f"{rule_name(flag, catch_all)} before it matches every unit"
    when = flag.rules[i].when
    same = next((j for j in range(i) if flag.rules[j].when == when), None)
    return "" if same is None else f"{rule_name(flag, same)} before it has the same condition"


def splits(flag: Flag, at: Path) -> Iterator[tuple[Mapping[str, int], Path, str]]:
    """(weights, path, how to serve one variation instead) for the flag's and rules' splits."""
    if flag.split is not None:
        yield flag.split, (*at, "split"), "set 'default: {arm}' and remove the split"
    for i, rule in enumerate(flag.rules):
        if rule.split is not None:
            yield rule.split, (*at, "rules", i, "split"), "write 'serve: {arm}' instead"


def served_variations(flag: Flag) -> set[str]:
    """Variations the config can serve: default, exclusions.serve, rule serves, split arms
    with a positive weight. The flag's ``state`` is ignored: an off flag serves the rest when
    switched back on."""
    served = {flag.default}
    if flag.exclusions is not None and flag.exclusions.serve is not None:
        served.add(flag.exclusions.serve)
    served.update(rule.serve for rule in flag.rules if rule.serve is not None)
    for weights, _, _ in splits(flag, ()):
        served.update(arm for arm, weight in weights.items() if weight > 0)
    return served
