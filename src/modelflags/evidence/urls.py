"""Choose a tracker from a URL, e.g. from the ``MODELFLAGS_EVIDENCE`` environment variable.

======================  ============================================
``jsonl:///abs/path``   :class:`JsonlTracker` on an absolute path
``jsonl:relative/path`` :class:`JsonlTracker` on a relative path
``jsonl:///p?writer=process``
                        :class:`JsonlProcessTracker` (a writer process)
``https://...``         :class:`HttpTracker` posting to that URL
``stdout:``             :class:`StdoutTracker` (JSON lines)
``structlog:``          :class:`StructlogTracker`
``memory:``             :class:`MemoryTracker`
``otel:``               :class:`OtelTracker` on OpenTelemetry's global
                        ``LoggerProvider`` (``modelflags[otel]``)
======================  ============================================
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from modelflags.errors import ModelFlagsError
from modelflags.evidence.http_tracker import HttpTracker
from modelflags.evidence.jsonl_process import JsonlProcessTracker
from modelflags.evidence.jsonl_tracker import JsonlTracker, StdoutTracker
from modelflags.evidence.structlog_tracker import StructlogTracker
from modelflags.evidence.tracker import MemoryTracker, Tracker

__all__ = ["tracker_from_url"]


def tracker_from_url(url: str) -> Tracker:
    """The tracker a URL names; raises ModelFlagsError for an unknown scheme or an invalid
    collector URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "jsonl":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ModelFlagsError(f"{url!r}: a jsonl tracker URL needs a path")
        writer = parse_qs(parts.query).get("writer", ["thread"])
        if writer == ["process"]:
            return JsonlProcessTracker(path)
        if writer != ["thread"]:
            raise ModelFlagsError(f"{url!r}: writer must be 'thread' or 'process'")
        return JsonlTracker(path)
    if scheme in ("http", "https"):
        try:
            return HttpTracker(url)
        except ValueError as error:  # the message names no credentials; the URL may hold some
            raise ModelFlagsError(f"tracker URL: {error}") from None
    if scheme == "stdout":
        return StdoutTracker()
    if scheme == "structlog":
        return StructlogTracker()
    if scheme == "memory":
        return MemoryTracker()
    if scheme == "otel":  # imports OpenTelemetry only now: it is an optional extra
        from modelflags.evidence.otel_tracker import OtelTracker

        return OtelTracker()
    known = "jsonl:///path, https://..., stdout:, structlog:, memory:, otel:"
    raise ModelFlagsError(f"{url!r}: unknown tracker URL (known: {known})")
