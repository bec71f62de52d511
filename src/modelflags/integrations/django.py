"""Django middleware: each request's unit in OpenFeature's transaction context.

Configured from settings::

    MIDDLEWARE = [..., "modelflags.integrations.django.ModelFlagsMiddleware", ...]
    MODELFLAGS = {
        "UNIT": {"header": "X-Conversation-Id", "attribute": "conversationId",
                 "headers": {"plan": "X-Plan"}},
    }

``UNIT`` holds the keyword arguments of :class:`~modelflags.integrations.web.UnitFrom`
(or a ``UnitFrom``, or a ``UnitReader`` to read its counters). The middleware runs sync
under WSGI and async under ASGI (no thread hop). Headers and cookies are read when the
request enters the middleware; a ``path_param`` is read in ``process_view``, from the URL
pattern's keyword arguments (after URL resolution, before the view), and wins over them.
The previous transaction context is restored when the response leaves the middleware: a
streamed response's iterator, consumed later by the server, runs without it.

Evidence: Django has no shutdown hook for WSGI, and its ASGI handler does not take lifespan
events; every open ``Evidence`` is closed at interpreter exit (2 s for all together), which
covers a server that exits normally (gunicorn and uvicorn workers do on SIGTERM).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags.integrations.web import (
    MAX_VALUE,
    Reading,
    UnitFrom,
    UnitReader,
    ensure_propagator,
    enter_transaction,
    restore_transaction,
)

__all__ = ["ModelFlagsMiddleware", "reader_from_settings"]

SETTING = "MODELFLAGS"


def reader_from_settings() -> UnitReader:
    """The reader ``settings.MODELFLAGS["UNIT"]`` describes (ImproperlyConfigured if none)."""
    config = getattr(settings, SETTING, None)
    if not isinstance(config, Mapping) or "UNIT" not in config:
        raise ImproperlyConfigured(
            f'settings.{SETTING} must be a dict with a "UNIT" entry, e.g. '
            f'{SETTING} = {{"UNIT": {{"header": "X-Conversation-Id"}}}}'
        )
    unit = config["UNIT"]
    if isinstance(unit, UnitReader):
        return unit
    if isinstance(unit, UnitFrom):
        return UnitReader(unit)
    if not isinstance(unit, Mapping):
        raise ImproperlyConfigured(f'settings.{SETTING}["UNIT"] must be a dict, not {unit!r}')
    try:
        return UnitReader(UnitFrom.from_mapping(unit))
    except (TypeError, ValueError) as error:
        raise ImproperlyConfigured(f'settings.{SETTING}["UNIT"]: {error}') from error


class ModelFlagsMiddleware:
    """Puts each request's unit into OpenFeature's transaction context (sync or async)."""

    sync_capable = True
    async_capable = True

    process_view: Callable[..., Any]  # set only when a path parameter is read

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.reader = reader_from_settings()
        unit = self.reader.unit
        self._meta = {
            name: "HTTP_" + name.upper().replace("-", "_")
            for name in (unit.header, *unit.headers.values())
            if name is not None
        }
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)
        if unit.path_param is not None:
            self.process_view = self._process_view_async if self._async else self._path_context

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        previous = self._enter(request)
        try:
            return self.get_response(request)
        finally:
            if previous is not None:
                restore_transaction(previous)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        previous = self._enter(request)
        try:
            respond: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            return await respond(request)
        finally:
            if previous is not None:
                restore_transaction(previous)

    def _enter(self, request: HttpRequest) -> EvaluationContext | None:
        """Set the context from headers and cookies; the context to restore (or None)."""
        context = self.reader.context(_DjangoRequest(request, self._meta))
        if context is not None:
            return enter_transaction(context)
        if self.reader.unit.path_param is not None:  # process_view may set the unit
            ensure_propagator()
            return api.get_transaction_context()
        return None

    def _path_context(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Mapping[str, Any]
    ) -> None:
        """After URL resolution: a path parameter found wins over headers and cookies."""
        name = self.reader.unit.path_param
        if name is None or name not in kwargs:
            return
        unit = self.reader.accept("path_param", name, kwargs[name])
        context = Reading(unit, f"path_param {name}", {}).context(self.reader.unit.attribute)
        if context is not None:
            api.set_transaction_context(api.get_transaction_context().merge(context))

    async def _process_view_async(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Mapping[str, Any]
    ) -> None:
        self._path_context(request, view, args, kwargs)


class _DjangoRequest:
    """The values of one Django request, as the reader asks for them."""

    __slots__ = ("_meta", "_request")

    def __init__(self, request: HttpRequest, meta: Mapping[str, str]) -> None:
        self._request = request
        self._meta = meta

    def header(self, name: str) -> str | None:
        value = self._request.META.get(self._meta.get(name, ""))
        # WSGI hands headers over as Latin-1 text; cut a hostile one past the limit
        return value[: MAX_VALUE + 1] if isinstance(value, str) else None

    def cookie(self, name: str) -> str | None:
        value = self._request.COOKIES.get(name)
        return value if isinstance(value, str) else None

    def path_param(self, name: str) -> object:
        return None  # not resolved yet: process_view reads it
