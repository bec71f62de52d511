"""Times as the review commands print them: RFC 3339 in UTC, whole seconds, ``Z``."""

from __future__ import annotations

import time

__all__ = ["utc_text"]


def utc_text(epoch: float) -> str:
    """``2026-11-15T12:00:00Z`` for epoch seconds (fractions dropped, so output is stable)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch // 1)))
