"""Helpers for testing code that uses modelflags: flags without files, and forced arms.

Build a provider from inline YAML (or a dict) and force a flag to one variation, so an
application's tests cover both arms of its own code::

    from openfeature import api
    from modelflags.testing import provider_from_yaml, force

    provider = provider_from_yaml(FLAGS_YAML)
    api.set_provider_and_wait(provider)
    with force(provider, "support_answer_model_route", "candidate"):
        ...  # every evaluation of that flag now serves 'candidate'
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from modelflags.engine.flagset import FlagSet
from modelflags.errors import ModelFlagsError, did_you_mean
from modelflags.loader.sources import InlineSource
from modelflags.provider import ModelFlagsProvider
from modelflags.store import load_flags

__all__ = ["flags_from_yaml", "force", "provider_from_yaml"]


def _text(flags: str | Mapping[str, Any]) -> str:
    if isinstance(flags, str):
        return flags
    # JSON is YAML, and quotes every string: "1e5" or "0o17" stay text under YAML 1.2
    return json.dumps(dict(flags), default=str)


def provider_from_yaml(flags: str | Mapping[str, Any], **options: Any) -> ModelFlagsProvider:
    """A provider serving flags given as YAML text or as the equivalent dict.

    ``options`` are passed to :class:`ModelFlagsProvider` (``evidence``, ``clock``).
    """
    return ModelFlagsProvider(InlineSource(_text(flags)), poll_interval=0, **options)


def flags_from_yaml(flags: str | Mapping[str, Any], **options: Any) -> FlagSet:
    """A :class:`FlagSet` (the direct path) from YAML text or a dict."""
    return load_flags(InlineSource(_text(flags)), **options)


@contextmanager
def force(target: ModelFlagsProvider | FlagSet, flag_key: str, variation: str) -> Iterator[FlagSet]:
    """Serve ``variation`` of ``flag_key`` to everyone inside the ``with`` block.

    The flag keeps its metadata and type checks; evaluations report reason ``STATIC`` and rule
    ``default`` (see :meth:`~modelflags.engine.compiled.CompiledFlag.forced`). For a
    provider, the forced flag set is served until the block ends (or the next reload of a
    watched source); for a FlagSet, the forced copy is yielded.
    """
    current = target.flags if isinstance(target, ModelFlagsProvider) else target
    if current is None:
        raise ModelFlagsError("initialize the provider before forcing a flag")
    flag = current.flags.get(flag_key)
    if flag is None:
        raise ModelFlagsError(f"unknown flag '{flag_key}'; {did_you_mean(flag_key, current.flags)}")
    if variation not in flag.values:
        known = ", ".join(flag.values)
        hint = did_you_mean(variation, flag.values)
        raise ModelFlagsError(
            f"flag '{flag_key}' has no variation '{variation}' (known: {known})"
            + (f"; {hint}" if hint else "")
        )
    flags = FlagSet(
        {**current.flags, flag_key: flag.forced(variation)},
        config=current.config,
        version=current.version,
        clock=current.clock,
    )
    if isinstance(target, FlagSet):
        yield flags
        return
    previous = target._store.swap(flags)
    try:
        yield flags
    finally:
        target._store.swap(previous)
