"""``Problems``: each delivery problem is logged once when it starts and once when it ends.

An outage of an hour is two log lines, not one per batch; a problem that ends (the collector
answers again) is logged as recovered, so the next outage is logged again. Logs go through
the ``modelflags`` structlog logger.
"""

from __future__ import annotations

from contextlib import suppress

import structlog

__all__ = ["Problems", "describe"]

log = structlog.get_logger("modelflags")


class Problems:
    """The problems going on now, by key; a key is logged when it is first raised."""

    def __init__(self) -> None:
        self._current: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self._current

    def raised(self, key: str, message: str, *, level: str = "error", **details: object) -> None:
        """Log ``message`` unless problem ``key`` is already going on."""
        if key not in self._current:
            self._current.add(key)
            _log(level, message, details)

    def ended(self, key: str, message: str = "evidence destination recovered") -> None:
        """Problem ``key`` is over: log it once (if it was going on)."""
        if key in self._current:
            self._current.discard(key)
            _log("info", message, {"problem": key})


def _log(level: str, message: str, details: dict[str, object]) -> None:
    """Log; a logging set-up that fails (a closed stream) must not stop delivery."""
    with suppress(Exception):  # nowhere left to report it
        getattr(log, level)(message, **details)


def describe(error: BaseException) -> str:
    """An error for the log: its type and message (which names the path, for OS errors)."""
    return f"{type(error).__name__}: {error}"
