"""A recording process killed with SIGKILL mid-stream: the JSONL file it leaves reads (a torn
last line skipped) and the report runs on it; the spool it leaves mid-outage is delivered
by the next process. Real processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import modelflags
from modelflags import Evidence, read_events
from modelflags.evidence.http_tracker import HttpTracker

if TYPE_CHECKING:  # the fixture's class, from this folder's conftest
    from conftest import FaultyCollector

ROOT = Path(modelflags.__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
FLAG = "support_answer_model_route"

RECORDER = """
import itertools, sys
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from modelflags import Evidence, JsonlTracker, ModelFlagsProvider
evidence = Evidence(JsonlTracker(sys.argv[1], fsync="never"), batch_size=64, flush_interval=0.005)
api.set_provider_and_wait(ModelFlagsProvider(sys.argv[2], evidence=evidence, poll_interval=0))
client = api.get_client()
for i in itertools.count():  # until killed
    ctx = EvaluationContext(targeting_key=f"conv-{i}", attributes={
        "conversationId": f"conv-{i}", "accountId": f"acct-{i % 97}", "plan": "pro"})
    route = client.get_object_details(sys.argv[3], {}, ctx)
    with evidence.exposure(route, ctx) as exposure:
        exposure.record(estimated_cost=0.002, tokens=100 + i % 50)
    evidence.outcome("support_csat", route, ctx, score=i % 5)
"""


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    """SIGKILL ``process`` as soon as ``ready()`` (within 30 s)."""
    deadline = time.monotonic() + 30.0
    while not ready():
        assert process.poll() is None, "the recording process ended by itself"
        assert time.monotonic() < deadline, "the recording process made no progress"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def test_sigkill_mid_stream_leaves_a_file_that_reads_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(path), str(ROOT / "flags"), FLAG], env=ENV
    )
    kill_when(process, lambda: path.exists() and path.stat().st_size > 300_000)
    assert process.returncode == -signal.SIGKILL

    data = path.read_bytes()
    complete = data.count(b"\n")
    events = list(read_events([path]))
    assert len(events) == complete  # every whole line reads; a torn tail is skipped
    assert len({event["eventId"] for event in events}) == len(events)
    assert {event["event"] for event in events} == {"exposure", "support_csat"}

    report = subprocess.run(
        [sys.executable, "-m", "modelflags", "report", str(path), "--flag", FLAG,
         "--flags", str(ROOT / "flags"), "--format", "json"],
        env=ENV, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)  # a report of what the killed process left


SPILLER = """
import os, signal, sys, time
from modelflags import Evidence, Resolution
from modelflags.evidence.http_tracker import HttpTracker
route = {"modelRoute": "m"}
evidence = Evidence(HttpTracker(sys.argv[1], timeout=0.5), spill_dir=sys.argv[2],
                    flush_interval=0.01, backoff=0.05, max_backoff=0.2)
for i in range(int(sys.argv[3])):
    r = Resolution("f", route, "control", "SPLIT", "split", f"u{i}", {})
    evidence.exposure(r).record(seq=i)
while evidence.counters["spooled"] < int(sys.argv[3]):
    time.sleep(0.01)
print("spooled", flush=True)
time.sleep(60)  # killed here, mid-outage, everything on disk
"""


def test_a_process_killed_mid_outage_loses_nothing_the_next_one_delivers(
    collector: FaultyCollector, tmp_path: Path
) -> None:
    spill = tmp_path / "spill"
    collector.down()
    process = subprocess.Popen(
        [sys.executable, "-c", SPILLER, collector.url, str(spill), "3000"],
        env=ENV, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # (the library's own log lines may come first)
        if line.strip() == b"spooled":
            break
    else:
        pytest.fail("the recording process ended before spooling everything")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)

    collector.up()
    restarted = Evidence(HttpTracker(collector.url), spill_dir=spill, flush_interval=0.01)
    assert restarted.flush(timeout=30)
    restarted.close()
    assert collector.seqs() == Counter(range(3000))
    assert restarted.counters["adopted"] == 3000
    assert list(spill.iterdir()) == []
