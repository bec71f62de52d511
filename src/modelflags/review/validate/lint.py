"""Warnings for valid flag configs that are likely mistakes: what ``modelflags validate`` adds.

An error stops a config from loading; a warning is a config that loads and serves, but not
the way its author probably meant: a segment nothing uses, a rule that can never match, a
variation no unit can get, a split that splits nothing, an experiment whose control gets no
traffic, a schedule that is over, a secret in the file. Each warning is an
:class:`~modelflags.errors.Issue` with ``severity="warning"``, placed at the offending value.

:func:`lint` is pure (the clock comes in as ``now``); :mod:`.source_report` runs it the way
the command does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Any

from modelflags.errors import Issue, Path
from modelflags.loader.config import LoadedConfig
from modelflags.review.timestamps import utc_text
from modelflags.review.validate import secrets
from modelflags.review.validate.reachability import (
    matches_everyone,
    rule_name,
    served_variations,
    shadowed_by,
    splits,
)
from modelflags.schema.conditions import referenced_segments, regex_operands, segments_used
from modelflags.schema.models import Flag
from modelflags.schema.regex_cost import MAX_REGEX_INPUT, regex_cost

__all__ = ["WARNING_CODES", "lint"]

WARNING_CODES = (
    secrets.CODE,
    "unused-segment",
    "unreachable-rule",
    "unreachable-split",
    "single-arm-split",
    "unserved-variation",
    "control-not-in-split",
    "zero-coverage",
    "missing-owner",
    "schedule-over",
    "decide-by-passed",
    "backtracking-regex",
)
"""Every warning :func:`lint` reports, in the order docs/validate.md describes them."""


def lint(loaded: LoadedConfig, *, now: float) -> list[Issue]:
    """Every warning for ``loaded``, in file order; ``now`` is the time in epoch seconds."""
    issues = [_place(loaded, issue) for issue in _config_warnings(loaded, now)]
    for document in loaded.documents.values():
        issues.extend(secrets.secret_issues(document))
    return sorted(issues, key=lambda issue: (issue.file, issue.line, issue.col, issue.code))


def _config_warnings(loaded: LoadedConfig, now: float) -> Iterator[tuple[Issue, bool]]:
    """(warning with a document path, whether it belongs at the key) for the merged config."""
    config = loaded.config
    yield from _unused_segments(config.segments, config.flags)
    yield from _backtracking_regexes(config.segments, config.flags)
    for key, flag in config.flags.items():
        at: Path = ("flags", key)
        for found in (
            _unreachable(flag, config.segments, at),
            _single_arm_splits(flag, at),
            _unserved_variations(flag, at),
            _control_not_in_split(flag, at),
            _zero_coverage(flag, at),
            _missing_owner(flag, at),
            _schedule_over(flag, at, now),
            _decide_by_passed(flag, at, now),
        ):
            yield from found


def _warning(code: str, message: str, hint: str, path: Path) -> Issue:
    return Issue(code, message, hint, path, severity="warning")


def _place(loaded: LoadedConfig, found: tuple[Issue, bool]) -> Issue:
    """Place a warning at its value (or its key) in the file that defines its flag or segment."""
    issue, at_key = found
    origin = loaded.origins.get((str(issue.path[0]), str(issue.path[1])), "")
    document = loaded.documents.get(origin) or next(iter(loaded.documents.values()))
    path, marks = issue.path, document.keys if at_key else document.values
    while path and path not in marks:
        path, marks = path[:-1], document.values
    return issue.at(document.file, *marks.get(path, (1, 1)))


# --- segments ---------------------------------------------------------------------------


def _unused_segments(
    segments: Mapping[str, Any], flags: Mapping[str, Flag]
) -> Iterator[tuple[Issue, bool]]:
    """Segments no flag reaches, directly or through other segments."""
    reached = segments_used(flags.values(), segments)
    for name in segments:
        if name in reached:
            continue
        users = sorted(
            other
            for other, cond in segments.items()
            if any(ref == name for ref, _ in referenced_segments(cond))
        )
        used = f" (used only by unused segments: {', '.join(users)})" if users else ""
        message = f"segment '{name}' is not used by any flag{used}"
        hint = (
            "remove it, or use it in a flag's eligible, exclusions.segments or a rule's "
            f"when ({{$segment: {name}}})"
        )
        yield _warning("unused-segment", message, hint, ("segments", name)), True


# --- rules ------------------------------------------------------------------------------


def _unreachable(flag: Flag, segments: Mapping[str, Any], at: Path) -> Iterator[tuple[Issue, bool]]:
    """Rules after a catch-all rule or after a rule with the same condition; and the split."""
    catch_all: int | None = None
    for i, rule in enumerate(flag.rules):
        reason = shadowed_by(flag, i, catch_all)
        if reason:
            message = f"{rule_name(flag, i)} can never match: {reason}"
            hint = "remove the rule, or move it above the rule that shadows it"
            yield _warning("unreachable-rule", message, hint, (*at, "rules", i)), False
        elif catch_all is None and matches_everyone(rule.when, segments):
            catch_all = i
    if catch_all is not None and flag.split is not None:
        message = (
            f"the split is never reached: {rule_name(flag, catch_all)} matches every unit "
            "first (eligible, schedule and coverage do not apply either)"
        )
        hint = "give the rule a condition, or remove the split"
        yield _warning("unreachable-split", message, hint, (*at, "split")), False


# --- splits and variations --------------------------------------------------------------


def _single_arm_splits(flag: Flag, at: Path) -> Iterator[tuple[Issue, bool]]:
    """Splits with one arm, or with every positive weight on one arm: nothing is split."""
    for weights, path, instead in splits(flag, at):
        positive = [arm for arm, weight in weights.items() if weight > 0]
        if len(positive) != 1:
            continue
        arm = positive[0]
        if len(weights) == 1:
            message = f"the split has one arm, '{arm}': every unit in it gets '{arm}'"
        else:
            zero = ", ".join(name for name in weights if name != arm)
            message = f"the split puts all weight on '{arm}' ({zero}: 0): nothing is split"
        hint = f"{instead.format(arm=arm)}, or give another arm a positive weight"
        yield _warning("single-arm-split", message, hint, path), False


def _unserved_variations(flag: Flag, at: Path) -> Iterator[tuple[Issue, bool]]:
    served = served_variations(flag)
    for name in flag.variations:
        if name in served:
            continue
        message = (
            f"variation '{name}' is never served: it is not the default, not exclusions.serve, "
            "not served by a rule and has no split weight"
        )
        hint = (
            "serve it or remove it; if application code serves it (e.g. Evidence's "
            f"exposure.fallback('{name}') when the model call fails), keep it and end its line "
            "with '# modelflags: ignore[unserved-variation]'"
        )
        yield _warning("unserved-variation", message, hint, (*at, "variations", name)), True


def _control_not_in_split(flag: Flag, at: Path) -> Iterator[tuple[Issue, bool]]:
    """An experiment needs its control randomised alongside the treatments."""
    experiment = flag.experiment
    if experiment is None:
        return
    control = experiment.control
    if flag.split is None:
        message = f"the flag has an experiment but no split: no unit is randomised to '{control}'"
        hint = f"add a split with '{control}' and the treatment arms, e.g. {{{control}: 50, ...}}"
        yield _warning("control-not-in-split", message, hint, (*at, "experiment")), False
    elif flag.split.get(control, 0) <= 0:
        arms = ", ".join(f"{arm}: {weight}" for arm, weight in flag.split.items())
        message = f"experiment control '{control}' gets no units in the split ({arms})"
        hint = f"give '{control}' a positive weight in the split, or name the right control"
        yield _warning("control-not-in-split", message, hint, (*at, "experiment", "control")), False


def _zero_coverage(flag: Flag, at: Path) -> Iterator[tuple[Issue, bool]]:
    if flag.split is not None and flag.coverage == 0:
        message = f"coverage is 0: no unit enters the split; eligible units get '{flag.default}'"
        hint = "raise coverage to start the split, or remove the split"
        yield _warning("zero-coverage", message, hint, (*at, "coverage")), False


# --- ownership and time -----------------------------------------------------------------


def _missing_owner(flag: Flag, at: Path) -> Iterator[tuple[Issue, bool]]:
    if flag.owner is None or not flag.owner.strip():
        message = f"flag '{at[-1]}' has no owner"
        hint = "add 'owner: TEAM' so reviews, alerts and clean-up reach someone"
        yield _warning("missing-owner", message, hint, at), True


def _schedule_over(flag: Flag, at: Path, now: float) -> Iterator[tuple[Issue, bool]]:
    end = flag.schedule.end if flag.schedule is not None else None
    if end is None or end.timestamp() > now:
        return
    days = int((now - end.timestamp()) // 86400)
    ago = f"{days} day{'s' if days != 1 else ''} ago" if days else "less than a day ago"
    ended = utc_text(end.timestamp())
    message = (
        f"the schedule ended at {ended} ({ago}): units past exclusions and rules now get "
        f"the default '{flag.default}'"
    )
    hint = "promote the winner to default and remove schedule and split, or move 'end'"
    yield _warning("schedule-over", message, hint, (*at, "schedule", "end")), False


def _decide_by_passed(flag: Flag, at: Path, now: float) -> Iterator[tuple[Issue, bool]]:
    """An experiment still running (state on, with a split) after its ``decide_by`` date."""
    experiment = flag.experiment
    if experiment is None or experiment.decide_by is None or flag.state == "off":
        return
    if flag.split is None or experiment.decide_by >= _utc_date(now):
        return
    message = (
        f"experiment '{experiment.key}' was to be decided by {experiment.decide_by} and is "
        "still running"
    )
    hint = "read 'modelflags report' and promote, roll back, or move 'decide_by'"
    yield _warning("decide-by-passed", message, hint, (*at, "experiment", "decide_by")), False


def _utc_date(now: float) -> date:
    return datetime.fromtimestamp(now, tz=timezone.utc).date()


# --- request-controlled cost ------------------------------------------------------------


def _conditions(
    segments: Mapping[str, Any], flags: Mapping[str, Flag]
) -> Iterator[tuple[object, Path]]:
    """Every condition of the config with its path: segments, rules' ``when``, ``eligible``."""
    for name, condition in segments.items():
        yield condition, ("segments", name)
    for key, flag in flags.items():
        for i, rule in enumerate(flag.rules):
            yield rule.when, ("flags", key, "rules", i, "when")
        if isinstance(flag.eligible, Mapping):
            yield flag.eligible, ("flags", key, "eligible")


_POWERS = {2: "squared", 3: "cubed"}


def _backtracking_regexes(
    segments: Mapping[str, Any], flags: Mapping[str, Flag]
) -> Iterator[tuple[Issue, bool]]:
    """``$regex`` patterns that backtrack, and so see less than the usual input limit."""
    for condition, at in _conditions(segments, flags):
        for pattern, path in regex_operands(condition):
            cost = regex_cost(pattern)
            if not cost.limited:
                continue
            power = _POWERS.get(cost.degree, f"to the power {cost.degree}")
            message = (
                f"$regex pattern {pattern!r} can backtrack: a failing search takes time that "
                f"grows with the value's length {power}, so a value longer than "
                f"{cost.input_limit:,} characters never matches it (the usual limit is "
                f"{MAX_REGEX_INPUT:,})"
            )
            hint = (
                "anchor it with '^', drop a leading '.*' or '\\w+' (a search tries every start "
                "anyway), or make neighbouring repeats match different characters; if values "
                "are always short, end the line with '# modelflags: ignore[backtracking-regex]'"
            )
            yield _warning("backtracking-regex", message, hint, (*at, *path)), False
