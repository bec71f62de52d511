"""``OtelTracker``: evidence events as OpenTelemetry log records, through a real SDK
``LoggerProvider`` and its in-memory exporter (the OTLP path is in
tests/integrations/test_otel_collector.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)

from modelflags import Evidence, ModelFlagsError, tracker_from_url
from modelflags.evidence import OtelTracker, TrackerUnavailable
from modelflags.evidence.otel_tracker import log_record
from modelflags.testing import flags_from_yaml

ROOT = Path(__file__).resolve().parents[2]

FLAGS = flags_from_yaml("""\
version: 1
flags:
  answer_route:
    default: control
    variations:
      control:   {modelRoute: model_a, promptVersion: v3, retrievalProfile: baseline}
      candidate: {modelRoute: model_b, promptVersion: v4, retrievalProfile: wide}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    split: {control: 50, candidate: 50}
    experiment: {key: route-test, control: control}
""")


@pytest.fixture
def exported() -> Iterator[tuple[LoggerProvider, InMemoryLogRecordExporter]]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def records(exporter: InMemoryLogRecordExporter) -> list[Any]:
    return [readable.log_record for readable in exporter.get_finished_logs()]


def test_an_exposure_becomes_one_log_record_with_the_event_as_its_body(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    evidence = Evidence(OtelTracker(provider), flush_interval=0.01)
    resolution = FLAGS.evaluate("answer_route", {"conversationId": "conv-7"})
    evidence.exposure(resolution).record(latency_ms=830.0, estimated_cost=0.003)
    assert evidence.flush()
    evidence.close()
    (record,) = records(exporter)
    body = record.body
    assert record.event_name == "modelflags.exposure"
    assert record.severity_text == "INFO"
    assert (body["event"], body["unitId"], body["latencyMs"]) == ("exposure", "conv-7", 830.0)
    assert body["variation"] == resolution.variant
    assert dict(record.attributes) == {
        "feature_flag.key": "answer_route",
        "feature_flag.result.variant": resolution.variant,
        "feature_flag.result.reason": "split",
        "feature_flag.context.id": "conv-7",
        "feature_flag.set.id": "route-test",
        "feature_flag.version": body["configVersion"],
        "feature_flag.provider.name": "modelflags",
        "modelflags.event.name": "exposure",
        "modelflags.event.id": body["eventId"],
    }


def test_the_record_time_is_the_events_time(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    event = {"event": "exposure", "eventId": "e1", "timestamp": "2026-11-22T03:40:12.123Z"}
    OtelTracker(provider).emit([event])
    (record,) = records(exporter)
    assert record.timestamp == 1795318812_123_000_000


@pytest.mark.parametrize(
    "timestamp", [None, "yesterday", "2026-11-22T03:40:12.1x3Z", "2026-13-45T03:40:12Z", True]
)
def test_an_unreadable_timestamp_leaves_only_the_observed_time(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter], timestamp: object
) -> None:
    provider, exporter = exported
    OtelTracker(provider).emit([{"event": "exposure", "eventId": "e1", "timestamp": timestamp}])
    (record,) = records(exporter)
    assert record.timestamp is None
    assert record.observed_timestamp > 0


def test_every_outcome_is_a_modelflags_outcome_record_naming_itself(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    evidence = Evidence(OtelTracker(provider), flush_interval=0.01)
    resolution = FLAGS.evaluate("answer_route", {"conversationId": "conv-7"})
    evidence.outcome("support_csat", resolution, score=4.5)
    evidence.outcome("refund_requested", resolution, value=1)
    evidence.close()
    names = {r.attributes["modelflags.event.name"]: r.event_name for r in records(exporter)}
    assert names == {"support_csat": "modelflags.outcome", "refund_requested": "modelflags.outcome"}


def test_values_an_otel_body_cannot_hold_are_written_as_in_jsonl(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    evidence = Evidence(OtelTracker(provider), flush_interval=0.01)
    resolution = FLAGS.evaluate("answer_route", {"conversationId": "conv-7"})
    evidence.exposure(resolution).record(
        latency_ms=float("nan"), odd=object(), ratio=float("inf"), tags=("a", "b")
    )
    evidence.close()
    (record,) = records(exporter)
    assert record.body["latencyMs"] is None
    attributes = record.body["attributes"]
    assert attributes["ratio"] is None and attributes["tags"] == ["a", "b"]
    assert isinstance(attributes["odd"], str) and attributes["odd"].startswith("<object")


def test_a_batch_that_cannot_be_built_is_emitted_not_at_all(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, exporter = exported
    import modelflags.evidence.otel_tracker as module

    def build(event: dict[str, Any]) -> Any:
        if event["eventId"] == "e2":
            raise ValueError("cannot build e2")
        return log_record(event)

    monkeypatch.setattr(module, "log_record", build)
    events = [{"event": "exposure", "eventId": f"e{n}"} for n in (1, 2, 3)]
    with pytest.raises(ValueError, match="e2"):
        OtelTracker(provider).emit(events)
    assert records(exporter) == []


class StuckProcessor(LogRecordProcessor):
    """A processor whose exports never finish in time (a Collector that hangs)."""

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return False


def test_a_pipeline_that_does_not_flush_in_time_makes_flush_say_so() -> None:
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(StuckProcessor())
    with pytest.raises(TrackerUnavailable, match="did not flush"):
        OtelTracker(provider).flush(timeout=0.05)
    evidence = Evidence(OtelTracker(provider), flush_interval=0.01)
    evidence.outcome("support_csat", FLAGS.evaluate("answer_route", {"conversationId": "c"}))
    assert evidence.flush(timeout=1.0) is False
    evidence.close(timeout=1.0)


def test_flush_waits_for_a_batch_processor_to_export() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000)
    )
    evidence = Evidence(OtelTracker(provider), flush_interval=0.01)
    for n in range(50):
        evidence.outcome(
            "support_csat", FLAGS.evaluate("answer_route", {"conversationId": f"c{n}"})
        )
    assert evidence.flush(timeout=10)
    assert len(exporter.get_finished_logs()) == 50
    evidence.close()
    provider.shutdown()


def test_closing_the_evidence_leaves_the_applications_provider_running(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    Evidence(OtelTracker(provider), flush_interval=0.01).close()
    after = Evidence(OtelTracker(provider), flush_interval=0.01)
    after.outcome("support_csat", FLAGS.evaluate("answer_route", {"conversationId": "c"}))
    after.close()
    assert len(records(exporter)) == 1


def test_the_otel_url_names_a_tracker_on_the_global_provider() -> None:
    assert isinstance(tracker_from_url("otel:"), OtelTracker)
    assert isinstance(tracker_from_url("OTEL://"), OtelTracker)
    with pytest.raises(ModelFlagsError, match=r"unknown tracker URL.*otel:"):
        tracker_from_url("otlp://collector:4318")


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_tracker_on_the_global_provider_follows_one_set_after_it_was_made(
    tmp_path: Path,
) -> None:
    result = run_python(
        """
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import (
            InMemoryLogRecordExporter, SimpleLogRecordProcessor,
        )
        from modelflags import tracker_from_url

        tracker = tracker_from_url("otel:")          # before any provider is set
        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        set_logger_provider(provider)
        tracker.emit([{"event": "exposure", "eventId": "e1"}])
        print([r.log_record.event_name for r in exporter.get_finished_logs()])
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['modelflags.exposure']"]


