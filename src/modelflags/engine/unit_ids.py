"""Unit ids: which context values name a unit, and as which string (docs/assignment.md).

>>> unit_id_of("conv-1"), unit_id_of(42), unit_id_of(True), unit_id_of(4.2)
('conv-1', '42', None, None)
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_UNIT_ID", "unit_id_of"]

MAX_UNIT_ID = 1024
"""The longest unit id, in characters; a longer one is ``INVALID_CONTEXT``."""


def unit_id_of(raw: Any) -> str | None:
    """A unit id as a string: strings as they are, integers in decimal, else ``None``.

    Booleans, floats and structured values are not unit ids: two services that spell the
    same unit differently would otherwise land in different arms. Text longer than
    :data:`MAX_UNIT_ID` characters is not one either: a request could otherwise make every
    evaluation hash and copy megabytes.
    """
    if type(raw) is str:
        return raw if len(raw) <= MAX_UNIT_ID else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None
