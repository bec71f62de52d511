"""Shared fixtures of the analysis tests: evidence events as the trackers write them, in real
files (JSONL, gzip, Parquet), for the aggregation to read.

The ``kit`` fixture holds ``exposure(...)`` and ``outcome(...)``, which build one event each
in the wire format of the evidence docs (every key present unless a test leaves one out on
purpose with ``ABSENT``), and the constants they use; ``write_events`` writes a list of
events to a file under the test's ``tmp_path``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

FLAG = "support_answer_model_route"
ARMS = ("control", "candidate")
T0 = 1_795_000_000.0
"""Epoch seconds of the first event (2026-11-18T...Z)."""

ABSENT: Any = object()
"""Leave the key out of the event (events written before it existed)."""

_ids = itertools.count(1)


def rfc3339(epoch: float) -> str:
    """Epoch seconds as the trackers write them: UTC, milliseconds, ``Z``."""
    whole = int(epoch // 1)
    millis = round((epoch - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def _event(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not ABSENT}


def exposure(
    unit: str | None,
    assigned: str | None = "control",
    *,
    t: float = 0.0,
    event_id: str | None = None,
    flag: str | None = FLAG,
    ran: str | None = None,
    reason: str | None = "SPLIT",
    rule: Any = "split",
    in_experiment: Any = True,
    config_version: Any = "3f2a9c1d",
    fallback: bool | None = False,
    latency_ms: Any = 100.0,
    cost: Any = 0.001,
    error: Any = False,
    attributes: Any = None,
) -> dict[str, Any]:
    """An exposure of ``unit`` assigned ``assigned`` at ``T0 + t`` (``ran``: the variation
    that ran, e.g. a fallback)."""
    return _event({
        "event": "exposure",
        "eventId": event_id or f"e{next(_ids)}",
        "timestamp": rfc3339(T0 + t),
        "flagKey": flag,
        "experimentKey": "support-route-2026-11",
        "assignmentUnit": "conversation",
        "unitId": unit,
        "variation": ran or assigned,
        "assignedVariation": assigned,
        "reason": reason,
        "rule": rule,
        "inExperiment": in_experiment,
        "configVersion": config_version,
        "fallbackUsed": fallback,
        "fallbackReason": "timeout" if fallback else None,
        "modelRoute": "support_model_a",
        "promptVersion": "support_v3",
        "retrievalProfile": "baseline",
        "latencyMs": latency_ms,
        "estimatedCost": cost,
        "error": error,
        "errorType": "Timeout" if error else None,
        "attributes": {} if attributes is None else attributes,
    })  # fmt: skip


def outcome(
    unit: str | None,
    variation: str | None = "control",
    *,
    t: float = 1.0,
    event_id: str | None = None,
    flag: str | None = FLAG,
    name: str = "support_conversation_outcome",
    config_version: Any = "3f2a9c1d",
    value: Any = None,
    metrics: Any = None,
) -> dict[str, Any]:
    """An outcome of ``unit`` naming ``variation`` at ``T0 + t``."""
    return _event({
        "event": name,
        "eventId": event_id or f"o{next(_ids)}",
        "timestamp": rfc3339(T0 + t),
        "flagKey": flag,
        "experimentKey": "support-route-2026-11",
        "assignmentUnit": "conversation",
        "unitId": unit,
        "variation": variation,
        "configVersion": config_version,
        "value": value,
        "metrics": {} if metrics is None else metrics,
        "attributes": {},
    })  # fmt: skip


def jsonl(events: Iterable[Mapping[str, Any] | str]) -> str:
    """Events as JSON lines (a string is written as it is: a malformed line)."""
    return "".join(
        (item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))) + "\n"
        for item in events
    )


WriteEvents = Callable[..., Path]


@pytest.fixture
def kit() -> SimpleNamespace:
    """``exposure``, ``outcome``, ``jsonl``, ``rfc3339``, ``write_jsonl`` and the constants
    ``FLAG``, ``ARMS``, ``T0``, ``ABSENT``."""
    return SimpleNamespace(
        exposure=exposure,
        outcome=outcome,
        jsonl=jsonl,
        rfc3339=rfc3339,
        write_jsonl=write_jsonl,
        FLAG=FLAG,
        ARMS=ARMS,
        T0=T0,
        ABSENT=ABSENT,
    )


def write_jsonl(path: Path, events: Iterable[Mapping[str, Any] | str], tail: str = "") -> Path:
    """``events`` as JSON lines in ``path`` (gzip-compressed for a ``.gz`` name), then
    ``tail`` as it is."""
    text = jsonl(events) + tail
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.fixture
def write_events(tmp_path: Path) -> WriteEvents:
    """``write_events(events, name="events.jsonl", tail="")``: the events as JSON lines in
    a file under ``tmp_path`` (``tail`` is appended as is, e.g. a torn line); a name ending
    in ``.gz`` is gzip-compressed, one ending in ``.parquet`` is converted by DuckDB."""

    def write(
        events: Iterable[Mapping[str, Any] | str], name: str = "events.jsonl", tail: str = ""
    ) -> Path:
        path = tmp_path / name
        if not name.endswith(".parquet"):
            return write_jsonl(path, events, tail)
        import duckdb

        source = write_jsonl(path.with_suffix(".source.tmp"), events, tail)
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited')) "
                f"TO '{path}' (FORMAT parquet)"
            )
        source.unlink()
        return path

    return write
