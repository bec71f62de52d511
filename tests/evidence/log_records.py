"""The warnings the evidence logs, as the tests read them from ``caplog``, and the details
each record carries (given to the logger as ``extra=``)."""

from __future__ import annotations

import logging
from typing import Any

import pytest


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The warnings the evidence logged."""
    return [
        entry
        for entry in caplog.records
        if entry.name == "modelflags.evidence" and entry.levelno == logging.WARNING
    ]


def detail(entry: logging.LogRecord, name: str) -> Any:
    """A detail the record carries as an attribute (given in ``extra=``)."""
    return entry.__dict__[name]
