"""How one benchmark process checks and times its rows.

A row is a :class:`Case`: pre-built contexts in the SDK's own type, a function that times one
batch of evaluations over them, and a function that names the variation an evaluation
returned (from the returned payload). :func:`measure` first checks every case, then warms
each up, then times ``repeats`` rounds of one batch per case. The batches of the cases in one
process are interleaved (a, b, c, a, b, c, ...), so that load from other processes hits the
rows of one process alike. ``gc.collect()`` runs before each batch; GC stays on. A batch
cycles through the contexts in order and is timed with ``time.perf_counter_ns()``; the cost
of the Python ``for`` loop and one call is in every row (the bare-Python floor shows how
small it is).

The check evaluates every context twice. A case passes only if every excluded account gets
``fallback``, every other context gets ``control`` or ``candidate`` with a candidate share in
:data:`reference.CANDIDATE_SHARE_RANGE`, and no context changes its answer between the two
passes. A case with ``fixed=True`` (a floor with no targeting) must answer ``control``.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reference import CANDIDATE_SHARE_RANGE, EXCLUDED_ACCOUNTS

__all__ = [
    "Case",
    "Check",
    "Measurement",
    "Settings",
    "SettingsError",
    "check_case",
    "measure",
    "timed_loop",
]

BatchTimer = Callable[[Sequence[Any]], int]


class SettingsError(ValueError):
    """A BENCH_* environment variable that is not a positive integer."""


@dataclass(frozen=True)
class Settings:
    """The sizes of one run, from BENCH_EVALS, BENCH_REPEATS, BENCH_WARMUP, BENCH_CONTEXTS."""

    evals: int = 100_000
    repeats: int = 7
    warmup: int = 20_000
    contexts: int = 10_000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        values: dict[str, int] = {}
        for name in ("evals", "repeats", "warmup", "contexts"):
            variable = "BENCH_" + name.upper()
            text = source.get(variable)
            if text is None:
                continue
            try:
                number = int(text)
            except ValueError:
                raise SettingsError(f"{variable}={text!r} is not an integer") from None
            if number < 1:
                raise SettingsError(f"{variable}={number} must be at least 1")
            values[name] = number
        return cls(**values)

    def as_json(self) -> dict[str, int]:
        return {
            "evals": self.evals,
            "repeats": self.repeats,
            "warmup": self.warmup,
            "contexts": self.contexts,
        }


def timed_loop(evaluate: Callable[[Any], object]) -> BatchTimer:
    """A batch timer that calls ``evaluate`` once per context of the batch."""

    def run(batch: Sequence[Any]) -> int:
        start = time.perf_counter_ns()
        for context in batch:
            evaluate(context)
        return time.perf_counter_ns() - start

    return run


@dataclass(frozen=True)
class Case:
    """One table row measured in this process."""

    key: str
    label: str
    version: str
    call: str
    order: int
    contexts: Sequence[Any]
    run_batch: BatchTimer
    variant_of: Callable[[Any], str | None]
    fixed: bool = False
    notes: str = ""


@dataclass(frozen=True)
class Check:
    """The outcome of evaluating every context twice."""

    ok: bool
    excluded: int
    excluded_fallback: int
    included: int
    candidate: int
    candidate_share: float | None
    wrong: int
    unstable: int
    examples: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "excluded": self.excluded,
            "excluded_fallback": self.excluded_fallback,
            "included": self.included,
            "candidate": self.candidate,
            "candidate_share": self.candidate_share,
            "wrong": self.wrong,
            "unstable": self.unstable,
            "examples": list(self.examples),
        }


@dataclass(frozen=True)
class Measurement:
    """A checked and timed case: per-evaluation times of every batch, in microseconds."""

    case: Case
    check: Check
    batches_us: tuple[float, ...] = field(default=())

    @property
    def median_us(self) -> float:
        return statistics.median(self.batches_us)

    @property
    def min_us(self) -> float:
        return min(self.batches_us)


def check_case(case: Case, plain: Sequence[dict[str, str]]) -> Check:
    """Evaluate every context of ``case`` twice and judge the answers (see the module doc)."""
    excluded_accounts = frozenset(EXCLUDED_ACCOUNTS)
    excluded = excluded_fallback = included = candidate = wrong = unstable = 0
    examples: list[str] = []
    for context, facts in zip(case.contexts, plain, strict=True):
        first, second = case.variant_of(context), case.variant_of(context)
        unstable += first != second
        if case.fixed:
            right = first == "control"
        elif facts["accountId"] in excluded_accounts:
            excluded += 1
            right = first == "fallback"
            excluded_fallback += right
        else:
            included += 1
            right = first in ("control", "candidate")
            candidate += first == "candidate"
        if not right:
            wrong += 1
            if len(examples) < 3:
                examples.append(f"{facts['targetingKey']} ({facts['accountId']}) -> {first}")
    share = candidate / included if included and not case.fixed else None
    ok = wrong == 0 and unstable == 0
    if not case.fixed:
        low, high = CANDIDATE_SHARE_RANGE
        ok = ok and excluded > 0 and share is not None and low <= share <= high
    return Check(
        ok=ok,
        excluded=excluded,
        excluded_fallback=excluded_fallback,
        included=included,
        candidate=candidate,
        candidate_share=share,
        wrong=wrong,
        unstable=unstable,
        examples=tuple(examples),
    )


def cycle(contexts: Sequence[Any], count: int) -> list[Any]:
    """``count`` contexts, going round ``contexts`` in order."""
    size = len(contexts)
    return [contexts[i % size] for i in range(count)]


def measure(
    cases: Sequence[Case], plain: Sequence[dict[str, str]], settings: Settings
) -> list[Measurement]:
    """Check every case, then time them with interleaved batches (see the module doc)."""
    checks = [check_case(case, plain) for case in cases]
    batches = [cycle(case.contexts, settings.evals) for case in cases]
    for case in cases:
        case.run_batch(cycle(case.contexts, settings.warmup))
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(settings.repeats):
        for case, batch, row_times in zip(cases, batches, times, strict=True):
            gc.collect()
            row_times.append(case.run_batch(batch) / settings.evals / 1000.0)
    return [
        Measurement(case=case, check=check, batches_us=tuple(row_times))
        for case, check, row_times in zip(cases, checks, times, strict=True)
    ]
