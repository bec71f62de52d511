"""Exposures written straight from their values, with most of their JSON encoded once.

Most of an exposure repeats from one event to the next: the flag, its experiment, the
variation that ran and the one assigned, the reason, the rule, the configuration version,
the fallback and the route fields are those of a few resolutions and values. For each
distinct set of them an :class:`ExposureForm` is made once and kept (a bounded cache): the
event's dict with those keys filled in, and the JSON around the per-event values. Per event
only the event id, the timestamp, the unit id, what was measured and the attributes are
encoded, straight into the line: no event dict is built (a tracker that wants dicts reads
them back from the lines, see :class:`~modelflags.evidence.codec.Batch`).

The line is the one the event's dict gives (:func:`modelflags.evidence.codec.encode`), byte
for byte: compact JSON of a dict is its members joined by commas, and every part here is
encoded by the same serializer with the same options, containers at the depth they have in
the event (the serializer's nesting limit counts from the top). When that serializer refuses
a value (a lone surrogate, a value that contains itself), :meth:`ExposureLines.line`
answers the event's dict instead, which the codec encodes, and repairs, the usual way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from pydantic_core import to_json

from modelflags.evidence.codec import fallback_text
from modelflags.evidence.events import (
    EXPOSURE_HEAD,
    exposure_keys,
    in_experiment,
    read_facts,
    rfc3339,
)
from modelflags.evidence.privacy import Privacy
from modelflags.evidence.tracker import Event

__all__ = [
    "CACHE_SIZE",
    "ExposureForm",
    "ExposureLines",
    "PendingExposure",
]

CACHE_SIZE = 1024
"""Forms kept per Evidence; the cache starts over when full (a flag whose metadata changes
with every evaluation only loses the gain)."""

_SHARED = EXPOSURE_HEAD[3:6] + EXPOSURE_HEAD[7:]  # flagKey ... fallbackReason, but unitId
_BOOLS = (_SHARED.index("inExperiment"), _SHARED.index("fallbackUsed"))  # always bool
_NO_TOKENS: tuple[None, None, None] = (None, None, None)
_NULL = b"null"
_OWN = 9  # an exposure's own values before its attributes: timestamp, unitId ... errorType
_ATOMS = frozenset({str, int, float, bool})


def _json(value: Any) -> bytes:
    """A value's JSON as it is written inside an event (a container one level deep, as
    there)."""
    if value is None:
        return _NULL
    if type(value) in _ATOMS:
        return to_json(value, inf_nan_mode="null", fallback=fallback_text)
    return to_json([value], inf_nan_mode="null", fallback=fallback_text)[1:-1]


def _members(names: tuple[str, ...], values: tuple[Any, ...]) -> bytes:
    """``"name":value`` pairs joined by commas, as the members of a dict one level deep."""
    pairs = dict(zip(names, values, strict=True))
    return to_json(pairs, inf_nan_mode="null", fallback=fallback_text)[1:-1]


class ExposureForm:
    """What the exposures of one resolution share: their dict with the per-event keys still
    empty, and the JSON from the timestamp's closing quote to the unit id (``head``) and
    from the unit id to the latency (``middle``)."""

    __slots__ = ("event", "head", "middle", "reusable")

    def __init__(self, lines: ExposureLines, shared: tuple[Any, ...]) -> None:
        names = _SHARED + lines.route_fields
        event: Event = dict.fromkeys(lines.keys)
        event["event"] = "exposure"
        event.update(zip(names, shared, strict=True))
        self.event = event
        self.head: bytes | None = None  # None: a value needs a repair (see _line)
        self.middle = b""
        try:
            self.head = b'",' + _members(names[:3], shared[:3]) + b',"unitId":'
            self.middle = b"," + _members(names[3:], shared[3:]) + b',"latencyMs":'
        except Exception:
            self.head = None
        # Kept only if every value is text or null: then an equal key holds equal text, so
        # the same JSON (1, 1.0 and True are equal keys, but written differently).
        self.reusable = self.head is not None and all(
            value is None or type(value) is str or index in _BOOLS
            for index, value in enumerate(shared)
        )


PendingExposure = tuple[Any, ...]
"""An exposure as the request path queues it (:meth:`ExposureLines.pending`): one flat
tuple of text and numbers (the attributes at its end, names and values in turn), unless an
attribute or route value is a list or a dict, so that the garbage collector stops tracking
it the first time it sees it, and a deep queue costs no full collections. Flat, because a
tuple holding a dict stays tracked for good, and one holding another tuple is let go only
once a collection has seen the inner one first, which it often does not: tuples of tokens
or attribute pairs inside kept a quarter of a busy queue tracked."""


def _route_reader(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """Reads ``fields`` of the value that ran, as a tuple: None for a field it lacks, and
    for every field when it is not an object."""
    if not fields:
        return lambda route: ()
    absent = (None,) * len(fields)
    every = itemgetter(*fields)  # one C call when every field is there
    one = len(fields) == 1

    def values(route: Any) -> tuple[Any, ...]:
        if type(route) is not dict:
            return absent
        try:
            found = every(route)
        except KeyError:
            return tuple(map(route.get, fields))
        return (found,) if one else found

    return values


class ExposureLines:
    """Writes an Evidence's exposures: its route fields, its keys, its forms, and the
    privacy applied to them (None: none that changes events)."""

    __slots__ = ("_forms", "_route_values", "_shared", "keys", "privacy", "route_fields")

    def __init__(self, route_fields: tuple[str, ...], privacy: Privacy | None = None) -> None:
        self.route_fields = route_fields
        self.privacy = privacy
        self.keys = exposure_keys(route_fields)
        self._route_values = _route_reader(route_fields)
        self._shared = len(_SHARED) + len(route_fields)  # values a pending exposure starts with
        self._forms: dict[tuple[Any, ...], ExposureForm] = {}

    def __reduce__(self) -> tuple[type[ExposureLines], tuple[Any, ...]]:
        """Pickled as its options (a writer process makes its own forms)."""
        return ExposureLines, (self.route_fields, self.privacy)

    def pending(  # noqa: PLR0917 -- positional on purpose: one call per exposure
        self,
        details: Any,
        context: Any,
        timestamp: float,
        fallback: str | None,
        fallback_reason: str | None,
        route: Any,
        latency_ms: float | None,
        estimated_cost: float | None,
        tokens: tuple[int | None, int | None, float | None] | None,
        error: bool,
        error_type: str | None,
        attributes: Mapping[str, Any] | None,
    ) -> PendingExposure:
        """An exposure of an evaluation result (``details``) for ``context``, as it is now,
        to be written by :meth:`line` in the background thread.

        ``fallback`` is the variation that ran instead of the assigned one (None: no
        fallback); ``route`` is the value that ran: when it is an object, its route fields
        are written as top-level keys (null when absent, or when it is not an object).
        ``tokens`` is ``(promptTokens, completionTokens, timeToFirstTokenMs)`` of a model
        call, or None when none was recorded (all three null). ``inExperiment``: see
        :func:`~modelflags.evidence.events.in_experiment`.
        """
        flag_key, variant, reason, metadata, unit = read_facts(details, context)
        get = metadata.get
        rule = get("rule")
        prompt_tokens, completion_tokens, first_token_ms = _NO_TOKENS if tokens is None else tokens
        return (
            flag_key, get("experimentKey"), get("assignmentUnit"),
            variant if fallback is None else fallback, variant, reason, rule,
            in_experiment(reason, rule, getattr(details, "error_code", None)),
            get("configVersion"), fallback is not None, fallback_reason,
            *self._route_values(route),
            timestamp, unit, latency_ms, first_token_ms, estimated_cost, prompt_tokens,
            completion_tokens, error, error_type,
            *(chain.from_iterable(attributes.items()) if attributes else ()),
        )  # fmt: skip

    def line(self, pending: PendingExposure, event_id: str) -> bytes | Event:
        """The JSON line (without its newline) of a :meth:`pending` exposure under
        ``event_id``, its privacy applied: what actually ran for the unit. When the
        serializer refuses a value, the event's dict instead, for the codec to encode and
        repair."""
        shared = pending[: self._shared]
        try:
            form = self._forms[shared]
        except (KeyError, TypeError):  # a new resolution, or a value that cannot be a key
            form = self._new_form(shared)
        # timestamp, unit id, latency ... errorType, then the attributes' names and values
        own = pending[self._shared :]
        if self.privacy is not None:
            own = _private(own, self.privacy)
        timestamp = rfc3339(own[0])
        line = _line(form, event_id, timestamp, own)
        return _event(form, event_id, timestamp, own) if line is None else line

    def _new_form(self, shared: tuple[Any, ...]) -> ExposureForm:
        form = ExposureForm(self, shared)
        if form.reusable:
            forms = self._forms
            if len(forms) >= CACHE_SIZE:
                forms.clear()
            forms[shared] = form
        return form


def _private(own: tuple[Any, ...], privacy: Privacy) -> tuple[Any, ...]:
    """An exposure's own values with the unit id hashed and the attributes dropped or
    hashed."""
    attributes = privacy.attributes_of(_attributes(own[_OWN:]))
    return (
        own[0], privacy.unit_id(own[1]), *own[2:_OWN],
        *chain.from_iterable(attributes.items()),
    )  # fmt: skip


def _attributes(named: Sequence[Any]) -> dict[str, Any]:
    """The attributes held as names and values in turn, as a new dict."""
    return dict(zip(named[::2], named[1::2], strict=True))


def _line(form: ExposureForm, event_id: str, timestamp: str, own: tuple[Any, ...]) -> bytes | None:
    """An exposure's JSON line, without its newline (None: the serializer refused a value,
    and the event's dict is encoded, and repaired, instead). ``own`` is the pending
    exposure's own values (see PendingExposure): its time as recorded, unit id, latency ...
    errorType, then the attributes' names and values in turn."""
    (_, unit, latency, first_token, cost, prompt, completion, error,
     error_type) = own if len(own) == _OWN else own[:_OWN]  # fmt: skip
    if form.head is None:
        return None
    try:
        return b"".join((
            # an event id and an RFC 3339 timestamp are printable ASCII without a quote
            # or a backslash: their JSON is their text in quotes
            b'{"event":"exposure","eventId":"', event_id.encode(),
            b'","timestamp":"', timestamp.encode(), form.head,
            # (the usual types inline: text needs no options, a float only inf_nan_mode)
            to_json(unit) if type(unit) is str else _json(unit), form.middle,
            to_json(latency, inf_nan_mode="null") if type(latency) is float
            else _json(latency),
            b',"timeToFirstTokenMs":', _NULL if first_token is None else _json(first_token),
            b',"estimatedCost":', to_json(cost, inf_nan_mode="null") if type(cost) is float
            else _json(cost),
            b',"promptTokens":', _NULL if prompt is None else _json(prompt),
            b',"completionTokens":', _NULL if completion is None else _json(completion),
            b',"error":', b"true" if error is True else b"false" if error is False
            else _json(error),
            b',"errorType":', _NULL if error_type is None else _json(error_type),
            b',"attributes":', b"{}}" if len(own) == _OWN
            else _json(_attributes(own[_OWN:])) + b"}",
        ))  # fmt: skip
    except Exception:  # the serializer refused a value: the dict's encoding repairs it
        return None


def _event(form: ExposureForm, event_id: str, timestamp: str, own: tuple[Any, ...]) -> Event:
    """An exposure as a new dict (``own`` as for :func:`_line`)."""
    (_, unit, latency, first_token, cost, prompt, completion, error, error_type,
     *named) = own  # fmt: skip
    event = form.event.copy()
    event["eventId"] = event_id
    event["timestamp"] = timestamp
    event["unitId"] = unit
    event["latencyMs"] = latency
    event["timeToFirstTokenMs"] = first_token
    event["estimatedCost"] = cost
    event["promptTokens"] = prompt
    event["completionTokens"] = completion
    event["error"] = error
    event["errorType"] = error_type
    event["attributes"] = _attributes(named)
    return event
