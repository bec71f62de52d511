"""ASGI middleware for Starlette and FastAPI: each request's unit in OpenFeature's
transaction context, and the evidence closed when the application shuts down.

>>> app.add_middleware(                                            # doctest: +SKIP
...     ModelFlagsMiddleware,
...     unit=UnitFrom(header="X-Conversation-Id", attribute="conversationId"),
...     evidence=evidence,
... )

It is a pure ASGI middleware (no ``BaseHTTPMiddleware``): the context is set before the
application runs and restored after its last message, so a streamed body, a background task
and a sync endpoint run in a worker thread all see the request's context, and nothing of it
outlives the request.

Path parameters: Starlette resolves them in its router, after the middleware has run. When
``path_param=`` is configured, the middleware matches the request against the
application's routes itself (``scope["app"].routes``, descending into mounts, as the router
will), which costs one more route match per request; a middleware placed on a route
(``Route(..., middleware=[...])``) finds them resolved already. An application that is not
Starlette's (no ``routes``) yields no path parameter, and the next source is tried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio.to_thread
from starlette.requests import cookie_parser
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelflags.evidence.recorder import Evidence
from modelflags.integrations.web import (
    MAX_VALUE,
    UnitFrom,
    UnitReader,
    enter_transaction,
    restore_transaction,
)

__all__ = ["ModelFlagsMiddleware", "UnitFrom", "UnitReader"]

MAX_MOUNT_DEPTH = 16
"""Mounts nested deeper than this are not searched for path parameters."""


class ModelFlagsMiddleware:
    """Puts each request's unit into OpenFeature's transaction context.

    ``unit`` says where the unit comes from (a :class:`UnitFrom`, or a :class:`UnitReader`
    to read its counters). ``evidence``, if given, is closed (delivering what it holds,
    within ``close_timeout`` seconds) when the application's lifespan shutdown completes;
    closing it again later (the provider's shutdown does) is harmless.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        unit: UnitFrom | UnitReader,
        evidence: Evidence | None = None,
        close_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self.reader = unit if isinstance(unit, UnitReader) else UnitReader(unit)
        self.evidence = evidence
        self.close_timeout = close_timeout
        self._headers = frozenset(
            name.encode("latin-1")
            for name in (self.reader.unit.header, *self.reader.unit.headers.values())
            if name is not None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        context = self.reader.context(_AsgiRequest(self._headers, scope))
        if context is None:
            await self.app(scope, receive, send)
            return
        previous = enter_transaction(context)
        try:
            await self.app(scope, receive, send)
        finally:
            restore_transaction(previous)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        evidence = self.evidence
        if evidence is None:
            await self.app(scope, receive, send)
            return

        async def send_then_close(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                # Before telling the server it may exit; off the event loop: close() waits.
                await anyio.to_thread.run_sync(evidence.close, self.close_timeout)
            await send(message)

        await self.app(scope, receive, send_then_close)


class _AsgiRequest:
    """The values of one ASGI request, read only when the reader asks for them."""

    __slots__ = ("_found", "_scope", "_wanted")

    def __init__(self, wanted: frozenset[bytes], scope: Scope) -> None:
        self._wanted = wanted
        self._scope = scope
        self._found: dict[str, str] | None = None

    def header(self, name: str) -> str | None:
        if self._found is None:
            self._found = _first_values(self._scope.get("headers", ()), self._wanted)
        return self._found.get(name)

    def cookie(self, name: str) -> str | None:
        for key, raw in self._scope.get("headers", ()):
            if key == b"cookie":
                value = cookie_parser(raw.decode("latin-1")).get(name)
                if value is not None:
                    return value
        return None

    def path_param(self, name: str) -> object:
        params = self._scope.get("path_params")
        if isinstance(params, dict) and name in params:
            return params[name]
        routes = getattr(self._scope.get("app"), "routes", None)
        if routes is None:
            return None
        return _match(routes, self._scope, 0).get(name)


def _first_values(
    headers: Iterable[tuple[bytes, bytes]], wanted: frozenset[bytes]
) -> dict[str, str]:
    """The first value of each wanted header. A value longer than the reader takes is cut
    one character past the limit, so that it is refused without decoding megabytes."""
    found: dict[str, str] = {}
    for key, raw in headers:
        if key in wanted:
            name = key.decode("latin-1")
            if name not in found:
                found[name] = raw[: MAX_VALUE + 1].decode("latin-1")
    return found


def _match(routes: Iterable[Any], scope: Scope, depth: int) -> dict[str, Any]:
    """The path parameters the router will find for ``scope``: the first full match, else
    the first partial one (a route matched with another method), descending into mounts."""
    partial: dict[str, Any] | None = None
    for route in routes:
        matches = getattr(route, "matches", None)
        if matches is None:
            continue
        try:
            match, child = matches(scope)
        except Exception:  # a route that cannot match this scope
            continue
        if match is Match.FULL or (match is Match.PARTIAL and partial is None):
            params = dict(child.get("path_params") or {})
            inner = getattr(route, "routes", None)
            if inner and depth < MAX_MOUNT_DEPTH:
                params.update(_match(inner, {**scope, **child}, depth + 1))
            if match is Match.FULL:
                return params
            partial = params
    return partial or {}
