"""The live flag set of a source: loaded once, then kept current by polling.

A valid change swaps the whole :class:`FlagSet` in one reference assignment (atomic for
readers, no lock on the evaluation path) and reports exactly which flags changed. An
invalid change keeps the last good flag set serving and reports the located errors once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from modelflags.engine.flagset import FlagSet
from modelflags.errors import FlagFileError, ModelFlagsError, SourceError
from modelflags.loader.config import LoadedConfig, load_snapshot
from modelflags.loader.sources import Source, open_source
from modelflags.schema.conditions import segments_used
from modelflags.schema.models import Flag, FlagFile

__all__ = ["FlagStore", "Reload", "changed_flags", "load_flags"]

log = structlog.get_logger("modelflags")

LOCAL_POLL_SECONDS = 0.25
REMOTE_POLL_SECONDS = 15.0
SETTLE_SECONDS = 0.05


@dataclass(frozen=True)
class Reload:
    """What one poll found: new contents (``loaded``) and the flags they changed, or the
    error that kept the old flags serving."""

    loaded: bool = False
    changed: tuple[str, ...] = ()
    error: ModelFlagsError | None = None


def load_flags(
    source: str | os.PathLike[str] | Source, *, clock: Callable[[], float] | None = None
) -> FlagSet:
    """Load and compile a flag source once (no watching): the direct evaluation path.

    >>> flags = load_flags("flags/")                                   # doctest: +SKIP
    >>> flags.evaluate("support_answer_model_route", {"targetingKey": "c1"}).variant
    'control'
    """
    snapshot = open_source(source).fetch()
    assert snapshot is not None  # a first fetch always returns the contents
    return _compile(load_snapshot(snapshot), clock)


def _compile(loaded: LoadedConfig, clock: Callable[[], float] | None) -> FlagSet:
    return FlagSet.from_config(loaded.config, version=loaded.version, clock=clock)


class FlagStore:
    """The current flags of one source, reloaded by a background poller.

    ``on_reload`` is called from the poller thread with each :class:`Reload` that changed
    something (new flags, or a new error); the provider turns them into OpenFeature events.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Source,
        *,
        poll_interval: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._spec = source
        self._source: Source | None = None
        self._poll_interval = poll_interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None
        self._invalid: ModelFlagsError | None = None  # why the source's current contents failed
        self.flags: FlagSet | None = None
        """The flag set being served; replaced whole on every valid change."""

    @property
    def source_name(self) -> str:
        return self._source.name if self._source else str(self._spec)

    def load(self) -> FlagSet:
        """Load the source for the first time; raises the located error when it is invalid."""
        self._source = open_source(self._spec)
        snapshot = self._source.fetch()
        assert snapshot is not None
        self.flags = _compile(load_snapshot(snapshot), self._clock)
        return self.flags

    def swap(self, flags: FlagSet) -> FlagSet:
        """Serve ``flags`` instead (until the next change); returns what was served."""
        old = self.flags
        if old is None:
            raise ModelFlagsError("the flag store is not loaded")
        self.flags = flags
        return old

    def reload(self) -> Reload:
        """Poll the source once; swap in a valid change. Never raises."""
        if self._source is None or self.flags is None:
            return Reload(error=ModelFlagsError("the flag store is not loaded"))
        try:
            snapshot = self._source.fetch()
        except SourceError as error:  # contents unknown: the last verdict on them stands
            return Reload(error=error)
        except Exception as error:  # never let the poller die on a surprise
            return Reload(error=ModelFlagsError(f"reload failed: {error!r}"))
        if snapshot is None:
            # Unchanged since the last fetch: still valid, or still invalid with the same
            # error (an unchanged invalid file must not read as a recovery).
            return Reload(error=self._invalid)
        try:
            new = _compile(load_snapshot(snapshot), self._clock)
        except FlagFileError as error:
            self._invalid = error
            return Reload(error=error)
        except Exception as error:  # never let the poller die on a surprise
            self._invalid = ModelFlagsError(f"reload failed: {error!r}")
            return Reload(error=self._invalid)
        self._invalid = None
        old, self.flags = self.flags, new
        return Reload(loaded=True, changed=changed_flags(old.config, new.config))

    def start(self, on_reload: Callable[[Reload], None]) -> None:
        """Start polling in a daemon thread (the interval depends on the source kind)."""
        if self._thread is not None or self._source is None:
            return
        interval = self._poll_interval
        if interval is None:
            interval = REMOTE_POLL_SECONDS if self._source.is_remote else LOCAL_POLL_SECONDS
        if interval <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._poll, args=(interval, on_reload), name="modelflags-poller", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and release the source."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        close = getattr(self._source, "close", None)
        if callable(close):
            close()

    def _poll(self, interval: float, on_reload: Callable[[Reload], None]) -> None:
        while not self._stop.wait(interval):
            result = self.reload()
            if result.error is not None and not self._stop.wait(SETTLE_SECONDS):
                # An editor saving in place can be caught mid-write: look once more
                # before calling the source invalid.
                retry = self.reload()
                if retry.loaded or retry.error is not None:
                    result = retry
            if result.error is not None:
                message = str(result.error)
                if message == self._last_error:
                    continue  # report each distinct error once, not once per poll
                self._last_error = message
                log.error("flag source invalid; serving the last good flags",
                          source=self.source_name, error=message)  # fmt: skip
            elif result.changed or self._last_error is not None:
                if self._last_error is not None:
                    log.info("flag source valid again", source=self.source_name)
                self._last_error = None
                log.info("flags reloaded", source=self.source_name, changed=list(result.changed))
            else:
                continue
            try:
                on_reload(result)
            except Exception as error:
                log.error("reload callback failed", error=repr(error))


def changed_flags(old: FlagFile, new: FlagFile) -> tuple[str, ...]:
    """Keys of flags added, removed or changed, including flags whose segments changed."""
    changed_segments = {
        name
        for name in old.segments.keys() | new.segments.keys()
        if old.segments.get(name) != new.segments.get(name)
    }
    keys = sorted(old.flags.keys() | new.flags.keys())
    return tuple(
        key
        for key in keys
        if old.flags.get(key) != new.flags.get(key)
        or _uses_any(new.flags.get(key), new.segments, changed_segments)
    )


def _uses_any(flag: Flag | None, segments: Mapping[str, Any], names: set[str]) -> bool:
    """Whether ``flag`` uses (directly or through other segments) any segment in ``names``."""
    if flag is None or not names:
        return False
    return not names.isdisjoint(segments_used([flag], segments))
