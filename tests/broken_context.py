"""A context that fails when read: what both evaluation paths must survive.

The engine's ``decide`` raises what reading the context raises, and the direct path and the
provider turn that into an error result; their tests read the same broken mapping, from
``tests/engine`` and ``tests/`` alike (pytest imports the root ``conftest.py`` with this
folder on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

MESSAGE = "broken context"
"""What every lookup raises, as ``RuntimeError(MESSAGE)``."""


class BrokenContext(Mapping[str, Any]):
    """A Mapping whose every lookup fails."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError(MESSAGE)

    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError(MESSAGE)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError(MESSAGE)

    def __len__(self) -> int:
        raise RuntimeError(MESSAGE)
