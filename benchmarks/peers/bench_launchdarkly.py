"""LaunchDarkly's server-side Python SDK, offline, with its file data source.

The SDK's ``TestData`` source cannot express a percentage rollout (its own documentation says
so), so the flag is given in LaunchDarkly's full flag format through
``Files.new_data_source(paths=[flags.json])``, the SDK's other offline source.
``send_events=False`` and ``diagnostic_opt_out=True`` switch off the event and diagnostic
connections: the client opens none.

The flag: variations ``[control, candidate, fallback]``; one rule, clause ``accountId in
[excluded]`` -> variation 2; fallthrough a rollout of 90,000/10,000 (out of 100,000) over
variations 0 and 1, bucketed by the context key (the conversation id). Contexts are pre-built
``Context`` objects of kind ``user``; the timed call is ``client.variation_detail``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ldclient import Context
from ldclient.client import LDClient
from ldclient.config import Config
from ldclient.integrations import Files

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

SDK = "launchdarkly"
NAMES = ("control", "candidate", "fallback")

LD_FLAGS: dict[str, Any] = {
    "flags": {
        FLAG_KEY: {
            "key": FLAG_KEY,
            "version": 1,
            "on": True,
            "salt": FLAG_KEY,
            "variations": [CONTROL, CANDIDATE, FALLBACK],
            "offVariation": 0,
            "targets": [],
            "contextTargets": [],
            "prerequisites": [],
            "rules": [
                {
                    "id": "excluded-accounts",
                    "clauses": [
                        {
                            "contextKind": "user",
                            "attribute": "accountId",
                            "op": "in",
                            "values": EXCLUDED_ACCOUNTS,
                            "negate": False,
                        }
                    ],
                    "variation": 2,
                    "trackEvents": False,
                }
            ],
            "fallthrough": {
                "rollout": {
                    "contextKind": "user",
                    "bucketBy": "key",
                    "variations": [
                        {"variation": 0, "weight": SPLIT_PERCENT["control"] * 1000},
                        {"variation": 1, "weight": SPLIT_PERCENT["candidate"] * 1000},
                    ],
                }
            },
            "trackEvents": False,
            "trackEventsFallthrough": False,
            "clientSide": False,
        }
    }
}


def ld_context(context: dict[str, str]) -> Any:
    built = (
        Context.builder(context["targetingKey"])
        .kind("user")
        .set("accountId", context["accountId"])
        .set("locale", context["locale"])
        .set("userId", context["userId"])
        .build()
    )
    if not built.valid:
        raise ValueError(f"LaunchDarkly rejected a context: {built.error}")
    return built


@contextmanager
def cases(plain: list[dict[str, str]]) -> Iterator[list[Case]]:
    with tempfile.TemporaryDirectory(prefix="modelflags-peers-ld-") as folder:
        path = Path(folder) / "flags.json"
        path.write_text(json.dumps(LD_FLAGS), encoding="utf-8")
        config = Config(
            sdk_key="offline-benchmark",
            update_processor_class=Files.new_data_source(paths=[str(path)]),
            send_events=False,
            diagnostic_opt_out=True,
        )
        client = LDClient(config=config, start_wait=5)
        try:
            if not client.is_initialized():
                raise RuntimeError("the LaunchDarkly client did not load the flag file")
            detail = client.variation_detail
            key, default = FLAG_KEY, CONTROL

            def evaluate(context: Any) -> Any:
                return detail(key, context, default)

            def variant_of(context: Any) -> str | None:
                result = detail(key, context, default)
                if result.variation_index is None:
                    return f"default value: {result.reason}"
                name = variation_of_value(result.value)
                said = NAMES[result.variation_index]
                return name if said == name else f"{said} but value of {name!r}"

            yield [
                Case(
                    key="launchdarkly",
                    label="LaunchDarkly, file data source",
                    version=harness.dist_version("launchdarkly-server-sdk"),
                    call="client.variation_detail(key, ctx, default)",
                    order=50,
                    contexts=[ld_context(c) for c in plain],
                    run_batch=timed_loop(evaluate),
                    variant_of=variant_of,
                    notes="Files.new_data_source; send_events=False, diagnostic_opt_out=True",
                )
            ]
        finally:
            client.close()


if __name__ == "__main__":
    sys.exit(harness.main(cases, sdk=SDK, label="LaunchDarkly", order=50))
