"""The floors: what an evaluation costs with (almost) nothing to evaluate.

* ``floor1``: the OpenFeature client over a provider that does no work, the SDK's
  ``InMemoryProvider`` with a flag that always answers ``control`` (no targeting). Everything
  an OpenFeature provider adds above this row is the provider's own cost.
* ``floor1b`` (extra): the same provider with a ``context_evaluator`` doing the flag's logic
  by hand (floor 2's function): the best case for any OpenFeature provider in Python.
* ``floor2``: bare Python, no SDK: ``accountId`` in a frozenset -> fallback, else an mmh3 hash
  of the conversation id scaled to 0-99, 90 and above -> candidate, then a dict lookup.

The three rows run in one process with interleaved batches.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mmh3
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

import harness
from measure import Case, timed_loop
from openfeature_client import client_for, evaluation_contexts, object_details_case_parts
from reference import EXCLUDED_ACCOUNTS, FLAG_KEY, VARIATIONS

SDK = "floors"


@contextmanager
def cases(plain: list[dict[str, str]]) -> Iterator[list[Case]]:
    openfeature_version = harness.dist_version("openfeature-sdk")
    contexts = evaluation_contexts(plain)
    excluded = frozenset(EXCLUDED_ACCOUNTS)
    seed = mmh3.hash(FLAG_KEY, signed=False)
    murmur = mmh3.hash

    fixed = InMemoryFlag(default_variant="control", variants=dict(VARIATIONS))
    floor1_eval, floor1_variant = object_details_case_parts(
        client_for("floor1", InMemoryProvider({FLAG_KEY: fixed}))
    )

    matched, split = Reason.TARGETING_MATCH, Reason.SPLIT

    def by_hand(flag: InMemoryFlag[Any], context: EvaluationContext) -> FlagResolutionDetails[Any]:
        if context.attributes.get("accountId") in excluded:
            return FlagResolutionDetails(
                value=flag.variants["fallback"], variant="fallback", reason=matched
            )
        bucket = (murmur(context.targeting_key or "", seed, signed=False) * 100) >> 32
        name = "candidate" if bucket >= 90 else "control"
        return FlagResolutionDetails(value=flag.variants[name], variant=name, reason=split)

    logic = InMemoryFlag(
        default_variant="control", variants=dict(VARIATIONS), context_evaluator=by_hand
    )
    floor1b_eval, floor1b_variant = object_details_case_parts(
        client_for("floor1b", InMemoryProvider({FLAG_KEY: logic}))
    )

    variations = VARIATIONS

    def floor2_eval(context: dict[str, str]) -> tuple[str, dict[str, str]]:
        if context["accountId"] in excluded:
            return "fallback", variations["fallback"]
        bucket = (murmur(context["targetingKey"], seed, signed=False) * 100) >> 32
        name = "candidate" if bucket >= 90 else "control"
        return name, variations[name]

    def floor2_variant(context: dict[str, str]) -> str | None:
        name, value = floor2_eval(context)
        return name if value == VARIATIONS[name] else None

    try:
        yield [
            Case(
                key="floor1",
                label="floor 1: OpenFeature client, provider with no targeting",
                version=openfeature_version,
                call="client.get_object_details",
                order=10,
                contexts=contexts,
                run_batch=timed_loop(floor1_eval),
                variant_of=floor1_variant,
                fixed=True,
                notes="InMemoryProvider, InMemoryFlag with a fixed variant",
            ),
            Case(
                key="floor1b",
                label="floor 1b (extra): OpenFeature client, in-memory provider + hand logic",
                version=openfeature_version,
                call="client.get_object_details",
                order=12,
                contexts=contexts,
                run_batch=timed_loop(floor1b_eval),
                variant_of=floor1b_variant,
                notes="InMemoryFlag(context_evaluator=floor 2's logic)",
            ),
            Case(
                key="floor2",
                label="floor 2: bare Python, mmh3 + dict",
                version=harness.dist_version("mmh3"),
                call="evaluate(dict)",
                order=14,
                contexts=[dict(c) for c in plain],
                run_batch=timed_loop(floor2_eval),
                variant_of=floor2_variant,
            ),
        ]
    finally:
        api.shutdown()


if __name__ == "__main__":
    sys.exit(harness.main(cases, sdk=SDK, label="floors", order=10))