def test_modelflags_imports_without_opentelemetry_and_the_tracker_names_the_extra(
    tmp_path: Path,
) -> None:
    result = run_python(
        """
        import sys

        class NoOtel:  # as if the otel extra were not installed
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ImportError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, NoOtel())
        import modelflags
        from modelflags.evidence import OtelTracker
        try:
            OtelTracker()
        except modelflags.ModelFlagsError as error:
            print(error)
        try:
            modelflags.tracker_from_url("otel:")
        except modelflags.ModelFlagsError as error:
            print(error)
        assert not any(name.startswith("opentelemetry") for name in sys.modules)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == ["the otel tracker needs OpenTelemetry: pip install 'modelflags[otel]'"] * 2


def test_events_recorded_just_before_exit_reach_a_provider_made_after_modelflags(
    tmp_path: Path,
) -> None:
    # OpenTelemetry shuts a provider down at exit; it must not do so before the evidence
    # has delivered what it still holds (nobody closes the evidence in this program).
    out = tmp_path / "exported.txt"
    result = run_python(
        f"""
        from modelflags import Evidence
        from modelflags.evidence import OtelTracker
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import (
            BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult,
        )

        class FileExporter(LogRecordExporter):
            def export(self, batch):
                with open({str(out)!r}, "a") as f:
                    f.writelines(str(r.log_record.body["eventId"]) + "\\n" for r in batch)
                return LogRecordExportResult.SUCCESS

            def shutdown(self):
                pass

            def force_flush(self, timeout_millis=30000):
                return True

        provider = LoggerProvider()
        provider.add_log_record_processor(BatchLogRecordProcessor(FileExporter()))
        evidence = Evidence(OtelTracker(provider), flush_interval=30)
        for n in range(20):
            evidence.outcome("support_csat", "answer_route", {{"targetingKey": f"u{{n}}"}}, 1)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().split()) == 20


def exported_names(events: Sequence[dict[str, Any]]) -> list[str]:
    return [log_record(event).event_name or "" for event in events]


def test_assignment_events_have_a_record_name_of_their_own() -> None:
    events = [{"event": "assignment"}, {"event": "exposure"}, {"event": "csat"}, {}]
    assert exported_names(events) == [
        "modelflags.assignment", "modelflags.exposure", "modelflags.outcome", "modelflags.outcome",
    ]  # fmt: skip
