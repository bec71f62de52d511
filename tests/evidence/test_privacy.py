"""Privacy before events leave the process: ``unitId`` replaced by a keyed hash (HMAC-SHA-256
with a key from the environment, 32 hex characters), free-form attributes kept, dropped or
hashed; the key never shows; a unit's events still join, and the report reads them alike."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext

from modelflags import Evidence, JsonlTracker, MemoryTracker, load_flags, read_events

KEY = "k3y-for-tests-0123456789abcdef"
UNIT = "c0"
FLAG = "answer_route"


@pytest.fixture(autouse=True)
def unit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELFLAGS_UNIT_KEY", KEY)


def expected_hash(text: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def record_unit(evidence: Evidence, flag_file: Path, unit: str = UNIT) -> None:
    """An exposure with context and keyword attributes, and an outcome, of one unit."""
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": unit})
    context = EvaluationContext(unit, {"conversationId": unit, "plan": "pro"})
    evidence.exposure(resolution, context).record(email=f"{unit}@example.com")
    evidence.outcome("resolved", resolution, context, resolved=True, attributes={"ticket": 7})
    assert evidence.flush()


def test_by_default_unit_ids_and_attributes_are_kept(flag_file: Path) -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, context_attributes=["plan"])
    record_unit(evidence, flag_file)
    exposure, outcome = memory.of("exposure")[0], memory.of("resolved")[0]
    assert (exposure["unitId"], outcome["unitId"]) == (UNIT, UNIT)
    assert exposure["attributes"] == {"plan": "pro", "email": "c0@example.com"}
    assert outcome["attributes"] == {"ticket": 7}


def test_a_hashed_unit_id_is_the_keyed_hash_and_joins_its_outcomes(flag_file: Path) -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, hash_unit_ids=True)
    record_unit(evidence, flag_file)
    exposure, outcome = memory.of("exposure")[0], memory.of("resolved")[0]
    assert exposure["unitId"] == outcome["unitId"] == expected_hash(UNIT)
    assert len(exposure["unitId"]) == 32


def test_the_key_variable_can_be_named(flag_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_UNIT_KEY", "another-key-0123456789")
    memory = MemoryTracker()
    evidence = Evidence(memory, hash_unit_ids=True, unit_id_key_env="APP_UNIT_KEY")
    record_unit(evidence, flag_file)
    assert memory.of("exposure")[0]["unitId"] == expected_hash(UNIT, "another-key-0123456789")


@pytest.mark.parametrize("value", [None, "", "short"])
def test_a_missing_or_weak_key_is_refused_at_construction(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("MODELFLAGS_UNIT_KEY")
    else:
        monkeypatch.setenv("MODELFLAGS_UNIT_KEY", value)
    with pytest.raises(ValueError, match="MODELFLAGS_UNIT_KEY"):
        Evidence(MemoryTracker(), hash_unit_ids=True)


def test_hashing_attributes_needs_the_key_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELFLAGS_UNIT_KEY")
    with pytest.raises(ValueError, match="attributes='hash'"):
        Evidence(MemoryTracker(), attributes="hash")


def test_an_unknown_attributes_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="'keep', 'drop' or 'hash'"):
        Evidence(MemoryTracker(), attributes="mask")  # type: ignore[arg-type]


def test_the_key_shows_in_no_repr_and_no_event(flag_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    evidence = Evidence(JsonlTracker(path), hash_unit_ids=True, attributes="hash",
                        context_attributes=["plan"])  # fmt: skip
    record_unit(evidence, flag_file)
    evidence.close()
    shown = repr(evidence) + repr(evidence.privacy) + str(vars(evidence)) + path.read_text()
    assert KEY not in shown
    assert "MODELFLAGS_UNIT_KEY" in repr(evidence.privacy)  # the variable's name is fine


def test_dropped_attributes_leave_empty_objects(flag_file: Path) -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, context_attributes=["plan"], attributes="drop")
    record_unit(evidence, flag_file)
    assert [event["attributes"] for event in memory.events] == [{}, {}]
    assert memory.of("exposure")[0]["unitId"] == UNIT  # only what was asked changes


def test_hashed_attributes_keep_their_names_and_group_alike(flag_file: Path) -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, context_attributes=["plan"], attributes="hash")
    record_unit(evidence, flag_file, "c0")
    record_unit(evidence, flag_file, "c1")
    first, second = (event["attributes"] for event in memory.of("exposure"))
    assert first["plan"] == second["plan"] == expected_hash('"pro"')  # the JSON text
    assert first["email"] != second["email"]
    assert memory.of("resolved")[0]["attributes"] == {"ticket": expected_hash("7")}


def test_an_attribute_json_cannot_hold_is_still_hashed(flag_file: Path) -> None:
    memory = MemoryTracker()
    evidence = Evidence(memory, attributes="hash")
    loop: list[Any] = []
    loop.append(loop)
    resolution = load_flags(flag_file).evaluate(FLAG, {"conversationId": UNIT})
    evidence.exposure(resolution).record(loop=loop, text="\udce9")
    assert evidence.flush()
    attributes = memory.of("exposure")[0]["attributes"]
    assert sorted(attributes) == ["loop", "text"]
    assert all(len(value) == 32 for value in attributes.values())


def report_arms(events: Path, flag_file: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "modelflags", "report", str(events), "--flag", FLAG,
         "--flags", str(flag_file), "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    arms: list[dict[str, Any]] = json.loads(result.stdout)["arms"]
    return arms


def test_the_report_on_hashed_events_counts_the_same_units(flag_file: Path, tmp_path: Path) -> None:
    flags = load_flags(flag_file)
    paths = {}
    for hashed in (False, True):
        paths[hashed] = tmp_path / f"hashed-{hashed}.jsonl"
        evidence = Evidence(JsonlTracker(paths[hashed]), hash_unit_ids=hashed)
        for i in range(60):
            resolution = flags.evaluate(FLAG, {"conversationId": f"c{i}"})
            for _ in range(1 + i % 2):  # some units are exposed twice
                evidence.exposure(resolution).record(latency_ms=1.0)
            evidence.outcome("resolved", resolution, None, resolved=i % 3 == 0)
        evidence.close()
    hashed_units = {event["unitId"] for event in read_events([paths[True]])}
    assert hashed_units == {expected_hash(f"c{i}") for i in range(60)}

    def per_arm(path: Path) -> list[tuple[Any, ...]]:
        return [
            (arm["variation"], arm["units"], arm["exposures"],
             arm["metrics"]["resolved"]["n"], arm["metrics"]["resolved"]["mean"])
            for arm in report_arms(path, flag_file)
        ]  # fmt: skip

    plain = per_arm(paths[False])
    assert sum(arm[1] for arm in plain) == 60
    assert per_arm(paths[True]) == plain
