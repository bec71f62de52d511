"""Unleash's Python SDK, bootstrapped from a dict and kept offline.

The toggle document (what an Unleash server serves at ``/api/client/features``) goes into a
``FileCache`` in a temporary folder with ``bootstrap_from_dict``; the client starts with
``initialize_client(fetch_toggles=False)``, its offline mode (toggles come from the cache
only), registration and metrics off. The URL it is given is never contacted, and the network
guard would refuse it if it were.

The toggle: strategy 1, ``flexibleRollout`` 100% with the constraint ``accountId IN
[excluded]`` and one strategy variant, ``fallback``; strategy 2, ``flexibleRollout`` 100% with
strategy variants ``control`` 900 / ``candidate`` 100 (out of 1,000), sticky on ``sessionId``
(the conversation id). Unleash stores a JSON payload as a string: the timed call returns it
unparsed (``json.loads`` is in the check only).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from UnleashClient import UnleashClient
from UnleashClient.cache import FileCache

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

SDK = "unleash"


def strategy_variant(name: str, value: dict[str, str], weight: int) -> dict[str, Any]:
    return {
        "name": name,
        "weight": weight,
        "weightType": "variable",
        "stickiness": "sessionId",
        "payload": {"type": "json", "value": json.dumps(value)},
    }


def rollout(constraints: list[dict[str, Any]], variants: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "flexibleRollout",
        "parameters": {"rollout": "100", "stickiness": "sessionId", "groupId": FLAG_KEY},
        "constraints": constraints,
        "variants": variants,
    }


TOGGLES: dict[str, Any] = {
    "version": 1,
    "features": [
        {
            "name": FLAG_KEY,
            "type": "experiment",
            "enabled": True,
            "project": "default",
            "stale": False,
            "impressionData": False,
            "variants": [],
            "strategies": [
                rollout(
                    [
                        {
                            "contextName": "accountId",
                            "operator": "IN",
                            "values": EXCLUDED_ACCOUNTS,
                            "inverted": False,
                            "caseInsensitive": False,
                        }
                    ],
                    [strategy_variant("fallback", FALLBACK, 1000)],
                ),
                rollout(
                    [],
                    [
                        strategy_variant("control", CONTROL, SPLIT_PERCENT["control"] * 10),
                        strategy_variant("candidate", CANDIDATE, SPLIT_PERCENT["candidate"] * 10),
                    ],
                ),
            ],
        }
    ],
}


def unleash_context(context: dict[str, str]) -> dict[str, Any]:
    return {
        "sessionId": context["targetingKey"],
        "userId": context["userId"],
        "properties": {"accountId": context["accountId"], "locale": context["locale"]},
    }


@contextmanager
def cases(plain: list[dict[str, str]]) -> Iterator[list[Case]]:
    with tempfile.TemporaryDirectory(prefix="modelflags-peers-unleash-") as folder:
        cache = FileCache("modelflags-peers", directory=folder)
        cache.bootstrap_from_dict(TOGGLES)
        client = UnleashClient(
            url="http://127.0.0.1:9/api",
            app_name="modelflags-peers",
            cache=cache,
            disable_metrics=True,
            disable_registration=True,
            refresh_interval=3600,
        )
        client.initialize_client(fetch_toggles=False)
        try:
            get_variant = client.get_variant
            key = FLAG_KEY

            def evaluate(context: dict[str, Any]) -> Any:
                return get_variant(key, context)

            def variant_of(context: dict[str, Any]) -> str | None:
                answer = get_variant(key, context)
                if not answer.get("enabled"):
                    return f"disabled: {answer}"
                name = variation_of_value(json.loads(answer["payload"]["value"]))
                said = answer["name"]
                return name if said == name else f"{said} but value of {name!r}"

            yield [
                Case(
                    key="unleash",
                    label="Unleash, bootstrapped offline",
                    version=harness.dist_version("UnleashClient"),
                    call="client.get_variant(key, ctx)",
                    order=60,
                    contexts=[unleash_context(c) for c in plain],
                    run_batch=timed_loop(evaluate),
                    variant_of=variant_of,
                    notes="FileCache.bootstrap_from_dict + initialize_client(fetch_toggles=False); "
                    + harness.dist_version("yggdrasil-engine"),
                )
            ]
        finally:
            client.destroy()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(harness.main(cases, sdk=SDK, label="Unleash", order=60))
