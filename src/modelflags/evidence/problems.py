"""``Problems``: each delivery problem is logged once when it starts and once when it ends.

An outage of an hour is two log lines, not one per batch; a problem that ends (the collector
answers again) is logged as recovered, so the next outage is logged again.

Logs go through the standard :mod:`logging` module, to the ``modelflags.evidence`` logger:
the application decides level, handler and destination. A record's details (``error``,
``queue_size``, ...) are in its message and, for handlers that read fields, its attributes;
a delivery problem also carries ``problem``, the key it is logged once under.
"""

from __future__ import annotations

import logging
from contextlib import suppress

__all__ = ["LOGGER_NAME", "Problems", "describe", "log_details", "logger"]

LOGGER_NAME = "modelflags.evidence"
"""The logger every evidence module logs to."""

logger = logging.getLogger(LOGGER_NAME)

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
"""Attribute names a LogRecord already has: a detail by one of these names is renamed."""

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


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
            log_details(level, message, {"problem": key, **details})

    def ended(self, key: str, message: str = "evidence destination recovered") -> None:
        """Problem ``key`` is over: log it once (if it was going on)."""
        if key in self._current:
            self._current.discard(key)
            log_details("info", message, {"problem": key})


def log_details(level: str, message: str, details: dict[str, object]) -> None:
    """Log ``message`` at ``level`` ("info", "warning", "error") with ``details`` shown after
    it (as ``repr``: a value from a collector's answer cannot forge a log line) and set as
    record attributes. A logging set-up that fails (a closed stream) must not
    stop delivery or recording, so nothing it raises gets out."""
    with suppress(Exception):  # nowhere left to report it
        shown = {key: value for key, value in details.items() if key != "problem"}
        template = message
        if shown:
            template += " (" + ", ".join(f"{key}=%r" for key in shown) + ")"
        extra = {(f"{key}_" if key in _RESERVED else key): value for key, value in details.items()}
        logger.log(_LEVELS.get(level, logging.ERROR), template, *shown.values(), extra=extra)


def describe(error: BaseException) -> str:
    """An error for the log: its type and message (which names the path, for OS errors)."""
    return f"{type(error).__name__}: {error}"
