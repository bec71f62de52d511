"""Flag lookups: what a provider offers the evidence, and the registry of the live ones.

An :class:`~modelflags.evidence.Evidence` bound to a provider (``ModelFlagsProvider(source,
evidence=...)`` binds it) asks that provider for a flag's evaluation or a variation's value.
An Evidence that is not bound asks the live providers instead: a provider registers itself
here when it initializes and leaves at shutdown. The registry holds weak references, so a
provider dropped without a shutdown leaves too. The evidence package knows providers only
through the :class:`FlagLookup` protocol; it never imports them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = ["Answer", "FlagLookup", "ask", "live_lookups", "register", "unregister"]

T = TypeVar("T")


class FlagLookup(Protocol):
    """What a provider offers the evidence: evaluate a flag, read a variation's value."""

    def evaluate_for_evidence(self, flag_key: str, context: Any) -> Any:
        """The evaluation result of ``flag_key`` for ``context`` (details-like), or None."""
        ...

    def variation_value(self, flag_key: str, variation: str) -> Any:
        """The value of one variation of a flag, or None when unknown."""
        ...


_lock = threading.Lock()  # providers initialize and shut down from any thread
_live: weakref.WeakSet[FlagLookup] = weakref.WeakSet()


def register(lookup: FlagLookup) -> None:
    """Offer ``lookup`` to every Evidence that is not bound to a provider."""
    with _lock:
        _live.add(lookup)


def unregister(lookup: FlagLookup) -> None:
    """Withdraw ``lookup`` (idempotent)."""
    with _lock:
        _live.discard(lookup)


def live_lookups() -> list[FlagLookup]:
    """The registered lookups still alive, as a list safe to iterate."""
    with _lock:
        return list(_live)


Problem = Literal["unknown", "ambiguous"]


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What the lookups said: the ``value`` (None when there is none) or the ``problem``:
    ``unknown`` (no lookup had an answer) or ``ambiguous`` (lookups disagreed)."""

    value: T | None
    problem: Problem | None


def ask(
    lookups: Iterable[FlagLookup],
    question: Callable[[FlagLookup], T | None],
    same: Callable[[T], Any],
) -> Answer[T]:
    """Ask every lookup ``question``; the answer when those that have one agree.

    ``same`` says what must agree, compared with ``==`` (the whole value, or an evaluation's
    variant and config version): when two live providers serve different files for one flag
    key, the evidence must not claim either one's answer.
    """
    answers = [answer for answer in map(question, lookups) if answer is not None]
    if not answers:
        return Answer(None, "unknown")
    first = same(answers[0])
    if any(same(answer) != first for answer in answers[1:]):
        return Answer(None, "ambiguous")
    return Answer(answers[0], None)
