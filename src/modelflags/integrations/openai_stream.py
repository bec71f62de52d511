"""Streamed completions, measured without changing what the application iterates.

The router hands back the client's own ``openai.Stream`` (or ``AsyncStream``) object: only
the iterator inside it is wrapped, so the application's loop, ``with`` block and
``close()`` work as before and ``isinstance`` still holds. The wrapper notes the time of
the first chunk that carries a token (``timeToFirstTokenMs``) and the usage chunk, and sends
the exposure once, when the stream ends: read to its end, failed (the error recorded, then
re-raised unchanged), closed early, or dropped unread (``streamIncomplete: true`` in the
exposure's attributes for the last two).

When the router asked for the usage chunk itself (``stream_options={"include_usage":
True}``, because the application did not set ``stream_options``), that chunk, which has no
choices, is kept from the application: it sees the chunks it would have seen without it.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any, TypeVar

from modelflags.integrations.openai_routing import RouteCall, log, usage_count

__all__ = ["StreamWatch", "watch_async_stream", "watch_stream"]

S = TypeVar("S")


class StreamWatch:
    """What one stream showed so far; :meth:`end` records it, once."""

    first_token_ms: float | None = None
    prompt: int | None = None
    completion: int | None = None
    done = False

    def __init__(self, call: RouteCall, *, hide_usage: bool) -> None:
        self.call = call
        self.hide_usage = hide_usage

    def saw(self, chunk: Any) -> bool:
        """Note a chunk; False when it is the usage chunk the application did not ask for."""
        try:
            if self.first_token_ms is None and _has_token(chunk):
                self.first_token_ms = self.call.elapsed_ms()
            usage = getattr(chunk, "usage", None)
            if usage is None:
                return True
            self.prompt = usage_count(usage, "prompt_tokens")
            self.completion = usage_count(usage, "completion_tokens")
            return not (self.hide_usage and not getattr(chunk, "choices", None))
        except Exception as error:  # measuring must never break the application's loop
            log.error("measuring a stream chunk failed: %r", error)
            return True

    def end(self, error: BaseException | None, incomplete: bool = False) -> None:
        """Record the exposure (idempotent): the stream ended, failed or was let go."""
        if self.done:
            return
        self.done = True
        extra = {"streamIncomplete": True} if incomplete else {}
        self.call.record(error, self.prompt, self.completion, self.first_token_ms, **extra)


def watch_stream(stream: S, watch: StreamWatch) -> S:
    """``stream`` itself, its chunks now measured by ``watch``."""
    try:
        chunks = getattr(stream, "_iterator", None)
        if chunks is None:
            return _unmeasurable(stream, watch)
        close = stream.close  # type: ignore[attr-defined]

        def close_early() -> None:
            try:
                close()
            finally:
                watch.end(None, incomplete=True)

        stream._iterator = _measured(chunks, watch)  # type: ignore[attr-defined]
        stream.close = close_early  # type: ignore[attr-defined]
        weakref.finalize(stream, watch.end, None, True).atexit = False
    except Exception as error:
        log.error("measuring a stream failed: %r", error)
    return stream


def watch_async_stream(stream: S, watch: StreamWatch) -> S:
    """The async twin of :func:`watch_stream`, for ``openai.AsyncStream``."""
    try:
        chunks = getattr(stream, "_iterator", None)
        if chunks is None:
            return _unmeasurable(stream, watch)
        close = stream.close  # type: ignore[attr-defined]

        async def close_early() -> None:
            try:
                await close()
            finally:
                watch.end(None, incomplete=True)

        stream._iterator = _measured_async(chunks, watch)  # type: ignore[attr-defined]
        stream.close = close_early  # type: ignore[attr-defined]
        weakref.finalize(stream, watch.end, None, True).atexit = False
    except Exception as error:
        log.error("measuring a stream failed: %r", error)
    return stream


def _measured(chunks: Iterator[Any], watch: StreamWatch) -> Iterator[Any]:
    try:
        for chunk in chunks:
            if watch.saw(chunk):
                yield chunk
    except GeneratorExit:  # closed before its end
        watch.end(None, incomplete=True)
        _close(chunks)
        raise
    except BaseException as error:
        watch.end(error)
        raise
    watch.end(None)


async def _measured_async(chunks: AsyncIterator[Any], watch: StreamWatch) -> AsyncIterator[Any]:
    try:
        async for chunk in chunks:
            if watch.saw(chunk):
                yield chunk
    except GeneratorExit:  # closed before its end (``aclose``, or the loop's finaliser)
        watch.end(None, incomplete=True)
        await _aclose(chunks)
        raise
    except BaseException as error:
        watch.end(error)
        raise
    watch.end(None)


async def _aclose(chunks: AsyncIterator[Any]) -> None:
    """The async twin of :func:`_close`: ``openai.AsyncStream`` reads its chunks from an
    async generator, whose ``aclose()`` closes the HTTP response."""
    if isinstance(chunks, AsyncGenerator):
        await chunks.aclose()


def _close(chunks: Iterator[Any]) -> None:
    """Close the client's chunk iterator, which closes its HTTP response.

    ``openai.Stream`` reads its chunks from a generator (its ``__stream__``), whose
    ``close()`` runs the generator's cleanup; an iterator that is not a generator has no
    such cleanup to run, and ``Stream.close()`` still closes the response itself.
    """
    if isinstance(chunks, Generator):
        chunks.close()


_unmeasurable_warned: list[bool] = []


def _unmeasurable(stream: S, watch: StreamWatch) -> S:
    """A stream of a client version whose iterator cannot be wrapped: recorded now, when the
    response's headers arrived, without tokens (warned once)."""
    if not _unmeasurable_warned:
        _unmeasurable_warned.append(True)
        log.warning("this openai version's streams cannot be measured: recorded without tokens")
    watch.end(None)
    return stream


def _has_token(chunk: Any) -> bool:
    for choice in getattr(chunk, "choices", None) or ():
        delta = getattr(choice, "delta", None)
        if delta is not None and (
            getattr(delta, "content", None)
            or getattr(delta, "tool_calls", None)
            or getattr(delta, "refusal", None)
            or getattr(delta, "function_call", None)
        ):
            return True
    return False
