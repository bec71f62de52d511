"""The live flag set of a source: loaded once, then kept current by polling.

A valid change swaps the whole :class:`FlagSet` in one reference assignment (atomic for
readers, no lock on the evaluation path) and reports exactly which flags changed. An
invalid change keeps the last good flag set serving and reports the located errors once.

Reloads are serialised: the poller and :meth:`FlagStore.reload` fetch and swap under one
lock, so flags are swapped in the order they were read and the last valid edit wins. Every
reload is numbered (:attr:`Reload.sequence`), so a listener can drop a report that arrives
after a newer one. A process forked while a store polls (gunicorn ``--preload``,
``multiprocessing`` with ``fork``) starts a poller of its own in the child: threads do not
survive ``fork``.

Problems and reloads are logged through :mod:`logging` (logger ``modelflags.store``); the
application decides the level, the handler and the destination.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from modelflags.engine.flagset import FlagSet
from modelflags.errors import FlagFileError, ModelFlagsError, SourceError
from modelflags.loader.config import LoadedConfig, load, load_snapshot
from modelflags.loader.source import Source, SourceSpec
from modelflags.loader.sources import open_source
from modelflags.schema.conditions import segments_used
from modelflags.schema.models import Flag, FlagFile

__all__ = ["FlagStore", "Reload", "changed_flags", "load_flags"]

log = logging.getLogger("modelflags.store")

LOCAL_POLL_SECONDS = 0.25
REMOTE_POLL_SECONDS = 15.0
SETTLE_SECONDS = 0.05


@dataclass(frozen=True)
class Reload:
    """What one reload found: new contents (``loaded``) and the flags they changed, or the
    error that kept the old flags serving.

    ``sequence`` numbers the reloads of a store in the order they ran (0: none ran);
    ``notify`` says whether this one changed what listeners were last told: flags changed,
    a new error, or a recovery.
    """

    loaded: bool = False
    changed: tuple[str, ...] = ()
    error: ModelFlagsError | None = None
    sequence: int = 0
    notify: bool = False


def load_flags(source: SourceSpec, *, clock: Callable[[], float] | None = None) -> FlagSet:
    """Load and compile a flag source once (no watching): the direct evaluation path.

    A path or URL is closed once read; a :class:`Source` given is left open for its owner.

    >>> flags = load_flags("flags/")                                   # doctest: +SKIP
    >>> key, context = "support_answer_model_route", {"targetingKey": "c1"}  # doctest: +SKIP
    >>> flags.evaluate(key, context).variant                           # doctest: +SKIP
    'control'
    """
    return _compile(load(source), clock)


def _compile(loaded: LoadedConfig, clock: Callable[[], float] | None) -> FlagSet:
    return FlagSet.from_config(loaded.config, version=loaded.version, clock=clock)


class FlagStore:
    """The current flags of one source, reloaded by a background poller.

    ``on_reload`` is called from the poller thread with each :class:`Reload` that has
    ``notify`` set; the provider turns them into OpenFeature events. The store owns its
    source, even one given as a :class:`Source`: :meth:`stop` closes it.
    """

    def __init__(
        self,
        source: SourceSpec,
        *,
        poll_interval: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._spec = source
        self._source: Source | None = None
        self._poll_interval = poll_interval
        self._clock = clock
        self._lock = threading.Lock()  # one reload (fetch, compile, swap, report) at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._polling: tuple[float, Callable[[Reload], None]] | None = None
        self._sequence = 0
        self._reported: str | None = None  # the error listeners were last told of
        self._invalid: ModelFlagsError | None = None  # why the source's current contents failed
        self.flags: FlagSet | None = None
        """The flag set being served; replaced whole on every valid change."""
        _LIVE.add(self)

    @property
    def source_name(self) -> str:
        return self._source.name if self._source else str(self._spec)

    def load(self) -> FlagSet:
        """Load the source for the first time; raises the located error when it is invalid."""
        with self._lock:
            if self._source is None:
                self._source = open_source(self._spec)
            self.flags = _compile(load(self._source), self._clock)
            return self.flags

    def swap(self, flags: FlagSet) -> FlagSet:
        """Serve ``flags`` instead (until the next change); returns what was served."""
        with self._lock:
            old = self.flags
            if old is None:
                raise ModelFlagsError("the flag store is not loaded")
            self.flags = flags
            return old

    def reload(self, *, settle: float = 0.0) -> Reload:
        """Read the source once and swap in a valid change; never raises.

        With ``settle`` (seconds), a read that fails is repeated once after that long before
        the source is called invalid: an editor saving in place can be caught mid-write.
        """
        with self._lock:
            result = self._fetch()
            if result.error is not None and settle > 0 and not self._stop.wait(settle):
                result = self._fetch()  # the later look is the truth
            self._sequence += 1
            return self._report(replace(result, sequence=self._sequence))

    def _fetch(self) -> Reload:
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
            new = _compile(load_snapshot(snapshot, self._source.name), self._clock)
        except FlagFileError as error:
            self._invalid = error
            return Reload(error=error)
        except Exception as error:  # never let the poller die on a surprise
            self._invalid = ModelFlagsError(f"reload failed: {error!r}")
            return Reload(error=self._invalid)
        self._invalid = None
        old, self.flags = self.flags, new
        return Reload(loaded=True, changed=changed_flags(old.config, new.config))

    def _report(self, result: Reload) -> Reload:
        """Log what is new about ``result`` once, and mark it for listeners."""
        source = self.source_name
        if result.error is not None:
            message = str(result.error)
            if message == self._reported:
                return result
            self._reported = message
            log.error("flag source %s is invalid; serving the last good flags: %s",
                      source, message, extra={"source": source, "error": message})  # fmt: skip
            return replace(result, notify=True)
        recovered, self._reported = self._reported is not None, None
        if recovered:
            log.info("flag source %s is valid again", source, extra={"source": source})
        if result.changed:
            log.info("flags reloaded from %s; changed: %s", source, ", ".join(result.changed),
                     extra={"source": source, "changed": list(result.changed)})  # fmt: skip
        return replace(result, notify=recovered or bool(result.changed))

    def start(self, on_reload: Callable[[Reload], None]) -> None:
        """Start polling in a daemon thread (the interval depends on the source kind)."""
        if self._thread is not None or self._source is None:
            return
        interval = self._poll_interval
        if interval is None:
            interval = REMOTE_POLL_SECONDS if self._source.is_remote else LOCAL_POLL_SECONDS
        if interval <= 0:
            return
        self._polling = (interval, on_reload)
        self._start_thread()

    def _start_thread(self) -> None:
        assert self._polling is not None
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._poll, args=self._polling, name="modelflags-poller", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and close the source (a later :meth:`load` reads it again)."""
        self._polling = None
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        if self._source is not None:
            self._source.close()

    def _poll(self, interval: float, on_reload: Callable[[Reload], None]) -> None:
        while not self._stop.wait(interval):
            result = self.reload(settle=SETTLE_SECONDS)
            if not result.notify:
                continue
            try:
                on_reload(result)
            except Exception as error:
                log.error("reload callback failed: %r", error, extra={"source": self.source_name})

    def _after_fork_in_child(self) -> None:
        """The child of a fork has no poller thread, and a lock the parent's poller held
        would stay held: start afresh, polling again if the parent was."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if self._source is not None:
            self._source.after_fork()
        if self._polling is not None:
            self._start_thread()


_LIVE: weakref.WeakSet[FlagStore] = weakref.WeakSet()
"""Every store not yet garbage-collected: the ones a forked child must restart."""


def _restart_in_child() -> None:
    for store in list(_LIVE):
        try:
            store._after_fork_in_child()
        except Exception:  # a fork must not fail because one store could not restart
            log.exception("could not restart polling of %s after fork", store.source_name)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_restart_in_child)


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
