"""flagd's Python provider, in-process, reading the flag from a file (no daemon, no gRPC).

``FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=...)`` evaluates
flagd's JSON flag definition inside this process; the file is written to a temporary folder.
Targeting: ``if(in(var accountId, [excluded]), "fallback", fractional([control, 90],
[candidate, 10]))``; ``fractional`` with no bucketing expression hashes the flag key and the
targeting key (the conversation id). Timed through the real OpenFeature client, like the
modelflags row.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.provider import ProviderStatus

import harness
from measure import Case, timed_loop
from openfeature_client import client_for, evaluation_contexts, object_details_case_parts
from reference import DEFAULT_VARIATION, EXCLUDED_ACCOUNTS, FLAG_KEY, SPLIT_PERCENT, VARIATIONS

SDK = "flagd"

FLAGD_DEFINITION = {
    "flags": {
        FLAG_KEY: {
            "state": "ENABLED",
            "variants": VARIATIONS,
            "defaultVariant": DEFAULT_VARIATION,
            "targeting": {
                "if": [
                    {"in": [{"var": "accountId"}, EXCLUDED_ACCOUNTS]},
                    "fallback",
                    {
                        "fractional": [
                            ["control", SPLIT_PERCENT["control"]],
                            ["candidate", SPLIT_PERCENT["candidate"]],
                        ]
                    },
                ]
            },
        }
    }
}


@contextmanager
def cases(plain: list[dict[str, str]]) -> Iterator[list[Case]]:
    with tempfile.TemporaryDirectory(prefix="modelflags-peers-flagd-") as folder:
        path = Path(folder) / "flags.json"
        path.write_text(json.dumps(FLAGD_DEFINITION), encoding="utf-8")
        provider = FlagdProvider(
            resolver_type=ResolverType.FILE, offline_flag_source_path=str(path)
        )
        client = client_for("flagd", provider)
        deadline = time.monotonic() + 10
        while client.get_provider_status() != ProviderStatus.READY:
            if time.monotonic() > deadline:
                raise RuntimeError(f"flagd provider not ready: {client.get_provider_status()}")
            time.sleep(0.05)
        evaluate, variant_of = object_details_case_parts(client)
        try:
            yield [
                Case(
                    key="flagd",
                    label="flagd in-process, file resolver (OpenFeature)",
                    version=harness.dist_version("openfeature-provider-flagd"),
                    call="client.get_object_details",
                    order=30,
                    contexts=evaluation_contexts(plain),
                    run_batch=timed_loop(evaluate),
                    variant_of=variant_of,
                    notes="resolver_type=FILE; targeting if/in + fractional; "
                    + harness.dist_version("openfeature-flagd-core"),
                )
            ]
        finally:
            api.shutdown()


if __name__ == "__main__":
    sys.exit(harness.main(cases, sdk=SDK, label="flagd in-process", order=30))
