"""GrowthBook's Python SDK with its features given as a dict: nothing fetched, no thread.

The feature: default ``control``; rule 1 forces ``fallback`` when ``{"accountId": {"$in":
[excluded]}}``; rule 2 is an experiment over ``[control, candidate]`` with weights ``[0.9,
0.1]``, hashed on the ``id`` attribute (the conversation id), coverage 1.

* ``growthbook``: the synchronous ``GrowthBook(features=...)``. It keeps the user on the
  instance, so each evaluation is ``set_attributes(prebuilt dict)`` then ``eval_feature``.
* ``growthbook-async`` (extra): ``GrowthBookClient``, the SDK's multi-user server client,
  given the features with ``set_features`` (no ``initialize()``, so no fetch), evaluated
  with pre-built ``UserContext`` objects; each batch runs inside one event loop, one
  ``await`` per evaluation.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from growthbook import GrowthBook
from growthbook.common_types import UserContext
from growthbook.growthbook_client import GrowthBookClient

import harness
from measure import Case, timed_loop
from reference import (
    CANDIDATE,
    CONTROL,
    EXCLUDED_ACCOUNTS,
    FALLBACK,
    FLAG_KEY,
    SPLIT_PERCENT,
    variation_of_value,
)

SDK = "growthbook"

FEATURES: dict[str, Any] = {
    FLAG_KEY: {
        "defaultValue": CONTROL,
        "rules": [
            {
                "id": "excluded-accounts",
                "condition": {"accountId": {"$in": EXCLUDED_ACCOUNTS}},
                "force": FALLBACK,
            },
            {
                "id": "model-route-split",
                "key": FLAG_KEY,
                "variations": [CONTROL, CANDIDATE],
                "weights": [SPLIT_PERCENT["control"] / 100, SPLIT_PERCENT["candidate"] / 100],
                "hashAttribute": "id",
                "coverage": 1.0,
                "meta": [{"key": "control"}, {"key": "candidate"}],
            },
        ],
    }
}


def attributes(context: dict[str, str]) -> dict[str, str]:
    return {
        "id": context["targetingKey"],
        "accountId": context["accountId"],
        "locale": context["locale"],
        "userId": context["userId"],
    }


def name_of(result: Any) -> str | None:
    """The variation of a ``FeatureResult``, from its value, checked against its source."""
    name = variation_of_value(result.value)
    if result.source == "force":
        said = "fallback"
    elif result.source == "experiment" and result.experimentResult is not None:
        said = result.experimentResult.key
    else:
        said = f"source {result.source}"
    return name if said == name else f"{said} but value of {name!r}"


@contextmanager
def cases(plain: list[dict[str, str]]) -> Iterator[list[Case]]:
    version = harness.dist_version("growthbook")
    key = FLAG_KEY

    book = GrowthBook(features=FEATURES)
    set_attributes, eval_feature = book.set_attributes, book.eval_feature

    def evaluate(attrs: dict[str, str]) -> Any:
        set_attributes(attrs)
        return eval_feature(key)

    loop = asyncio.new_event_loop()
    client = GrowthBookClient()
    loop.run_until_complete(client.set_features(FEATURES))
    client_eval = client.eval_feature

    def run_async_batch(batch: Sequence[UserContext]) -> int:
        async def run() -> int:
            start = time.perf_counter_ns()
            for user in batch:
                await client_eval(key, user)
            return time.perf_counter_ns() - start

        return loop.run_until_complete(run())

    def async_variant(user: UserContext) -> str | None:
        return name_of(loop.run_until_complete(client_eval(key, user)))

    try:
        yield [
            Case(
                key="growthbook",
                label="GrowthBook sync (set_attributes + eval_feature)",
                version=version,
                call="gb.set_attributes(d); gb.eval_feature(key)",
                order=40,
                contexts=[attributes(c) for c in plain],
                run_batch=timed_loop(evaluate),
                variant_of=lambda attrs: name_of(evaluate(attrs)),
                notes="features=dict, no client key: no fetch, no thread",
            ),
            Case(
                key="growthbook-async",
                label="GrowthBookClient async (extra)",
                version=version,
                call="await client.eval_feature(key, UserContext)",
                order=42,
                contexts=[UserContext(attributes=attributes(c)) for c in plain],
                run_batch=run_async_batch,
                variant_of=async_variant,
                notes="set_features(dict) without initialize(); one event loop per batch",
            ),
        ]
    finally:
        book.destroy()
        loop.run_until_complete(client.close())
        loop.close()


if __name__ == "__main__":
    sys.exit(harness.main(cases, sdk=SDK, label="GrowthBook", order=40))
