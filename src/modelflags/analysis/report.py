"""The report: an aggregate table and a flag → per-arm statistics, guardrails and a decision.

:func:`build_report` is the whole analysis. It reads nothing but the aggregate table and the
flag (its split weights, experiment settings and guardrails) and returns the report as a
plain dict in the documented JSON shape, with ``null`` for every figure that cannot be
computed. Renderings (table, markdown, HTML, JSON) are made from that dict elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from modelflags.analysis import intervals
from modelflags.analysis.aggregates import Aggregates
from modelflags.analysis.arms import BUILT_INS, Arm, arm_json, read_arm
from modelflags.analysis.comparisons import compare_arms
from modelflags.analysis.decision import Evidence, decide
from modelflags.analysis.guardrails import evaluate_guardrails
from modelflags.analysis.population import (
    health_json,
    input_json,
    population_json,
    versions_json,
)
from modelflags.analysis.report_values import count, finite, rfc3339
from modelflags.analysis.sample_size import sample_size
from modelflags.analysis.segments import segment_readouts
from modelflags.analysis.srm import Srm, srm_test
from modelflags.analysis.table_view import TableView
from modelflags.errors import ModelFlagsError
from modelflags.schema.models import Experiment, Flag

__all__ = ["DEFAULT_TOP_SEGMENTS", "build_report", "report_arms"]

DEFAULT_TOP_SEGMENTS = 5
"""Segment values shown one by one with ``--by``; the rest are merged into ``(other)``."""


def report_arms(flag_key: str, flag: Flag) -> tuple[Experiment, dict[str, float]]:
    """The flag's experiment and its split weights, control first.

    Raises :class:`ModelFlagsError` (one line) when the flag is not an experiment: no
    ``split``, no ``experiment``, or a control that is not one of the split's arms.
    """
    if flag.split is None:
        raise ModelFlagsError(f"flag '{flag_key}' has no split: there is nothing to compare")
    if flag.experiment is None:
        raise ModelFlagsError(
            f"flag '{flag_key}' has no experiment: add 'experiment: {{key: ..., control: ...}}'"
        )
    control = flag.experiment.control
    if control not in flag.split:
        arms = ", ".join(flag.split)
        raise ModelFlagsError(
            f"flag '{flag_key}': the experiment's control '{control}' is not in the split "
            f"(arms: {arms})"
        )
    weights = {control: float(flag.split[control])}
    weights.update((arm, float(weight)) for arm, weight in flag.split.items() if arm != control)
    return flag.experiment, weights


def build_report(
    aggregates: Aggregates | TableView,
    flag_key: str,
    flag: Flag,
    *,
    method: intervals.Method = "sequential",
    now: float | None = None,
    by: str | None = None,
    top_segments: int = DEFAULT_TOP_SEGMENTS,
    flags_path: str = "flags/",
) -> dict[str, Any]:
    """The report of one flag's experiment from its aggregate table (see ``docs/report.md``).

    ``aggregates`` is an :class:`~modelflags.analysis.aggregates.Aggregates` (or an already
    indexed :class:`TableView`); ``now`` is epoch seconds (default: the clock); ``by`` names
    the attribute the table was segmented by.
    """
    experiment, weights = report_arms(flag_key, flag)
    view = (
        aggregates if isinstance(aggregates, TableView) else TableView.from_aggregates(aggregates)
    )
    malformed = aggregates.malformed_lines if isinstance(aggregates, Aggregates) else ()
    moment = time.time() if now is None else float(now)
    today = datetime.fromtimestamp(moment, timezone.utc).date()

    primary = experiment.primary_metric
    metrics = _metric_kinds(view, weights, primary)
    arms = [read_arm(view, name, weight, list(metrics)) for name, weight in weights.items()]
    control, treatments = arms[0], arms[1:]
    comparisons = compare_arms(control, treatments, metrics, primary, method=method)
    primary_binary = metrics.get(primary, False) if primary is not None else False
    guardrails = evaluate_guardrails(
        experiment.guardrails, control, treatments, metrics, method=method, now=moment
    )
    srm = _srm(view, arms, weights)
    sample = sample_size(
        control, arms, primary, experiment.minimum_detectable_effect, binary=primary_binary
    )
    population = population_json(view, arms)
    decision = decide(
        Evidence(
            flag_key=flag_key,
            flags_path=flags_path,
            control=control,
            treatments=treatments,
            primary=primary,
            primary_binary=primary_binary,
            primary_recorded=_recorded(arms, primary),
            comparisons={c.variation: c.result for c in comparisons if c.primary},
            guardrails=guardrails,
            srm=srm,
            multiple_assignments=float(population["multipleAssignments"] or 0),
            sample=sample,
            test=experiment.test,
            margin=experiment.margin,
            decide_by=experiment.decide_by,
            filtered_out=view.number("input", None, None, "outside_window"),
            today=today,
        )
    )
    report: dict[str, Any] = {
        "flagKey": flag_key,
        "experimentKey": experiment.key,
        "assignmentUnit": flag.assignment.unit_name,
        "control": control.variation,
        "hypothesis": experiment.hypothesis,
        "test": {
            "type": experiment.test,
            "margin": finite(experiment.margin),
            "primaryMetric": primary,
            "minimumDetectableEffect": finite(experiment.minimum_detectable_effect),
            "alpha": intervals.ALPHA,
            "decideBy": experiment.decide_by.isoformat() if experiment.decide_by else None,
            "pastDecideBy": experiment.decide_by is not None and today > experiment.decide_by,
        },
        "method": method,
        "generatedAt": rfc3339(moment),
        "decision": decision.as_json(),
        "arms": [arm_json(arm, metrics) for arm in arms],
        "comparisons": [c.as_json() for c in comparisons],
        "srm": _srm_json(srm),
        "guardrails": [g.as_json() for g in guardrails],
        "sampleSize": sample.as_json(),
        "population": population,
        "health": health_json(arms),
        "segments": [],
        "configVersions": versions_json(view),
        "input": input_json(view, malformed),
    }
    if by is not None:
        report["segments"] = segment_readouts(
            view,
            by,
            weights,
            control=control.variation,
            metrics=metrics,
            primary=primary,
            method=method,
            top=top_segments,
        )
    return report


def _metric_kinds(
    view: TableView, weights: Mapping[str, float], primary: str | None
) -> dict[str, bool]:
    """Outcome metrics (the primary one first, even when nothing recorded it) → binary?

    A metric is binary when none of its observations, in any arm, was other than a JSON
    boolean, so every arm and segment reads it the same way.
    """
    names = [name for name in view.names("metric") if name not in BUILT_INS]
    if primary is not None and primary not in BUILT_INS:
        names = [primary, *(name for name in names if name != primary)]
    return {
        name: sum(view.number("metric", arm, name, "nonbinary") for arm in weights) == 0
        for name in names
    }


def _recorded(arms: list[Arm], primary: str | None) -> float:
    """Units that recorded the primary metric (built-ins: requests that carry it)."""
    if primary is None:
        return 0.0
    if primary in BUILT_INS:
        return sum(arm.ratios[primary].count for arm in arms)
    return sum(arm.metrics[primary].recorded for arm in arms if primary in arm.metrics)


def _srm(view: TableView, arms: list[Any], weights: dict[str, float]) -> Srm:
    """The sample-ratio check against the split in the flag file now. When the events span
    several config versions, the split they were served under may differ from today's (a
    ramp is an edit): the check is skipped with a reason rather than blaming the logging."""
    observed = {arm.variation: arm.units for arm in arms}
    versions = [v for v in view.names("version") if view.number("version", None, v, "units")]
    if len(versions) > 1:
        skipped = (
            f"the events span {len(versions)} config versions, whose splits may differ "
            "(a ramp changes the split): check one with --config-version"
        )
        return Srm(None, False, observed, {}, skipped)
    return srm_test(observed, weights)


def _srm_json(srm: Srm) -> dict[str, Any]:
    return {
        "pValue": finite(srm.p_value),
        "mismatch": bool(srm.mismatch),
        "observed": {arm: count(n) for arm, n in srm.observed.items()},
        "expected": {arm: finite(n) for arm, n in srm.expected.items()},
        "skipped": srm.skipped,
    }
