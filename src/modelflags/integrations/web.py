"""The request's unit in OpenFeature's transaction context: the framework-free core.

A web middleware reads the assignment unit of each request (a conversation, a user, an
account) from a path parameter, a header or a cookie, and makes it, with a few optional
attributes from headers, the request's OpenFeature *transaction context*. Code handling the
request then evaluates flags without passing a context, and every evaluation of the request
is keyed on the same unit. :mod:`modelflags.integrations.starlette` and
:mod:`modelflags.integrations.django` adapt this module to their frameworks.

Values come from the client, so they are bounded: a value longer than :data:`MAX_VALUE`
characters (the engine's limit on unit ids) or that is not valid text is left out of the
context (never truncated: two units sharing a prefix would share an arm), counted in
:attr:`UnitReader.counters` and warned about once per source, naming the problem (too long,
not text), never the value.
The next source is then tried; without any, evaluations of flags that need a unit serve the
default with ``TARGETING_KEY_MISSING``, as for a request that sent none.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from openfeature import api
from openfeature import transaction_context as _transaction
from openfeature.evaluation_context import EvaluationContext
from openfeature.transaction_context import ContextVarsTransactionContextPropagator
from openfeature.transaction_context.no_op_transaction_context_propagator import (
    NoOpTransactionContextPropagator,
)

from modelflags.engine.unit_ids import MAX_UNIT_ID

__all__ = [
    "MAX_VALUE",
    "PRECEDENCE",
    "Reading",
    "RequestValues",
    "SourceKind",
    "UnitFrom",
    "UnitReader",
    "ensure_propagator",
    "enter_transaction",
    "restore_transaction",
    "value_text",
]

log = logging.getLogger("modelflags.integrations.web")

MAX_VALUE = MAX_UNIT_ID
"""The longest value, in characters, taken from a request (unit or attribute)."""

SourceKind = Literal["path_param", "header", "cookie"]

PRECEDENCE: tuple[SourceKind, ...] = ("path_param", "header", "cookie")
"""The order sources are tried in: the most explicit (the URL names the resource) first, the
most ambient (a cookie the browser sends anyway) last. The first valid value wins."""

TARGETING_KEY = "targetingKey"


class RequestValues(Protocol):
    """What a framework adapter offers the reader: one value per name, or None if absent."""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), read as Latin-1."""

    def cookie(self, name: str) -> str | None:
        """The value of cookie ``name``."""

    def path_param(self, name: str) -> object:
        """The value of path parameter ``name`` as the router converted it (None if none)."""


@dataclass(frozen=True)
class UnitFrom:
    """Where a request's unit comes from, and what it becomes in the context.

    Any of ``path_param``, ``header`` and ``cookie`` (at least one); they are tried in
    :data:`PRECEDENCE` order and the first valid value wins. ``attribute`` is the context
    attribute the unit becomes: ``targetingKey`` (the default) sets the targeting key, any
    other name an attribute (the flag's ``assignment.key``, e.g. ``conversationId``).
    ``headers`` maps more attribute names to the headers they are read from (e.g.
    ``{"plan": "X-Plan"}``), for rules and segments.
    """

    header: str | None = None
    cookie: str | None = None
    path_param: str | None = None
    attribute: str = TARGETING_KEY
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for option in ("header", "cookie", "path_param"):
            name = getattr(self, option)
            if name is not None and (not isinstance(name, str) or not name.strip()):
                raise ValueError(f"UnitFrom {option}= must be a non-empty string, not {name!r}")
        if self.header is None and self.cookie is None and self.path_param is None:
            raise ValueError("UnitFrom needs at least one of header=, cookie= or path_param=")
        if not isinstance(self.attribute, str) or not self.attribute:
            raise ValueError(f"UnitFrom attribute= must be a non-empty string: {self.attribute!r}")
        if not isinstance(self.headers, Mapping):
            raise ValueError("UnitFrom headers= maps attribute names to header names")
        for attribute, header in self.headers.items():
            if not isinstance(attribute, str) or not attribute:
                raise ValueError(f"UnitFrom headers=: {attribute!r} is not an attribute name")
            if not isinstance(header, str) or not header.strip():
                raise ValueError(f"UnitFrom headers=: {header!r} is not a header name")
        if self.attribute in self.headers:
            raise ValueError(f"UnitFrom: '{self.attribute}' is both the unit and a header")
        if self.header is not None:
            object.__setattr__(self, "header", self.header.strip().lower())
        headers = {name: header.strip().lower() for name, header in self.headers.items()}
        object.__setattr__(self, "headers", MappingProxyType(headers))

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> UnitFrom:
        """A UnitFrom from settings: the keyword arguments as a mapping."""
        known = ("header", "cookie", "path_param", "attribute", "headers")
        unknown = sorted(str(key) for key in config if key not in known)
        if unknown:
            raise ValueError(f"unknown unit setting(s) {unknown}; known: {', '.join(known)}")
        return cls(**config)

    @property
    def sources(self) -> tuple[tuple[SourceKind, str], ...]:
        """(kind, name) of each configured source, in the order they are tried."""
        names = {"path_param": self.path_param, "header": self.header, "cookie": self.cookie}
        return tuple((kind, name) for kind in PRECEDENCE if (name := names[kind]) is not None)


