"""The peer comparison in benchmarks/peers/ works: a smoke run of its floor and modelflags rows
in this interpreter (no environments are built, nothing is fetched), plus the pieces that
make its figures trustworthy: the contexts, the check, the network guard, the pins and the
table. No timing is asserted (timings belong to benchmarks/RESULTS.md)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
PEER_MODULES = ("reference", "measure", "network_guard", "table", "venvs", "harness", "rounds")


@pytest.fixture(scope="module")
def peers() -> Iterator[SimpleNamespace]:
    """The harness's own modules, imported by name as its scripts import them, then removed."""
    sys.path.insert(0, str(PEERS))
    try:
        yield SimpleNamespace(**{name: importlib.import_module(name) for name in PEER_MODULES})
    finally:
        sys.path.remove(str(PEERS))
        for name in PEER_MODULES:
            sys.modules.pop(name, None)


def bench_evaluation() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_evaluation_for_peers", ROOT / "benchmarks" / "bench_evaluation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_peers(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PEERS / "run_peers.py"), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_smoke_run_measures_the_floors_and_modelflags_and_prints_one_table(
    tmp_path: Path, peers: SimpleNamespace
) -> None:
    proc = run_peers("--here", "--smoke", "floors", "modelflags", "--results", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert {row["key"] for row in rows} == {
        "floor1", "floor1b", "floor2", "modelflags", "modelflags-direct", "floor1-paired",
    }  # fmt: skip
    excluded = set(peers.reference.EXCLUDED_ACCOUNTS)
    expected_excluded = sum(
        c["accountId"] in excluded for c in peers.reference.make_contexts(10_000)
    )
    for row in rows:
        assert row["status"] == "ok", row
        assert row["settings"] == {"evals": 2000, "repeats": 1, "warmup": 200, "contexts": 10000}
        assert len(row["us_batches"]) == 1
        assert row["connections"]["refused"] == 0
        if row["key"] not in ("floor1", "floor1-paired"):
            assert row["check"]["excluded_fallback"] == row["check"]["excluded"]
            assert row["check"]["excluded"] == expected_excluded
    for heading in ("| row | version |", "x floor 2", "x floor 1", "x modelflags"):
        assert heading in proc.stdout
    assert "modelflags / floor 1 in one process" in proc.stdout
    assert (tmp_path / "table.md").read_text().startswith("| row |")
    run = json.loads((tmp_path / "run.json").read_text())
    assert len(run["load_average"]) == 3  # before each of the two processes, and at the end


def test_peer_contexts_are_the_evaluation_benchmarks_contexts(peers: SimpleNamespace) -> None:
    assert peers.reference.make_contexts(10_000) == bench_evaluation().make_contexts(10_000)


def test_peer_flag_yaml_is_the_evaluation_benchmarks_flag(peers: SimpleNamespace) -> None:
    assert peers.reference.MODELFLAGS_YAML == bench_evaluation().FLAG_YAML


def test_check_fails_a_case_that_ignores_the_rule(peers: SimpleNamespace) -> None:
    plain = peers.reference.make_contexts(2000)
    measure = peers.measure
    case = measure.Case(
        key="always-control", label="always control", version="-", call="-", order=1,
        contexts=plain, run_batch=measure.timed_loop(lambda c: None),
        variant_of=lambda c: "control",
    )  # fmt: skip
    check = measure.check_case(case, plain)
    assert not check.ok
    assert check.excluded > 0
    assert check.excluded_fallback == 0
    assert check.wrong == check.excluded


def test_check_fails_a_case_that_changes_its_answer(peers: SimpleNamespace) -> None:
    plain = peers.reference.make_contexts(200)
    answers = iter(["control", "candidate"] * len(plain))
    measure = peers.measure
    case = measure.Case(
        key="flaky", label="flaky", version="-", call="-", order=1, contexts=plain,
        run_batch=measure.timed_loop(lambda c: None), variant_of=lambda c: next(answers),
        fixed=True,
    )  # fmt: skip
    check = measure.check_case(case, plain)
    assert not check.ok
    assert check.unstable == len(plain)


def test_network_guard_refuses_a_remote_address_and_lets_loopback_through(
    tmp_path: Path,
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    script = textwrap.dedent(
        f"""
        import json, socket, sys
        sys.path.insert(0, {str(PEERS)!r})
        import network_guard
        log = network_guard.install()
        try:
            socket.create_connection(("192.0.2.1", 80), timeout=1)
            print("remote connected")
        except OSError as error:
            print("refused:", error)
        with socket.create_connection(("127.0.0.1", {port}), timeout=5):
            pass
        print(json.dumps(log.as_json()))
        """
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("refused: peer benchmark network guard")
    log = json.loads(lines[-1])
    assert log["refused"] == 1
    assert log["allowed"] == 1
    assert "192.0.2.1" in log["refused_examples"][0]


def test_every_sdk_has_requirements_pinned_exactly(peers: SimpleNamespace) -> None:
    sys.path.insert(0, str(PEERS))
    try:
        runner = importlib.import_module("run_peers")
    finally:
        sys.path.remove(str(PEERS))
        sys.modules.pop("run_peers", None)
    for sdk in runner.SDKS:
        pins = peers.venvs.read_pins(PEERS / "requirements" / f"{sdk}.txt")
        names = {pin.name.lower() for pin in pins}
        assert len(names) == len(pins), sdk
        assert all(pin.version[0].isdigit() for pin in pins), sdk
    flagd = {p.name: p.version for p in peers.venvs.read_pins(PEERS / "requirements/flagd.txt")}
    floors = {p.name: p.version for p in peers.venvs.read_pins(PEERS / "requirements/floors.txt")}
    assert flagd["openfeature-sdk"] == floors["openfeature-sdk"]


def test_a_requirement_that_is_not_an_exact_pin_is_located(
    tmp_path: Path, peers: SimpleNamespace
) -> None:
    path = tmp_path / "sdk.txt"
    path.write_text("# pins\nmmh3==5.3.1\ngrowthbook>=4\n", encoding="utf-8")
    with pytest.raises(peers.venvs.PinError, match=r"sdk\.txt:3:1: not an exact pin"):
        peers.venvs.read_pins(path)


def test_ratio_to_a_failed_reference_is_not_computed(peers: SimpleNamespace) -> None:
    rows = [
        {"key": "floor1", "label": "floor 1", "order": 10, "status": "failed", "reason": "boom"},
        {
            "key": "modelflags", "label": "modelflags", "version": "modelflags 0", "order": 20,
            "status": "ok", "us_median": 12.0, "us_min": 11.0,
            "check": {"excluded": 3, "excluded_fallback": 3, "wrong": 0, "unstable": 0,
                      "candidate_share": 0.1},
            "connections": {"allowed": 0, "refused": 0},
        },
    ]  # fmt: skip
    text = peers.table.render(rows)
    ours = next(line for line in text.splitlines() if line.startswith("| modelflags |"))
    cells = [cell.strip() for cell in ours.strip("|").split("|")]
    assert cells[5:8] == ["n/a", "n/a", "1.00x"]
    assert "floor 1: failed: boom" in peers.table.notes(rows)


def measured_row(key: str, batches: list[float], round_: int) -> dict[str, object]:
    return {
        "sdk": "floors", "key": key, "label": key, "version": "v", "order": 1, "status": "ok",
        "round": round_, "us_batches": batches, "us_median": sorted(batches)[len(batches) // 2],
        "us_min": min(batches), "check": {},
        "connections": {"allowed": 0, "refused": 0, "refused_examples": []},
    }  # fmt: skip


def test_rounds_are_combined_over_every_batch(peers: SimpleNamespace) -> None:
    rows = [measured_row("floor2", [1.0, 5.0, 6.0], 1), measured_row("floor2", [2.0, 3.0, 9.0], 2)]
    (row,) = peers.rounds.combine(rows)
    assert row["us_median"] == 4.0  # median of 1, 2, 3, 5, 6, 9
    assert row["us_min"] == 1.0
    assert row["round_medians"] == [5.0, 3.0]
    assert row["rounds"] == 2


def test_an_sdk_that_failed_in_one_round_is_failed_in_the_table(peers: SimpleNamespace) -> None:
    rows = [
        measured_row("floor1", [1.0], 1),
        measured_row("floor2", [1.0], 1),
        {"sdk": "floors", "key": "floors", "label": "floors", "order": 10, "round": 2,
         "status": "failed", "reason": "exited 1"},
    ]  # fmt: skip
    combined = peers.rounds.combine(rows)
    assert [(r["key"], r["status"]) for r in combined] == [
        ("floor1", "failed"), ("floor2", "failed"),
    ]  # fmt: skip
    assert combined[0]["reason"] == "round 2: exited 1"


def test_a_bad_size_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    proc = run_peers("--here", "floors", "--results", str(tmp_path), env={"BENCH_EVALS": "lots"})
    assert proc.returncode == 2
    assert "BENCH_EVALS='lots' is not an integer" in proc.stderr
    assert "Traceback" not in proc.stderr
