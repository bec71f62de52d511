"""``OtelTracker``: evidence events as OpenTelemetry log records, for an OTel Collector.

Each event becomes one log record: event name ``modelflags.exposure``,
``modelflags.assignment`` or ``modelflags.outcome``; body the event as written to JSONL (a
map, the same keys and values); attributes the semantic-convention ``feature_flag.*`` ones
(:mod:`modelflags.evidence.otel`), plus ``modelflags.event.name`` (the event's own name) and
``modelflags.event.id`` (for de-duplication); timestamp the event's; severity INFO. The
records go to a ``LoggerProvider`` (the one given, or OpenTelemetry's global one), whose
processors and exporters (OTLP, usually) take them to the Collector. Records are emitted
from the evidence's background thread, so they carry no trace or span id: they join spans
and each other on ``feature_flag.context.id`` (the unit id) and the flag key.

OpenTelemetry is imported when a tracker is made, never before, so ``import modelflags``
does not need it (``pip install 'modelflags[otel]'``).

Delivery: ``emit`` hands the records to the provider's processors and returns; from there
the OpenTelemetry pipeline owns them (a ``BatchLogRecordProcessor`` queues, the OTLP
exporter retries, and drops when its queue is full or its retries run out). ``flush`` waits
for the provider's ``force_flush`` and raises :class:`TrackerUnavailable` when it does not
finish in time, so ``evidence.flush()`` says False. ``close`` leaves the provider alone: it
is the application's, and so is its shutdown, after the evidence is closed.
"""

from __future__ import annotations

import atexit
import calendar
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelflags.errors import ModelFlagsError
from modelflags.evidence.codec import decode_lines, encode_lines
from modelflags.evidence.otel import log_event_name, otel_attributes
from modelflags.evidence.tracker import Event, TrackerUnavailable

if TYPE_CHECKING:
    from opentelemetry._logs import LoggerProvider, LogRecord

__all__ = ["SCOPE", "OtelTracker", "log_record"]

SCOPE = "modelflags.evidence"
"""The instrumentation scope (logger name) of the records."""

_FLUSH_TIMEOUT = 30.0  # seconds, when the dispatcher gives none
_exit_hook: list[bool] = []  # registered once, by the first tracker made


def _close_evidence_at_exit() -> None:
    """Close every open Evidence now, before OpenTelemetry shuts its providers down.

    ``atexit`` runs handlers last registered first: an SDK ``LoggerProvider`` registers its
    shutdown when it is made, after ``modelflags`` registered its own exit handler, so it
    would shut down first and drop what the evidence delivers at exit. This handler is
    registered when the first tracker is made (after its provider), so it runs before.
    """
    from modelflags.evidence.recorder import _flush_at_exit

    _flush_at_exit()


class OtelTracker:
    """Sends every evidence event as an OpenTelemetry log record (see the module docstring).

    ``logger_provider``: an ``opentelemetry.sdk._logs.LoggerProvider`` (or any API
    ``LoggerProvider``); None uses OpenTelemetry's global one, looked up now (a proxy that
    follows ``set_logger_provider`` if none is set yet). Raises
    :class:`~modelflags.errors.ModelFlagsError` when OpenTelemetry is not installed.
    """

    def __init__(self, logger_provider: LoggerProvider | None = None) -> None:
        try:
            from opentelemetry import _logs
        except ImportError:
            raise ModelFlagsError(
                "the otel tracker needs OpenTelemetry: pip install 'modelflags[otel]'"
            ) from None
        self._provider = (
            logger_provider if logger_provider is not None else _logs.get_logger_provider()
        )
        self._logger = self._provider.get_logger(SCOPE)
        if not _exit_hook:
            _exit_hook.append(True)
            atexit.register(_close_evidence_at_exit)

    def emit(self, events: Sequence[Event], timeout: float | None = None) -> None:
        """Hand one log record per event to the provider; the records are built first, so
        a batch is emitted whole or not at all."""
        if not events:
            return
        # the events as written to JSONL: JSON values only (an OTel body cannot hold a set,
        # an object or NaN), repaired like every tracker's
        records = [log_record(event) for event in decode_lines(encode_lines(events))]
        emit = self._logger.emit
        for record in records:
            emit(record)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for the provider's processors to export what they hold (an SDK provider's
        ``force_flush``); raises :class:`TrackerUnavailable` if they did not in time."""
        force_flush = getattr(self._provider, "force_flush", None)
        if force_flush is None:  # the API's no-op or proxy provider: nothing to wait for
            return
        seconds = _FLUSH_TIMEOUT if timeout is None else max(0.001, timeout)
        if force_flush(timeout_millis=max(1, int(seconds * 1000))) is False:
            raise TrackerUnavailable(
                f"the OpenTelemetry log pipeline did not flush in {seconds:.3g} s"
            )

    def close(self) -> None:
        """Nothing to release: the provider is the application's to shut down."""


def log_record(event: Mapping[str, Any]) -> LogRecord:
    """The OTel log record of one evidence event (JSON values only)."""
    from opentelemetry._logs import LogRecord, SeverityNumber

    attributes: dict[str, Any] = otel_attributes(event)
    name, event_id = event.get("event"), event.get("eventId")
    if name is not None:
        attributes["modelflags.event.name"] = str(name)
    if event_id is not None:
        attributes["modelflags.event.id"] = str(event_id)
    return LogRecord(
        timestamp=_nanoseconds(event.get("timestamp")),
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        body=dict(event),
        attributes=attributes,
        event_name=log_event_name(event),
    )


def _nanoseconds(timestamp: Any) -> int | None:
    """Epoch nanoseconds of an RFC 3339 UTC timestamp (``2026-11-22T03:40:12.123Z``) or of
    epoch seconds; None when it is neither (the record then has only its observed time)."""
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        seconds = float(timestamp)
        return int(seconds * 1e9) if 0 <= seconds < 1e11 else None
    if not isinstance(timestamp, str) or len(timestamp) < 20 or not timestamp.endswith("Z"):
        return None
    fraction = timestamp[19:-1]
    if fraction and not (fraction.startswith(".") and fraction[1:].isdigit()):
        return None
    try:
        whole = calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    return whole * 1_000_000_000 + int((fraction[1:] + "000000000")[:9] or 0)
