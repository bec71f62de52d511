"""``ServedRoute``: which route answered a routed call, as the caller can use it.

``router.chat`` returns exactly what the client returns, so a completion cannot say which
variation ran, nor whether it was the fallback (the control and the fallback may call the
same model). ``router.chat_with_route`` returns a :class:`ServedRoute` beside it: the same
facts the call's exposure records, known when the call returns. For a stream that is when
its response has started: the route cannot change after that (there is no fallback once
chunks arrive), so a stream's ``ServedRoute`` is final too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["ServedRoute"]


@dataclass(frozen=True)
class ServedRoute:
    """The route a call ran on, and how it came to run on it.

    ``assigned_variation`` is what the evaluation chose for the unit (the exposure's
    ``assignedVariation``; None when the evaluation failed and the default route ran);
    ``served_variation`` is the variation that answered (the exposure's ``variation``: the
    fallback's name after a fallback). ``route`` is the route's value, the variation's
    fields (read-only: ``dict(served.route)`` is a copy to change), and ``model_route``
    its ``modelRoute``, the ``model`` the client was called with. ``fallback_used`` and
    ``fallback_reason`` (``timeout``, ``rate_limited``, ``server_error``,
    ``connection_error`` or ``invalid_route``) say whether, and why, the route is not the
    one assigned. ``reason`` is the evaluation's reason (``SPLIT``, ``TARGETING_MATCH``,
    ``ERROR``, ...).
    """

    flag_key: str
    assigned_variation: str | None
    served_variation: str | None
    model_route: str
    route: Mapping[str, Any] = field(hash=False)  # a mapping is not hashable; the rest is
    fallback_used: bool
    fallback_reason: str | None
    reason: str | None

    def __post_init__(self) -> None:
        if not isinstance(self.route, MappingProxyType):  # a copy the caller cannot change
            object.__setattr__(self, "route", MappingProxyType(dict(self.route)))