@dataclass(frozen=True)
class Reading:
    """What one request said: its unit (None if no source had a valid one), where it came
    from (``"header x-conversation-id"``), and the extra attributes found."""

    unit: str | None
    source: str | None
    attributes: Mapping[str, str]

    def context(self, attribute: str = TARGETING_KEY) -> EvaluationContext | None:
        """The evaluation context to merge into the transaction context (None: nothing)."""
        return _context(self.unit, dict(self.attributes), attribute)


def _context(
    unit: str | None, attributes: dict[str, str], attribute: str
) -> EvaluationContext | None:
    if unit is None and not attributes:
        return None
    if attribute == TARGETING_KEY:
        return EvaluationContext(unit, attributes)
    if unit is not None:
        attributes[attribute] = unit
    return EvaluationContext(None, attributes)


def value_text(raw: object) -> str | None:
    """A request value as unit text: strings as they are, integers in decimal, UUIDs in
    canonical form; None for anything else (the engine's rule: a float or a structure is
    not a unit id, since two services may spell it differently)."""
    if type(raw) is str:
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, uuid.UUID):
        return str(raw)
    return None


class UnitReader:
    """Reads requests for a :class:`UnitFrom`, counting the values it refuses.

    One reader serves every request of a middleware (thread-safe). Make it yourself and pass
    it to the middleware to read :attr:`counters`.
    """

    def __init__(self, unit: UnitFrom) -> None:
        self.unit = unit
        self._sources = unit.sources
        self._extra = tuple(unit.headers.items())
        self._lock = threading.Lock()
        self._rejected = 0
        self._warned: set[str] = set()

    @property
    def counters(self) -> dict[str, int]:
        """``rejected``: request values left out (too long, not text, not a unit id)."""
        return {"rejected": self._rejected}

    def context(self, values: RequestValues) -> EvaluationContext | None:
        """The evaluation context of one request (None when it gave nothing to put in)."""
        unit, _, attributes = self._find(values)
        return _context(unit, attributes, self.unit.attribute)

    def read(self, values: RequestValues) -> Reading:
        """The unit and attributes of one request, and where the unit came from."""
        return Reading(*self._find(values))

    def _find(self, values: RequestValues) -> tuple[str | None, str | None, dict[str, str]]:
        unit = source = None
        for kind, name in self._sources:
            if kind == "header":
                raw: object = values.header(name)
            elif kind == "cookie":
                raw = values.cookie(name)
            else:
                raw = values.path_param(name)
            text = self.accept(kind, name, raw)
            if text is not None:
                unit, source = text, f"{kind} {name}"
                break
        attributes: dict[str, str] = {}
        for attribute, header in self._extra:
            text = self.accept("header", header, values.header(header))
            if text is not None:
                attributes[attribute] = text
        return unit, source, attributes

    def accept(self, kind: str, name: str, raw: object) -> str | None:
        """``raw`` as a context value, or None: absent or empty (not counted), or refused
        (counted, and warned about once per source)."""
        if type(raw) is str and 0 < len(raw) <= MAX_VALUE and raw.isascii():
            return raw  # the common case, first
        if raw is None or raw == "":
            return None
        text = value_text(raw)
        problem = None
        if text is None:
            problem = f"a {type(raw).__name__} is not a unit id"
        elif len(text) > MAX_VALUE:
            problem = f"longer than {MAX_VALUE} characters"
        elif not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                problem = "not valid Unicode text"
        if problem is None:
            return text
        where = f"{kind} {name}"
        with self._lock:
            self._rejected += 1
            first = where not in self._warned
            self._warned.add(where)
        if first:
            log.warning(
                "request %s left out of the flag context: %s (warned once per source)",
                where, problem, extra={"source": where},
            )  # fmt: skip
        return None


def ensure_propagator() -> None:
    """Install OpenFeature's contextvars propagator if none is (the SDK's default does
    nothing: a transaction context set through it would be dropped). A propagator the
    application installed is kept."""
    current = getattr(_transaction, "_evaluation_transaction_context_propagator", None)
    # type(), not isinstance(): the propagators are typing Protocols, slow to isinstance
    if current is None or type(current) is NoOpTransactionContextPropagator:
        api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())


def enter_transaction(context: EvaluationContext) -> EvaluationContext:
    """Merge ``context`` over the current transaction context (it wins on a clash); returns
    the previous one, for :func:`restore_transaction` when the request ends."""
    ensure_propagator()
    previous = api.get_transaction_context()
    empty = previous.targeting_key is None and not previous.attributes
    api.set_transaction_context(context if empty else previous.merge(context))
    return previous


def restore_transaction(previous: EvaluationContext) -> None:
    """Put back the transaction context :func:`enter_transaction` replaced, so nothing of a
    request (nor what its handler set) outlives it on a reused thread or task."""
    api.set_transaction_context(previous)
