"""What every ``bench_<sdk>.py`` does as its own process: guard, build, measure, write.

A benchmark script supplies one function: given the plain contexts, a context manager that
builds its SDK offline, yields the rows (:class:`measure.Case`) and shuts the SDK down
afterwards. :func:`main` installs the network guard first, reads the sizes from the
environment, measures, and writes one JSON object per row, one per line, to ``--out`` (or
standard output). Progress goes to standard error.

Exit status: 0 when every row passed its check, 1 when a row answered wrongly (its timings
are still written), 2 when the SDK could not be built or measured (a ``failed`` row with the
reason is written, and the traceback goes to standard error, which the runner keeps in a log).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import network_guard
from measure import Measurement, Settings, SettingsError, measure
from reference import make_contexts

__all__ = ["CaseBuilder", "dist_version", "failed_row", "main", "measurement_row"]

CaseBuilder = Callable[[list[dict[str, str]]], AbstractContextManager[Sequence[Any]]]


def dist_version(distribution: str) -> str:
    """``"name version"`` of an installed distribution, or ``"name (not installed)"``."""
    try:
        return f"{distribution} {version(distribution)}"
    except PackageNotFoundError:
        return f"{distribution} (not installed)"


def measurement_row(
    sdk: str, result: Measurement, settings: Settings, log: network_guard.ConnectionLog
) -> dict[str, Any]:
    """One row of results.jsonl for a measured case."""
    case = result.case
    return {
        "sdk": sdk,
        "key": case.key,
        "label": case.label,
        "version": case.version,
        "call": case.call,
        "order": case.order,
        "status": "ok" if result.check.ok else "WRONG",
        "us_median": result.median_us,
        "us_min": result.min_us,
        "us_batches": list(result.batches_us),
        "check": result.check.as_json(),
        "connections": log.as_json(),
        "settings": settings.as_json(),
        "python": platform.python_version(),
        "notes": case.notes,
    }


def failed_row(sdk: str, label: str, order: int, reason: str) -> dict[str, Any]:
    """A row for an SDK that could not be measured, so that the table still shows it."""
    return {
        "sdk": sdk,
        "key": sdk,
        "label": label,
        "version": "-",
        "order": order,
        "status": "failed",
        "reason": reason[:300],
    }


def main(build: CaseBuilder, *, sdk: str, label: str, order: int) -> int:
    """Run one benchmark process (see the module doc); return its exit status."""
    parser = argparse.ArgumentParser(description=f"peer benchmark: {label}")
    parser.add_argument("--out", type=Path, help="append JSON rows to this file")
    args = parser.parse_args()
    log = network_guard.install()
    rows: list[dict[str, Any]] = []
    status = 0
    try:
        settings = Settings.from_env()
        plain = make_contexts(settings.contexts)
        print(f"[{sdk}] building; {settings.as_json()}", file=sys.stderr, flush=True)
        with build(plain) as cases:
            results = measure(cases, plain, settings)
        for result in results:
            rows.append(measurement_row(sdk, result, settings, log))
            print(
                f"[{sdk}] {result.case.key}: {result.median_us:.3f} us/eval median, "
                f"check {result.check.as_json()}",
                file=sys.stderr,
                flush=True,
            )
        status = 0 if all(r.check.ok for r in results) else 1
    except SettingsError as error:
        rows = [failed_row(sdk, label, order, str(error))]
        status = 2
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        rows = [failed_row(sdk, label, order, f"{type(error).__name__}: {error}")]
        status = 2
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    if args.out is None:
        sys.stdout.write(text)
    else:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(text)
    return status
