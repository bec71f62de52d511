"""modelflags, from this repository, measured like the peers.

The runner puts the repository's ``src`` first on ``PYTHONPATH``, so the row measures the
working tree as it is. The flag is written in modelflags' YAML format to a temporary folder
and loaded through the public API.

* ``modelflags``: ``ModelFlagsProvider(path)`` through the OpenFeature client
  (``client.get_object_details``), the row every peer is compared with.
* ``modelflags-direct`` (extra): ``load_flags(path).evaluate(key, dict)``, no OpenFeature.
* ``floor1-paired`` (extra): floor 1 again, in this process with interleaved batches, so
  that the modelflags/floor-1 ratio can also be read free of drift between processes.

The check also requires the provider and the direct path to give every context the same
variation.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

import harness
from measure import Case, timed_loop
from openfeature_client import client_for, evaluation_contexts, object_details_case_parts
from reference import FLAG_KEY, MODELFLAGS_YAML, VARIATIONS, variation_of_value

SDK = "modelflags"


@contextmanager
def cases(plain: list[dict[str, str]]) -> Iterator[list[Case]]:
    import modelflags

    version = f"modelflags {modelflags.__version__}"
    contexts = evaluation_contexts(plain)
    with tempfile.TemporaryDirectory(prefix="modelflags-peers-") as folder:
        path = Path(folder) / "flags.yaml"
        path.write_text(MODELFLAGS_YAML, encoding="utf-8")
        client_eval, client_variant = object_details_case_parts(
            client_for("modelflags", modelflags.ModelFlagsProvider(path))
        )
        flags = modelflags.load_flags(path)
        direct = flags.evaluate
        key = FLAG_KEY

        def direct_eval(context: dict[str, str]) -> Any:
            return direct(key, context)

        def direct_variant(context: dict[str, str]) -> str | None:
            resolution = direct(key, context)
            if resolution.error_code is not None:
                return f"error {resolution.error_code}: {resolution.error_message}"
            name = variation_of_value(resolution.value)
            return name if resolution.variant == name else f"variant {resolution.variant!r}"

        dicts = [dict(c) for c in plain]
        disagree = sum(
            client_variant(of) != direct_variant(d) for of, d in zip(contexts, dicts, strict=True)
        )
        if disagree:
            raise RuntimeError(f"provider and direct path disagree on {disagree} contexts")

        fixed = InMemoryFlag(default_variant="control", variants=dict(VARIATIONS))
        paired_eval, paired_variant = object_details_case_parts(
            client_for("floor1-paired", InMemoryProvider({FLAG_KEY: fixed}))
        )
        try:
            yield [
                Case(
                    key="modelflags",
                    label="modelflags (this repository), OpenFeature provider",
                    version=version,
                    call="client.get_object_details",
                    order=20,
                    contexts=contexts,
                    run_batch=timed_loop(client_eval),
                    variant_of=client_variant,
                    notes="ModelFlagsProvider(path); provider and direct path agree",
                ),
                Case(
                    key="modelflags-direct",
                    label="modelflags direct (extra): FlagSet.evaluate",
                    version=version,
                    call="flags.evaluate(key, dict)",
                    order=22,
                    contexts=dicts,
                    run_batch=timed_loop(direct_eval),
                    variant_of=direct_variant,
                ),
                Case(
                    key="floor1-paired",
                    label="floor 1, paired (extra): in the modelflags process",
                    version=harness.dist_version("openfeature-sdk"),
                    call="client.get_object_details",
                    order=24,
                    contexts=contexts,
                    run_batch=timed_loop(paired_eval),
                    variant_of=paired_variant,
                    fixed=True,
                    notes="floor 1 with batches interleaved with the modelflags rows",
                ),
            ]
        finally:
            api.shutdown()


if __name__ == "__main__":
    sys.exit(harness.main(cases, sdk=SDK, label="modelflags (this repository)", order=20))
