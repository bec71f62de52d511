"""``Exposure``: one exposure being recorded, cheap on the request path.

It keeps references and a few numbers; when it is sent it queues a snapshot of plain values
(:meth:`~modelflags.evidence.exposure_lines.ExposureLines.pending`: the evaluation's facts,
the route fields of the value that ran, the allowed context attributes, what was measured),
which the background thread writes as a JSON line (no event dict in between).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from modelflags.evidence.problems import log_details

if TYPE_CHECKING:
    from modelflags.evidence.recorder import Evidence

__all__ = ["Exposure", "count", "number", "snapshot"]


class Exposure:
    """One exposure being recorded; see :meth:`Evidence.exposure`.

    Used with ``with``, the event is sent when the block ends; otherwise :meth:`record`
    sends it at once. Recording never raises into the application.
    """

    # Slots, not a dict: one object fewer for the garbage collector per request.
    __slots__ = (
        "_attributes", "_context", "_cost", "_details", "_error", "_error_type", "_evidence",
        "_fallback_reason", "_latency", "_open", "_sent", "_start", "_tokens", "_value",
        "_variation",
    )  # fmt: skip

    def __init__(self, evidence: Evidence, details: Any, context: Any) -> None:
        self._evidence = evidence
        self._details = details
        self._context = context
        self._variation: str | None = None
        self._fallback_reason: str | None = None
        self._value: Any = None
        self._latency: float | None = None
        self._cost: float | None = None
        self._tokens: tuple[int | None, int | None, float | None] | None = None  # a model call's
        self._error = False
        self._error_type: str | None = None
        self._attributes: dict[str, Any] | None = None
        self._start = 0.0
        self._open = False
        self._sent = False

    def __enter__(self) -> Exposure:
        self._open = True
        self._start = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: object, tb: object
    ) -> Literal[False]:
        if exc_type is not None:
            self._error = True
            self._error_type = exc_type.__name__
        if self._latency is None:
            self._latency = (time.perf_counter() - self._start) * 1000.0
        self._open = False
        self._send()
        return False  # an exception in the block is re-raised

    def fallback(self, variation: str, *, reason: str | None = None, value: Any = None) -> None:
        """The unit was served ``variation`` instead of its assigned one (``reason`` why).

        The route fields come from ``value``, else from the flag's own variation, read
        through the provider the evidence is bound to or, unbound, the live providers that
        know the flag (a warning, once per flag, says when none can tell).
        """
        try:
            self._variation = variation
            self._fallback_reason = reason or "fallback"
            if value is None:
                flag_key = getattr(self._details, "flag_key", None)
                value = self._evidence._attribution.variation_value(flag_key, variation)
            self._value = value
        except Exception as error:
            log_details("error", "recording a fallback failed", {"error": repr(error)})

    def record(
        self,
        *,
        latency_ms: float | None = None,
        estimated_cost: float | None = None,
        error: bool | None = None,
        error_type: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        time_to_first_token_ms: float | None = None,
        **attributes: Any,
    ) -> None:
        """Set what was measured; extra keywords become ``attributes``.

        ``prompt_tokens`` and ``completion_tokens`` (counts, from the model's ``usage``) and
        ``time_to_first_token_ms`` (of a streamed answer) are the model call's own fields;
        a count that is not a whole number of zero or more is left null.
        """
        if latency_ms is not None:
            self._latency = number(latency_ms)
        if estimated_cost is not None:
            self._cost = number(estimated_cost)
        if prompt_tokens is not None or completion_tokens is not None:
            self._set_tokens(prompt_tokens, completion_tokens, None)
        if time_to_first_token_ms is not None:
            self._set_tokens(None, None, number(time_to_first_token_ms))
        if error is not None:
            self._error = bool(error)
        if error_type is not None:
            self._error, self._error_type = True, str(error_type)
        if attributes:
            if self._attributes is None:
                self._attributes = {}
            self._attributes.update(attributes)
        if not self._open:
            self._send()

    def _set_tokens(
        self, prompt: int | None, completion: int | None, first_token_ms: float | None
    ) -> None:
        """Merge what is given into the token fields (a None leaves a field as it was)."""
        old_prompt, old_completion, old_first = self._tokens or (None, None, None)
        self._tokens = (
            old_prompt if prompt is None else count(prompt),
            old_completion if completion is None else count(completion),
            old_first if first_token_ms is None else first_token_ms,
        )

    def _send(self) -> None:
        if self._sent:
            return
        self._sent = True
        try:
            evidence = self._evidence
            details, context = self._details, self._context
            fell_back = self._fallback_reason is not None
            attributes = self._attributes
            if evidence._context_attributes:  # keywords given to record() win over these
                copied = snapshot(context, evidence._context_attributes)
                if copied:
                    attributes = dict(copied) | (attributes or {})
            try:
                pending = evidence._lines.pending(
                    details, context, time.time(), self._variation if fell_back else None,
                    self._fallback_reason,
                    self._value if fell_back else getattr(details, "value", None),
                    self._latency, self._cost, self._tokens, self._error, self._error_type,
                    attributes,
                )  # fmt: skip
            except Exception as error:  # an evaluation result that cannot be read
                evidence._dispatcher.overflow.not_built(error)
                return
            evidence._dispatcher.submit(pending)
        except Exception as error:
            log_details("error", "recording an exposure failed", {"error": repr(error)})


def snapshot(context: Any, names: tuple[str, ...]) -> list[tuple[str, Any]] | None:
    """The ``names`` present in a context's attributes, with their values as they are now.

    ``context`` is an OpenFeature ``EvaluationContext`` (its ``attributes``) or a plain
    mapping (the direct path). Lists and dicts are copied, so that mutating the context
    later does not change the event.
    """
    attributes = getattr(context, "attributes", None)
    if not isinstance(attributes, Mapping):
        attributes = context if isinstance(context, Mapping) else None
    if not attributes:
        return None
    return [(name, _copied(attributes[name])) for name in names if name in attributes]


def _copied(value: Any) -> Any:
    kind = type(value)
    return value.copy() if kind is list or kind is dict else value


def count(value: Any) -> int | None:
    """A token count: a whole number of zero or more, or None for anything else."""
    if type(value) is int and value >= 0:
        return value
    return None


def number(value: Any) -> float | None:
    """A number for a numeric field, or None for anything that is not one."""
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
