"""Evidence over OTLP/HTTP to a Collector: the real OTLP log and span exporters post to a
stand-in Collector on 127.0.0.1, which decodes the protobuf requests. Also runs the Python
blocks of docs/otel.md against it."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from page_blocks import python_blocks, run_python_blocks

from modelflags import Evidence
from modelflags.evidence import OtelTracker
from modelflags.testing import flags_from_yaml

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "otel.md"

FLAGS = flags_from_yaml("""\
version: 1
flags:
  answer_route:
    default: control
    variations:
      control:   {modelRoute: model_a}
      candidate: {modelRoute: model_b}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    split: {control: 50, candidate: 50}
    experiment: {key: route-test, control: control}
""")


class Collector:
    """A stand-in OTel Collector: OTLP/HTTP (protobuf) on 127.0.0.1, requests decoded and kept;
    the log requests also appended to ``log_file`` as OTLP JSON lines, as the Collector's
    ``file`` exporter writes them."""

    def __init__(self, log_file: Path | None = None) -> None:
        self.logs: list[ExportLogsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.log_file = log_file
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                answer = collector.receive(self.path, body)
                self.send_response(200 if answer is not None else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer or b"")))
                self.end_headers()
                self.wfile.write(answer or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def receive(self, path: str, body: bytes) -> bytes | None:
        with self.lock:
            if path == "/v1/logs":
                logs = ExportLogsServiceRequest.FromString(body)
                self.logs.append(logs)
                if self.log_file is not None:
                    with self.log_file.open("a") as out:
                        out.write(json.dumps(json_format.MessageToDict(logs)) + "\n")
                return ExportLogsServiceResponse().SerializeToString()
            if path == "/v1/traces":
                self.traces.append(ExportTraceServiceRequest.FromString(body))
                return ExportTraceServiceResponse().SerializeToString()
        return None

    def log_records(self) -> list[Any]:
        with self.lock:
            return [
                record
                for request in self.logs
                for resource in request.resource_logs
                for scope in resource.scope_logs
                for record in scope.log_records
            ]

    def span_events(self) -> list[Any]:
        with self.lock:
            return [
                event
                for request in self.traces
                for resource in request.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans
                for event in span.events
            ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Collector]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    (tmp_path / "collector").mkdir()
    collector = Collector(tmp_path / "collector" / "modelflags-logs.json")
    yield collector
    collector.close()


def plain(value: AnyValue) -> Any:
    """An OTLP AnyValue as a plain value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    return getattr(value, kind)


def test_exposures_and_outcomes_reach_a_collector_through_the_otlp_log_exporter(
    collector: Collector,
) -> None:
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "support-assistant"}), shutdown_on_exit=False
    )
    exporter = OTLPLogExporter(endpoint=f"{collector.endpoint}/v1/logs", timeout=5)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    evidence = Evidence(OtelTracker(provider), flush_interval=0.01)
    for n in range(30):
        resolution = FLAGS.evaluate("answer_route", {"conversationId": f"conv-{n}"})
        evidence.exposure(resolution).record(latency_ms=100.0 + n, tokens=n)
        evidence.outcome("support_csat", resolution, score=n % 5)
    assert evidence.flush(timeout=20)
    evidence.close()
    provider.shutdown()

    records = collector.log_records()
    assert len(records) == 60
    by_name: dict[str, list[Any]] = {}
    for record in records:
        by_name.setdefault(record.event_name, []).append(record)
    assert {name: len(found) for name, found in by_name.items()} == {
        "modelflags.exposure": 30,
        "modelflags.outcome": 30,
    }
    exposure = next(
        r for r in by_name["modelflags.exposure"] if plain(r.body)["unitId"] == "conv-7"
    )
    body = plain(exposure.body)
    attributes = {kv.key: plain(kv.value) for kv in exposure.attributes}
    assert body["latencyMs"] == 107.0 and body["attributes"] == {"tokens": 7}
    assert body["variation"] == FLAGS.evaluate("answer_route", {"conversationId": "conv-7"}).variant
    assert attributes["feature_flag.context.id"] == "conv-7"
    assert attributes["feature_flag.result.variant"] == body["variation"]
    assert attributes["modelflags.event.id"] == body["eventId"]
    assert exposure.severity_text == "INFO" and exposure.time_unix_nano > 0
    (resource,) = {
        kv.value.string_value
        for request in collector.logs
        for resource_logs in request.resource_logs
        for kv in resource_logs.resource.attributes
        if kv.key == "service.name"
    }
    assert resource == "support-assistant"


def text_block_after(heading: str) -> str:
    section = PAGE.read_text().split(heading, 1)[1]
    (block,) = re.findall(r"^```text\n(.*?)^```", section, flags=re.M | re.S)[:1]
    return block


def test_every_python_block_of_the_otel_page_runs_against_a_collector(
    collector: Collector, tmp_path: Path
) -> None:
    blocks = python_blocks(PAGE)
    assert len(blocks) >= 4
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "NO_PROXY": "127.0.0.1,localhost"}
    result = run_python_blocks(blocks, tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(r.event_name for r in collector.log_records()) == [
        "modelflags.exposure",
        "modelflags.outcome",
    ]
    # the span event the page shows is the one the Collector received (the config version
    # is a hash of the flag files, so it is only checked to be there)
    (event,) = collector.span_events()
    received = {kv.key: plain(kv.value) for kv in event.attributes}
    shown = dict(
        line.strip().split(None, 1)
        for line in text_block_after("## What a request records").splitlines()[1:]
    )
    assert event.name == text_block_after("## What a request records").splitlines()[0]
    assert received.pop("feature_flag.version") and shown.pop("feature_flag.version")
    assert received == shown
    # the page's last command reads back what went through the Collector
    (command,) = re.findall(r"^```sh\n(modelflags report .*?)^```", PAGE.read_text(), re.M | re.S)
    report = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    assert "support_answer_model_route" in report.stdout


def test_the_collector_config_on_the_otel_page_receives_otlp_and_writes_the_logs() -> None:
    (block,) = re.findall(r"^```yaml\n(.*?)^```", PAGE.read_text(), flags=re.M | re.S)
    config = yaml.safe_load(block)
    assert "http" in config["receivers"]["otlp"]["protocols"]
    pipelines = config["service"]["pipelines"]
    logs = pipelines["logs/modelflags"]
    assert logs["receivers"] == ["otlp"] and "file/modelflags" in logs["exporters"]
    used = {name for pipeline in pipelines.values() for part in pipeline.values() for name in part}
    declared = {*config["receivers"], *config["processors"], *config["exporters"]}
    assert used == declared
